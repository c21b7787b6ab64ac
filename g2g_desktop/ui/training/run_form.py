"""`RunForm`: the fields of a training run, turned into a `TrainConfig` (validated before anything starts).

Model sizes are `trainer.presets` (the CLI's --preset), defaulting like the CLI: Tiny on the CPU, FUNIT's
on a GPU. The recipe is the CLI's --recipe (how to train, e.g. the identity critic): choosing one sets the
approach, and the panel shows its weights in the Weights table (`recipe_weights`); its other fields (optimizer,
model.norm) go into the config under the form's own. Choosing something to resume fills the form from it: a
run folder gives its own settings, output folder (it continues in place) and step target; a FUNIT gen_*.pt
gives FUNIT2FUNIT at 128 px, steps beyond its iteration, and its sizes ("From the checkpoint").
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from g2g_desktop.core.funit_files import funit_step_from_name
from trainer import approach_registry as registry
from trainer.config import TrainConfig, validate_config
from trainer.loss_weights import LossWeights
from trainer.presets import PRESET_TITLES, RECIPES, default_preset, preset_sizes, recipe_changes
from trainer.state import FUNIT_GEN, run_folder_of

PLAIN = "None (the approach and weights as set)"  # the recipe entry that adds nothing
FROM_CHECKPOINT = "From the checkpoint"  # the size entry while resuming: sizes come from the file
FUNIT_STEPS_MORE = 2000  # steps added to a FUNIT file's iteration when the form asks too few


def _path_row(edit: QLineEdit, browse) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    button = QPushButton("…")
    button.setToolTip("Browse")
    button.setFixedWidth(32)
    button.clicked.connect(browse)
    row.addWidget(button)
    return row


class RunForm(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout(self)
        self.approach = QComboBox()
        for spec in registry.specs():
            self.approach.addItem(spec.title, spec.name)
            self.approach.setItemData(self.approach.count() - 1, spec.description, Qt.ItemDataRole.ToolTipRole)
        self.approach.setCurrentIndex(self.approach.findData(TrainConfig.approach))
        self.approach.setToolTip("; ".join(f"{spec.title}: {spec.description}" for spec in registry.specs()))
        form.addRow("Approach:", self.approach)
        self.recipe = QComboBox()
        self.recipe.addItem(PLAIN, None)
        for key, recipe in RECIPES.items():
            self.recipe.addItem(recipe.title, key)
            self.recipe.setItemData(self.recipe.count() - 1, recipe.description, Qt.ItemDataRole.ToolTipRole)
        self.recipe.setToolTip("How to train: a recipe sets the approach, options and loss weights (Weights tab) "
                               "measured in docs/study.md; None leaves them to you")
        self.recipe.currentIndexChanged.connect(self._recipe_changed)
        form.addRow("Recipe:", self.recipe)
        self.data = QLineEdit("procedural")
        self.data.setToolTip("'procedural' (the built-in synthetic faces) or a folder with one sub-folder per "
                             "identity, a CelebA root, or a FUNIT list file")
        form.addRow("Dataset:", _path_row(self.data, self._browse_data))
        self.align = QCheckBox("Align faces")
        self.align.setToolTip("Photo datasets: train on the MTCNN-aligned face crops the mixer will feed the "
                              "model (the same aligner and template; crops are cached on disk)")
        form.addRow("", self.align)
        self.resume = QLineEdit()
        self.resume.setPlaceholderText("optional: a run folder, a training checkpoint or a FUNIT gen_*.pt")
        self.resume.editingFinished.connect(self.apply_resume_source)
        self._stored: dict[str, Any] | None = None  # config.json of the run folder being resumed
        self._preset_before: str | None = None  # the size chosen before "From the checkpoint" replaced it
        self._applied = ""  # the "Resume from" text the form was last filled from
        form.addRow("Resume from:", _path_row(self.resume, self._browse_resume))
        self.out = QLineEdit()
        self.out.setPlaceholderText("default: ~/g2g_runs/run-<date-time>")
        form.addRow("Output folder:", _path_row(self.out, self._browse_out))
        self.size = QComboBox()
        for key, title in PRESET_TITLES.items():
            self.size.addItem(title, key)
        self.size.setCurrentIndex(self.size.findData(default_preset()))
        self.size.setToolTip("Network widths: Tiny trains on a CPU; FUNIT defaults need a GPU. A resumed run "
                             "or FUNIT file brings its own sizes")
        form.addRow("Model size:", self.size)
        self.image_size = QComboBox()
        for s in (32, 64, 128):
            self.image_size.addItem(f"{s}×{s}", s)
        self.image_size.setCurrentIndex(1)
        form.addRow("Image size:", self.image_size)
        self.steps = self._spin(1, 10_000_000, 2000, "Total optimizer steps of the run")
        form.addRow("Steps:", self.steps)
        self.lord_stage1 = self._spin(1, 10_000_000, TrainConfig.lord_stage1_steps,
                                      "LORD only: steps of stage 1 (codes per person and per image learnt with the "
                                      "decoder) before stage 2 (the encoders distilled to those codes)")
        form.addRow("LORD stage 1 steps:", self.lord_stage1)
        self.approach.currentIndexChanged.connect(self._approach_changed)
        self._approach_changed()
        self.batch = self._spin(1, 256, 4, "Pairs per step (the paper's FUNIT2FUNIT: 4)")
        form.addRow("Batch size:", self.batch)
        self.preview_every = self._spin(1, 100_000, 25, "Steps between live preview grids")
        form.addRow("Preview every:", self.preview_every)
        self.checkpoint_every = self._spin(1, 1_000_000, 500, "Steps between training checkpoints")
        form.addRow("Checkpoint every:", self.checkpoint_every)
        for combo in (self.approach, self.recipe, self.size):  # long titles must not set the dock's minimum
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)  # width, and with it the window's, on a 1024×700 screen

    @staticmethod
    def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setToolTip(tip)
        return spin

    def _browse_data(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder (one sub-folder per identity)")
        if folder:
            self.data.setText(folder)

    def _browse_resume(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Resume from", "", "Checkpoints (*.pt *.safetensors);;All (*)")
        if path:
            self.resume.setText(path)
            self.apply_resume_source()

    def _browse_out(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder")
        if folder:
            self.out.setText(folder)

    def approach_key(self) -> str:
        return self.approach.currentData()

    def recipe_key(self) -> str | None:
        return self.recipe.currentData()

    def recipe_weights(self) -> dict[str, float]:
        """The loss weights the chosen recipe trains with: the defaults under its own (all defaults for None)."""
        changes = recipe_changes(self.recipe_key()) if self.recipe_key() else {}
        return {**LossWeights().to_dict(), **changes.get("weights", {})}

    def _recipe_changed(self) -> None:
        if self.recipe_key():
            approach = recipe_changes(self.recipe_key()).get("approach", self.approach_key())
            self.approach.setCurrentIndex(self.approach.findData(approach))

    def _approach_changed(self) -> None:
        self.lord_stage1.setEnabled("lord_stage1_steps" in registry.get(self.approach_key()).options)

    def apply_resume_source(self) -> None:
        """Fill the form from what "Resume from" names, so what it shows is what will run."""
        text = self.resume.text().strip()
        self._stored, self._applied = None, text
        run_dir = run_folder_of(text) if text else None
        if run_dir is not None:
            try:
                stored = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                stored = None
            if isinstance(stored, dict):
                self._fill_from_run(run_dir, stored)
                return
        if text and FUNIT_GEN.fullmatch(Path(text).name):
            funit = next(spec.name for spec in registry.specs() if spec.funit_files)
            self.approach.setCurrentIndex(self.approach.findData(funit))
            self.image_size.setCurrentIndex(self.image_size.findData(128))
            iteration = funit_step_from_name(Path(text)) or 0
            if self.steps.value() <= iteration:
                self.steps.setValue(iteration + FUNIT_STEPS_MORE)
            self._sizes_from_checkpoint(True)
            return
        self._sizes_from_checkpoint(bool(text))

    def _fill_from_run(self, run_dir: Path, stored: dict[str, Any]) -> None:
        self._stored = stored
        index = self.approach.findData(stored.get("approach"))
        if index >= 0:
            self.approach.setCurrentIndex(index)
        self.data.setText(str(stored.get("data", self.data.text())))
        self.out.setText(str(run_dir))
        for spin, key in ((self.steps, "steps"), (self.batch, "batch_size"), (self.preview_every, "preview_every"),
                          (self.checkpoint_every, "checkpoint_every"), (self.lord_stage1, "lord_stage1_steps")):
            if isinstance(stored.get(key), int):
                spin.setValue(stored[key])
        index = self.image_size.findData(stored.get("image_size"))
        if index >= 0:
            self.image_size.setCurrentIndex(index)
        self._sizes_from_checkpoint(True)

    def _sizes_from_checkpoint(self, on: bool) -> None:
        index = self.size.findText(FROM_CHECKPOINT)
        if on and index < 0:
            self._preset_before = self.size.currentData()
            self.size.addItem(FROM_CHECKPOINT, None)
            self.size.setCurrentIndex(self.size.count() - 1)
        elif not on and index >= 0:
            self.size.removeItem(index)
            self.size.setCurrentIndex(self.size.findData(self._preset_before))
        self.size.setEnabled(not on)

    def build_config(self, weights: LossWeights) -> TrainConfig:
        """The run described by the fields, checked by `validate_config`; ValueError with a one-line message."""
        if self.resume.text().strip() != self._applied:  # typed, not yet applied (no focus change)
            self.apply_resume_source()
        approach = self.approach_key()
        preset = self.size.currentData()
        if preset is not None:
            model, dis = preset_sizes(preset, approach)
        elif self._stored is not None:  # the run's own sizes: a resume that asks for others gets a warning
            model, dis = dict(self._stored.get("model", {})), dict(self._stored.get("dis", {}))
        else:  # a FUNIT file: sizes from its tensors, a fresh discriminator at FUNIT's sizes
            model, dis = {}, {}
        recipe = recipe_changes(self.recipe_key()) if self.recipe_key() else {}
        model = {**model, **recipe.get("model", {})}
        dis = {**dis, **recipe.get("dis", {})}
        options = {k: v for k, v in recipe.items() if k not in ("approach", "model", "dis", "weights")}
        data = self.data.text().strip() or "procedural"
        resume = self.resume.text().strip() or None
        out = self.out.text().strip() or str(Path.home() / "g2g_runs" / time.strftime("run-%Y%m%d-%H%M%S"))
        fields = dict(
            approach=approach, data=data, align=self.align.isChecked() and not data.startswith("procedural"),
            out=out, resume=resume, steps=self.steps.value(),
            batch_size=self.batch.value(), image_size=self.image_size.currentData(), model=model,
            dis=dis, weights=weights, num_workers=0, preview_every=self.preview_every.value(),
            checkpoint_every=self.checkpoint_every.value(), lord_stage1_steps=self.lord_stage1.value(),
        )
        config = TrainConfig(**{**options, **fields})  # the recipe's options (optimizer, …) under the form's fields
        validate_config(config)
        return config
