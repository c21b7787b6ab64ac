"""Issue 22's proof for the table of loss terms: a toy term, added to FUNIT2FUNIT's table and nowhere else, with a
weight of its own, counts in the generator's total, is logged as "Loss/G/toy" by the engine, is accepted by the
config and shows in the weight editor. Here at the top because it crosses trainer and ui."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from g2g_desktop.ui.training.weights_table import WeightsTable
from tests.trainer.factories import Events, TinyDataset, tiny_config
from trainer.approaches import build_approach
from trainer.approaches.funit2funit_terms import TERMS
from trainer.approaches.loss_terms import LossTerm
from trainer.batch import PairBatch
from trainer.config import apply_overrides, config_from_dict
from trainer.engine import TrainingEngine
from trainer.events import StepDone
from trainer.loss_weights import LossWeights, WeightSpec

TOY_WEIGHT = WeightSpec("lambda_toy", "λ_toy", "Toy term", 0.5, 0.0, 10.0, 0.1, "A test's term: mean squared mix.")


@pytest.fixture
def toy():
    """The toy term in FUNIT2FUNIT's table for one test: the mean squared mix, weighted by its own λ_toy."""
    TERMS.add(LossTerm("toy", TOY_WEIGHT, lambda t: t.p.mixed.float().pow(2).mean()))
    yield
    TERMS.remove("toy")


def one_step(tmp_path, weights: LossWeights) -> dict[str, float]:
    approach = build_approach(tiny_config(tmp_path, "funit2funit", weights=weights), 4, "cpu")
    g = torch.Generator().manual_seed(1)
    x1, x2, s1, s2 = (torch.rand(2, 3, 16, 16, generator=g) * 2 - 1 for _ in range(4))
    return approach.generator_step(PairBatch(x1, torch.tensor([0, 1]), x2, torch.tensor([2, 3]), s1, s2), 0)


def test_a_term_added_to_the_table_counts_in_the_total_with_its_weight(tmp_path):
    plain = one_step(tmp_path, LossWeights())
    TERMS.add(LossTerm("toy", TOY_WEIGHT, lambda t: t.p.mixed.float().pow(2).mean()))
    try:
        with_toy = one_step(tmp_path, LossWeights.from_dict({"lambda_toy": 2.0}))
        at_default = one_step(tmp_path, LossWeights())
    finally:
        TERMS.remove("toy")
    assert "Loss/G/toy" not in plain and with_toy["Loss/G/toy"] > 0
    assert with_toy["Loss/G/total"] == pytest.approx(plain["Loss/G/total"] + 2.0 * with_toy["Loss/G/toy"], rel=1e-6)
    assert at_default["Loss/G/total"] == pytest.approx(plain["Loss/G/total"] + 0.5 * at_default["Loss/G/toy"],
                                                       rel=1e-6)
    assert one_step(tmp_path, LossWeights()) == plain  # removed again: the table is as it was
    with pytest.raises(ValueError, match="unknown loss weight"):
        LossWeights.from_dict({"lambda_toy": 1.0})


def test_the_engine_logs_the_term_and_the_config_carries_its_weight(toy, tmp_path):
    data = apply_overrides(tiny_config(tmp_path, "funit2funit").to_dict(), ["weights.lambda_toy=3"])
    config = config_from_dict(data)
    assert config.weights.lambda_toy == 3.0 and config.to_dict()["weights"]["lambda_toy"] == 3.0
    assert dataclasses.replace(config.weights, r_w=1.0).lambda_toy == 3.0
    events = Events()
    assert TrainingEngine(config, events, "cpu", dataset=TinyDataset()).run() == "completed"
    steps = events.of(StepDone)
    assert len(steps) == config.steps and all("Loss/G/toy" in e.losses for e in steps)


def test_the_weight_editor_shows_the_terms_weight(toy, qtbot):
    table = WeightsTable()
    qtbot.addWidget(table)
    row = list(table.spins).index("lambda_toy")
    assert table.item(row, 0).text() == "Toy term (λ_toy)"
    assert "A test's term" in table.item(row, 0).toolTip() and "used by funit2funit" in table.item(row, 0).toolTip()
    assert table.spins["lambda_toy"].value() == 0.5 and table.spins["lambda_toy"].maximum() == 10.0
    table.set_approach("funit2funit")
    assert table.spins["lambda_toy"].isEnabled()
    table.set_approach("naive")
    assert not table.spins["lambda_toy"].isEnabled()
    assert LossWeights.from_dict(table.weights()).lambda_toy == 0.5  # what the panel starts a run with
