"""Suite-wide set-up: Qt must never try to open a real display in tests."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("G2G_DEVICE", "cpu")
