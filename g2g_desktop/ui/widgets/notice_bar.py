"""`NoticeBar`: a dismissible message strip above the grid, with optional action buttons.

Used where a modal dialog would interrupt a drop of many files, e.g. "no face found — use the whole
image?" or "2 files could not be opened". One notice shows at a time, except a *kept* one (what the start
did instead of what was asked, e.g. reopening the last session): it stays on top of later notices until
dismissed, so a notice that arrives after it (the model loading, say) cannot wipe it out.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class NoticeBar(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("noticeBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel(wordWrap=True)
        self._layout = QHBoxLayout()  # the buttons, under the text: it wraps at the bar's whole width
        self._layout.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addLayout(self._layout)
        self.buttons: list[QPushButton] = []
        self.kept = ""  # the kept notice shown above the others, until dismissed
        self.hide()

    def show_notice(self, text: str, actions: list[tuple[str, Callable[[], None]]] = (), *,
                    keep: bool = False) -> None:
        if keep:
            shown = self.label.text() if self.isVisible() else ""
            self.kept = text
            if shown:  # the notice already shown stays, with its buttons, under the kept one
                self.label.setText(f"{text}\n{shown}")
                return
        elif self.kept and self.isVisible():
            text = f"{self.kept}\n{text}"
        for button in self.buttons:
            self._layout.removeWidget(button)
            button.deleteLater()
        self.buttons = []
        self.label.setText(text)
        for title, callback in [*actions, ("Dismiss", lambda: None)]:
            button = QPushButton(title)
            button.clicked.connect(callback)
            button.clicked.connect(self.dismiss)
            self._layout.addWidget(button)
            self.buttons.append(button)
        self.show()

    def dismiss(self) -> None:
        self.kept = ""
        self.hide()

    def button(self, title: str) -> QPushButton:
        return next(b for b in self.buttons if b.text() == title)
