"""Training: losses, the three G2G approaches, datasets, the step engine, metrics and CLIs."""
