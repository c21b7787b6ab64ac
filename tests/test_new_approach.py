"""Issue 22's proof for the approach registry: an approach written in a module of its own, which no file of the
project names, runs through the CLI, a preset, the config check, the weight editor and the Training form once it
has registered its `ApproachSpec`. Here at the top because it crosses trainer and ui."""

from __future__ import annotations

import importlib
import json
import sys

import pytest

from g2g_desktop.ui.training.run_form import RunForm
from g2g_desktop.ui.training.weights_table import WeightsTable
from trainer import approach_registry as registry
from trainer.cli import main
from trainer.config import TrainConfig, TrainConfigError, validate_config
from trainer.loss_weights import LossWeights
from trainer.presets import preset_sizes

TOY_MODULE = "g2g_test_toy_approach"
TOY_TINY = {"nf": 8, "max_nf": 16, "n_downs": 2, "content_dim": 8, "class_dim": 4, "nf_mlp": 8}

TOY_SOURCE = f'''
"""A toy approach: naive's generator, trained on the long reconstruction alone, weighted by γ."""
from g2g_desktop.core.g2g import cross_pass
from g2g_desktop.core.naive import NaiveGenerator
from trainer.approaches.base import Approach, seeded
from trainer.approach_registry import ApproachSpec, register
from trainer.losses import l1


class ToyApproach(Approach):
    def __init__(self, config, num_classes, device):
        super().__init__(config, num_classes, device)
        with seeded(config.seed):
            self.generator = NaiveGenerator(config.generator_config()).to(self.device)
        self.ema = None
        self.opt_gen = self.make_optimizer(self.generator.parameters(), config.lr_gen, "adam")

    def modules(self):
        return {{"gen": self.generator}}

    def optimizers(self):
        return {{"gen": self.opt_gen}}

    def generator_step(self, batch, step):
        batch = batch.to(self.device)
        with self.autocast():
            p = cross_pass(self.generator, batch.x1, batch.x2)
            recon = l1(p.recon, p.x)
            total = self.weights.gamma * recon
        logs = self.checked({{"Loss/G/toy_recon": recon, "Loss/G/total": total}}, "Loss/G/total", step)
        self.update("gen", total, step)
        return logs


def check(config):
    if config.batch_size > 8:
        raise ValueError("batch_size: the toy approach takes at most 8 pairs")


SPEC = register(ApproachSpec(
    name="toy", title="Toy (a test's)", description="long reconstruction only", entry=__name__ + ":ToyApproach",
    architecture="naive", presets={{"tiny": ({TOY_TINY!r}, {{}})}}, weights=("gamma",), check=check))
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """The toy approach's module, written to a temporary folder and imported (which registers it)."""
    (tmp_path / f"{TOY_MODULE}.py").write_text(TOY_SOURCE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(TOY_MODULE).SPEC
    registry.unregister("toy")
    sys.modules.pop(TOY_MODULE, None)


def test_a_registered_approach_trains_from_the_cli_with_its_preset(toy, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--approach", "toy", "--data", "procedural:4:3", "--out", str(out), "--steps", "2",
                 "--preset", "tiny", "--device", "cpu", "--set", "image_size=32", "--set", "batch_size=2",
                 "--set", "log_every=1", "--set", "preview_every=100", "--set", "checkpoint_every=100"]) == 0
    stored = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert stored["approach"] == "toy" and stored["model"] == TOY_TINY
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["step"] for row in logged if "Loss/G/toy_recon" in row] == [1, 2]
    assert "finished at step 2 (completed)" in capsys.readouterr().err


def test_a_registered_approach_has_presets_and_config_checks(toy):
    assert preset_sizes("tiny", "toy") == (TOY_TINY, {})
    assert preset_sizes("small", "toy") == ({}, {})  # a preset it does not declare: the architecture's defaults
    validate_config(TrainConfig(approach="toy", data="procedural"))
    with pytest.raises(TrainConfigError, match="batch_size: the toy approach takes at most 8"):
        validate_config(TrainConfig(approach="toy", data="procedural", batch_size=9))
    with pytest.raises(TrainConfigError, match="only the cycle_funit or funit2funit approach has the identity critic"):
        validate_config(TrainConfig(approach="toy", data="procedural", weights=LossWeights(lambda_critic=1.0)))


def test_a_registered_approach_is_in_the_training_form(toy, qtbot, tmp_path):
    form = RunForm()
    qtbot.addWidget(form)
    form.approach.setCurrentIndex(form.approach.findData("toy"))
    assert form.approach.currentText() == "Toy (a test's)" and not form.lord_stage1.isEnabled()
    form.out.setText(str(tmp_path / "run"))
    form.size.setCurrentIndex(form.size.findData("tiny"))
    config = form.build_config(LossWeights())
    assert (config.approach, config.model) == ("toy", TOY_TINY)
    table = WeightsTable()
    qtbot.addWidget(table)
    table.set_approach("toy")
    assert {name for name, spin in table.spins.items() if spin.isEnabled()} == {"gamma"}
