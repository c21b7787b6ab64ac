"""The training dock: run the trainer engine on a QThread and watch, steer and reuse its model."""
