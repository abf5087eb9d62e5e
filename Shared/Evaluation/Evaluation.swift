// Evaluation: filled in by its owner
