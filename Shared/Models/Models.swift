// Models: filled in by its owner
