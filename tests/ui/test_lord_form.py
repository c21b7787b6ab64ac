"""The training dock offers the LORD approach: its title, its stage switch and its weight rows."""

from __future__ import annotations

import pytest

from g2g_desktop.ui.training.run_form import RunForm
from g2g_desktop.ui.training.weights_table import WeightsTable
from trainer.config import TrainConfigError
from trainer.loss_weights import LossWeights


def test_lord_is_an_approach_with_its_own_stage_switch(qtbot, tmp_path):
    form = RunForm()
    qtbot.addWidget(form)
    assert not form.lord_stage1.isEnabled()  # FUNIT2FUNIT by default
    form.approach.setCurrentIndex(form.approach.findData("lord"))
    assert form.approach.currentText() == "LORD (latent optimisation)" and form.lord_stage1.isEnabled()
    form.out.setText(str(tmp_path / "run"))
    form.steps.setValue(300)
    form.lord_stage1.setValue(200)
    config = form.build_config(LossWeights())
    assert (config.approach, config.lord_stage1_steps) == ("lord", 200)
    assert config.model["content_dim"] > 0  # the preset narrows the per-image code
    form.lord_stage1.setValue(300)
    with pytest.raises(TrainConfigError, match="lord_stage1_steps"):
        form.build_config(LossWeights())


def test_the_weights_table_enables_the_rows_lord_reads(qtbot):
    table = WeightsTable()
    qtbot.addWidget(table)
    table.set_approach("lord")
    enabled = {name for name, spin in table.spins.items() if spin.isEnabled()}
    assert enabled == {"alpha", "lambda_short", "lord_noise", "lord_decay", "lambda_embed"}
    assert table.spins["lord_noise"].value() == 1.0 and table.spins["lambda_embed"].value() == 10.0
