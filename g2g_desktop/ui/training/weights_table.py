"""`WeightsTable`: every loss weight (`weight_specs()`) in an editable table, usable mid-run.

Generated from the spec table (DeepFaceLive's control sheets, STYLE.md): one spin box per weight with
the spec's range and step. Each weight's name and paper symbol share one column that takes the free width
and wraps ("Identity warm-up steps (δ warm-up)"), never elided: with separate symbol and name columns a
docked panel cut the names to "Percep…" and "Discrim…". Rows the chosen approach does not read are
greyed out. Edits emit `weightEdited(name, value)` and go on the undo stack (the window's, so Ctrl+Z undoes
a weight edit like any other); `set_weights` reflects the engine's values without emitting.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QAbstractItemView, QDoubleSpinBox, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from trainer import approach_registry as registry
from trainer.loss_weights import WeightSpec, weight_specs

from ..undo import SetLossWeightCommand


class WeightsTable(QTableWidget):
    weightEdited = Signal(str, float)

    def __init__(self, parent: QWidget | None = None, *, undo_stack: QUndoStack | None = None):
        specs = weight_specs()  # the fields' rows, then those of weights loss terms added
        super().__init__(len(specs), 2, parent)
        self._specs = specs
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self._symbols = {spec.name: spec.symbol for spec in self._specs}
        self._shown = {spec.name: spec.default for spec in self._specs}  # before the edit in progress
        self.setHorizontalHeaderLabels(["Weight", "Value"])
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # wrapped names
        # the rows follow the name column's width (a dock resized, a theme's scroll bar): Qt re-measures them
        # on their own only when the items change; measured once the header has settled
        self._remeasure = QTimer(self, singleShot=True, interval=0)
        self._remeasure.timeout.connect(self.resizeRowsToContents)
        self.horizontalHeader().sectionResized.connect(self._remeasure.start)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.setWordWrap(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.spins: dict[str, QDoubleSpinBox] = {}
        for row, spec in enumerate(self._specs):
            tip = (f"{spec.symbol} ({spec.name}): {spec.tooltip}\n"
                   f"Default {spec.default:g}; used by {', '.join(registry.readers(spec.name))}.")
            item = QTableWidgetItem(f"{spec.label} ({spec.symbol})")
            item.setToolTip(tip)
            self.setItem(row, 0, item)
            spin = self._spin(spec)
            spin.setToolTip(tip)
            self.setCellWidget(row, 1, spin)
            self.spins[spec.name] = spin

    def _spin(self, spec: WeightSpec) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        decimals = max(0, len(f"{spec.step:g}".partition(".")[2]), 2)
        spin.setDecimals(decimals)
        spin.setRange(spec.minimum, spec.maximum)
        spin.setSingleStep(spec.step)
        spin.setValue(spec.default)
        spin.setKeyboardTracking(False)  # one edit per Enter / arrow, not per typed digit
        spin.valueChanged.connect(lambda value, name=spec.name: self._edited(name, float(value)))
        return spin

    def _edited(self, name: str, value: float) -> None:
        """A user edit becomes an undo step; pushing it runs its redo, which emits `weightEdited`."""
        old, self._shown[name] = self._shown[name], value
        self.undo_stack.push(SetLossWeightCommand(self.apply_edit, name, self._symbols[name], old, value))

    def apply_edit(self, name: str, value: float) -> None:
        """Show `value` and emit it as an edit, without a new undo step (the undo commands use this)."""
        self.set_weights({name: value})
        self.weightEdited.emit(name, value)

    def set_weights(self, weights: dict[str, float]) -> None:
        for name, value in weights.items():
            spin = self.spins.get(name)
            if spin is None:
                continue
            self._shown[name] = value
            if spin.value() != value:
                with QSignalBlocker(spin):
                    spin.setValue(value)

    def weights(self) -> dict[str, float]:
        return {name: spin.value() for name, spin in self.spins.items()}

    def set_approach(self, approach: str) -> None:
        for row, spec in enumerate(self._specs):
            used = approach in registry.readers(spec.name)
            item = self.item(row, 0)
            font = item.font()
            font.setItalic(not used)
            item.setFont(font)
            self.spins[spec.name].setEnabled(used)
