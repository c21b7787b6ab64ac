"""`RunForm`: the fields of a training run, turned into a `TrainConfig` (validated before anything starts).

Model size presets exist because the FUNIT defaults need a GPU: "Tiny" trains at a few steps per
second on a laptop CPU, enough to watch the losses move.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

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

from trainer.config import TrainConfig
from trainer.losses import LossWeights

APPROACH_TITLES = {"naive": "Naive G2G", "cycle_funit": "CycleFUNIT", "funit2funit": "FUNIT2FUNIT"}
_FUNIT_TINY = {"nf": 8, "n_res_blks": 1, "nf_mlp": 16, "latent_dim": 8, "n_downs_content": 2, "n_downs_class": 2}
_FUNIT_SMALL = {"nf": 32, "n_res_blks": 2, "nf_mlp": 128, "latent_dim": 32, "n_downs_content": 2, "n_downs_class": 3}
# (generator overrides, discriminator overrides) per preset and approach; {} = the architecture's defaults
PRESETS: dict[str, dict[str, tuple[dict[str, Any], dict[str, Any]]]] = {
    "Tiny (CPU, minutes)": {
        "naive": ({"nf": 8, "max_nf": 32, "n_downs": 2, "content_dim": 16, "class_dim": 8, "nf_mlp": 16}, {}),
        "cycle_funit": (_FUNIT_TINY, {"nf": 8, "n_layers": 2}),
        "funit2funit": (_FUNIT_TINY, {"nf": 8, "n_res_blks": 2, "max_nf": 32}),
    },
    "Small": {
        "naive": ({}, {}),
        "cycle_funit": (_FUNIT_SMALL, {"nf": 32, "n_layers": 3}),
        "funit2funit": (_FUNIT_SMALL, {"nf": 32, "n_res_blks": 4, "max_nf": 256}),
    },
    "FUNIT defaults (GPU)": {"naive": ({}, {}), "cycle_funit": ({}, {}), "funit2funit": ({}, {})},
}


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
        for key, title in APPROACH_TITLES.items():
            self.approach.addItem(title, key)
        self.approach.setCurrentIndex(self.approach.findData("funit2funit"))
        self.approach.setToolTip("Naive: symmetric encoders (paper §IV-A); CycleFUNIT: FUNIT nets with a CycleGAN "
                                 "discriminator (§IV-B); FUNIT2FUNIT: FUNIT's GAN with G2G cross-training (§IV-C)")
        form.addRow("Approach:", self.approach)
        self.data = QLineEdit("procedural")
        self.data.setToolTip("'procedural' (the built-in synthetic faces) or a folder with one sub-folder per "
                             "identity, a CelebA root, or a FUNIT list file")
        form.addRow("Dataset:", _path_row(self.data, self._browse_data))
        self.align = QCheckBox("Align faces (MTCNN, as the mixer does; crops cached)")
        self.align.setToolTip("Photo datasets: train on the aligned face crops the mixer will feed the model")
        form.addRow("", self.align)
        self.resume = QLineEdit()
        self.resume.setPlaceholderText("optional: a run folder, a training checkpoint or a FUNIT gen_*.pt")
        form.addRow("Resume from:", _path_row(self.resume, self._browse_resume))
        self.out = QLineEdit()
        self.out.setPlaceholderText("default: ~/g2g_runs/run-<date-time>")
        form.addRow("Output folder:", _path_row(self.out, self._browse_out))
        self.size = QComboBox()
        self.size.addItems(list(PRESETS))
        self.size.setToolTip("Network widths: Tiny trains on a CPU; FUNIT defaults need a GPU")
        form.addRow("Model size:", self.size)
        self.image_size = QComboBox()
        for s in (32, 64, 128):
            self.image_size.addItem(f"{s}×{s}", s)
        self.image_size.setCurrentIndex(1)
        form.addRow("Image size:", self.image_size)
        self.steps = self._spin(1, 10_000_000, 2000, "Total optimizer steps of the run")
        form.addRow("Steps:", self.steps)
        self.batch = self._spin(1, 256, 4, "Pairs per step (the paper's FUNIT2FUNIT: 4)")
        form.addRow("Batch size:", self.batch)
        self.preview_every = self._spin(1, 100_000, 25, "Steps between live preview grids")
        form.addRow("Preview every:", self.preview_every)
        self.checkpoint_every = self._spin(1, 1_000_000, 500, "Steps between training checkpoints")
        form.addRow("Checkpoint every:", self.checkpoint_every)

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

    def _browse_out(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder")
        if folder:
            self.out.setText(folder)

    def approach_key(self) -> str:
        return self.approach.currentData()

    def build_config(self, weights: LossWeights) -> TrainConfig:
        """The run described by the fields; raises ValueError with a one-line message when they are unusable."""
        approach = self.approach_key()
        model, dis = PRESETS[self.size.currentText()][approach]
        data = self.data.text().strip() or "procedural"
        if data != "procedural" and not data.startswith("procedural:") and not Path(data).exists():
            raise ValueError(f"{data}: dataset not found")
        resume = self.resume.text().strip() or None
        if resume is not None and not Path(resume).exists():
            raise ValueError(f"{resume}: checkpoint to resume from not found")
        out = self.out.text().strip() or str(Path.home() / "g2g_runs" / time.strftime("run-%Y%m%d-%H%M%S"))
        return TrainConfig(
            approach=approach, data=data, align=self.align.isChecked() and not data.startswith("procedural"),
            out=out, resume=resume, steps=self.steps.value(),
            batch_size=self.batch.value(), image_size=self.image_size.currentData(), model=dict(model),
            dis=dict(dis), weights=weights, num_workers=0, preview_every=self.preview_every.value(),
            checkpoint_every=self.checkpoint_every.value(),
        )
