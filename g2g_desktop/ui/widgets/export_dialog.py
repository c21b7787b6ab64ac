"""`ExportDialog`: how an export looks (scale and its resampling, labels; for the fade: both mixes and the
number of frames), asked before the file name and remembered for the next export."""

from __future__ import annotations

from dataclasses import asdict, fields

from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QSpinBox, QWidget

from g2g_desktop.services.export import SCALES, ExportOptions


class ExportDialog(QDialog):
    def __init__(self, title: str, options: ExportOptions, *, fade: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.scale = QComboBox()
        for s in SCALES:
            self.scale.addItem(f"{s}×", s)
        self.scale.setCurrentIndex(max(0, self.scale.findData(options.scale)))
        self.scale.setToolTip("Each model pixel becomes this many pixels across")
        self.resampling = QComboBox()
        self.resampling.addItem("Nearest neighbour (crisp pixels)", False)
        self.resampling.addItem("Bicubic (smooth)", True)
        self.resampling.setCurrentIndex(1 if options.smooth else 0)
        self.labels = QCheckBox("Titles on the image")
        self.labels.setChecked(options.labels)
        self.both = QCheckBox("Both mixes side by side")
        self.both.setChecked(options.both_mixes)
        self.frames = QSpinBox()
        self.frames.setRange(2, 200)
        self.frames.setValue(options.frames)
        form = QFormLayout(self)
        form.addRow("Scale:", self.scale)
        form.addRow("Scaling:", self.resampling)
        form.addRow("", self.labels)
        if fade:
            form.addRow("", self.both)
            form.addRow("Frames:", self.frames)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def options(self) -> ExportOptions:
        return ExportOptions(scale=int(self.scale.currentData()), smooth=bool(self.resampling.currentData()),
                             labels=self.labels.isChecked(), both_mixes=self.both.isChecked(),
                             frames=self.frames.value())


def options_from(choices: dict[str, object]) -> ExportOptions:
    """ExportOptions from remembered choices, ignoring unknown keys and bad values."""
    names = {f.name for f in fields(ExportOptions)}
    options = ExportOptions(**{k: v for k, v in choices.items() if k in names})
    return options if options.scale in SCALES and options.frames >= 2 else ExportOptions()


def choices_of(options: ExportOptions) -> dict[str, object]:
    return asdict(options)
