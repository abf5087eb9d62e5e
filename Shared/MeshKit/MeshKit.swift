// MeshKit: filled in by its owner
