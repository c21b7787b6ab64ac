"""`TaskProgress`: a label, a progress bar and a Cancel button for long work (swap matrix, fade export).

Hidden while nothing runs; `start()` shows it, `step()` moves it, `finish()` hides it again.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class TaskProgress(QWidget):
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setFormat("%v / %m")
        self.bar.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the part in progress")
        self.cancel_button.clicked.connect(self.cancelRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, text: str, total: int) -> None:
        self.label.setText(text)
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(0)
        self.cancel_button.setEnabled(True)
        self.show()

    def step(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)

    def finish(self) -> None:
        self.hide()
