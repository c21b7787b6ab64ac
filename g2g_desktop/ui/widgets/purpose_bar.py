"""`ModelPurposeBar`: one line saying what the loaded model is for when it meets the wrong kind of image.

A model trained on procedural faces turns real photos into noise (and a photo model does the same with
procedural faces); rather than let users think the program is broken, the bar says what the model was
trained on and offers the two ways forward: open another model, or train one on a folder of photos.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


def purpose_text(trained_on: str, photos: list[str], faceless: list[str]) -> str | None:
    """The bar's line, or None when the model and the images fit (or nothing is known)."""
    if trained_on == "procedural" and photos:
        return (f"This model was trained on procedural (synthetic) faces; {_names(photos)} look like real "
                "photos, which need a model trained on photos.")
    if trained_on == "animals" and photos:
        return (f"This is an official FUNIT model, trained on animal faces; {_names(photos)} look like photos "
                "of people, which need a model trained on photos of people.")
    if trained_on == "photos" and faceless:
        return (f"This model was trained on photos of faces; no face was found in {_names(faceless)} "
                "(a procedural or animal image?), so its mix will not be meaningful.")
    return None


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:2]) + (f" and {len(names) - 2} more" if len(names) > 2 else "")
    return shown


class ModelPurposeBar(QFrame):
    openModelRequested = Signal()
    trainRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("modelPurposeBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel(wordWrap=True)
        self.open_button = QPushButton("Open a model…")
        self.open_button.clicked.connect(self.openModelRequested)
        self.train_button = QPushButton("Train on my photos…")
        self.train_button.setToolTip("Open the Training dock with a folder of your photos, aligned faces and a "
                                     "preset that fits this machine")
        self.train_button.clicked.connect(self.trainRequested)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.clicked.connect(self.dismiss)
        buttons = QHBoxLayout()  # under the text, which then wraps at the bar's whole width (not 7 lines at 1024 px)
        buttons.addStretch(1)
        for button in (self.open_button, self.train_button, self.dismiss_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addLayout(buttons)
        self.dismissed: set[str] = set()
        self.hide()

    def show_text(self, text: str | None) -> None:
        """Show `text` (None hides the bar); a text the user dismissed stays hidden."""
        if text is None or text in self.dismissed:
            self.hide()
            return
        self.label.setText(text)
        self.show()

    def dismiss(self) -> None:
        self.dismissed.add(self.label.text())
        self.hide()
