"""`ExportDialog`: how an export looks (scale and its resampling, labels; for the fade: both mixes, the
number of frames and, for a GIF, whether it plays back and forth), asked before the file name and remembered
for the next export. Under the frame count a line says how many frames the file will hold."""

from __future__ import annotations

from dataclasses import asdict, fields

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from g2g_desktop.services.export import FADE_RANGE, SCALES, ExportOptions, gif_frames

SPAN = f"α from {FADE_RANGE[0]:+.2f} to {FADE_RANGE[1]:+.2f}"


class ExportDialog(QDialog):
    def __init__(self, title: str, options: ExportOptions, *, fade: bool, gif: bool = False,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.gif = gif
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
        self.bounce = QCheckBox("Play forward, then back (a loop with no jump)")
        self.bounce.setChecked(options.bounce)
        self.count = QLabel()
        self.frames.valueChanged.connect(self._count)
        self.bounce.toggled.connect(self._count)
        form = QFormLayout(self)
        form.addRow("Scale:", self.scale)
        form.addRow("Scaling:", self.resampling)
        form.addRow("", self.labels)
        if fade:
            form.addRow("", self.both)
            form.addRow("Frames:", self.frames)
            if gif:
                form.addRow("", self.bounce)
            form.addRow("", self.count)
            self._count()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def options(self) -> ExportOptions:
        return ExportOptions(scale=int(self.scale.currentData()), smooth=bool(self.resampling.currentData()),
                             labels=self.labels.isChecked(), both_mixes=self.both.isChecked(),
                             frames=self.frames.value(), bounce=self.bounce.isChecked())

    def _count(self) -> None:
        """What the file will hold: the GIF's forward-and-back frames counted, not only the fade's."""
        options = self.options()
        if not self.gif:
            self.count.setText(f"{options.frames} PNG files, {SPAN}")
        elif gif_frames(options) == options.frames:
            self.count.setText(f"The GIF holds {options.frames} frames, {SPAN}")
        else:
            self.count.setText(f"The GIF holds {gif_frames(options)} frames: {options.frames} forward ({SPAN}), "
                               f"then {gif_frames(options) - options.frames} back")


def options_from(choices: dict[str, object]) -> ExportOptions:
    """ExportOptions from remembered choices, ignoring unknown keys and bad values."""
    names = {f.name for f in fields(ExportOptions)}
    options = ExportOptions(**{k: v for k, v in choices.items() if k in names})
    return options if options.scale in SCALES and options.frames >= 2 else ExportOptions()


def choices_of(options: ExportOptions) -> dict[str, object]:
    return asdict(options)
