// Datasets: filled in by its owner
