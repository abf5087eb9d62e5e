// ComputeCore: filled in by its owner
