"""`ModelInfo`: the Model dock's rows (name, architecture, image size, step, device, weights, file, config)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QSizePolicy, QWidget

from g2g_desktop.services.models import LoadedModel


class ModelInfo(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.show_model(None)

    def show_model(self, model: LoadedModel | None) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        if model is None:
            self.form.addRow(QLabel("No model loaded. File ▸ Open model… (Ctrl+M)", wordWrap=True))
            return
        for key, value in model.details().items():
            label = QLabel(value, wordWrap=True, toolTip=value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            # a long path has no space to wrap at: it may be cut, never widen the window past the screen
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            self.form.addRow(f"{key}:", label)
