"""A run started from a project model file (`--resume model.safetensors`): a warm start through core's loader.

The file's generator becomes both G and the EMA, its sizes the run's, its step the run's first; the
discriminator and the optimisers start fresh.
"""

from __future__ import annotations

import torch

from g2g_desktop.core.checkpoint import load_generator_with_info
from g2g_desktop.core.config import FunitGeneratorConfig
from g2g_desktop.core.funit import FunitGenerator
from g2g_desktop.core.model_file import save_model
from tests.trainer.factories import TINY_FUNIT, Events, tiny_config
from trainer.engine import TrainingEngine
from trainer.events import Failed, Finished, Noted, Warned


def _model_file(path, step: int = 5, **sizes):
    torch.manual_seed(3)
    gen = FunitGenerator(FunitGeneratorConfig.from_dict({**TINY_FUNIT, "image_size": 16, **sizes}))
    save_model(path, gen, approach="funit2funit", step=step, weights="gen_test")
    return gen


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sb = b.state_dict()
    return all(torch.equal(v, sb[k]) for k, v in a.state_dict().items())


def test_model_file_starts_g_and_ema_with_fresh_discriminator_and_optimisers(tmp_path):
    shipped = _model_file(tmp_path / "shipped.safetensors", nf=12)
    config = tiny_config(tmp_path, "funit2funit", data="procedural:3:2", steps=7,
                         resume=str(tmp_path / "shipped.safetensors"))  # asks nf 8: the file's 12 wins
    events = Events()
    engine = TrainingEngine(config, events, "cpu")
    engine.setup()
    approach = engine.approach
    assert engine.current_step == 5 and engine.config.model["nf"] == 12
    assert _same(approach.generator, shipped) and _same(approach.ema, shipped)
    assert approach.generator.training and any(p.requires_grad for p in approach.generator.parameters())
    assert not approach.opt_gen.state and not approach.opt_dis.state
    fresh = TrainingEngine(tiny_config(tmp_path / "fresh", "funit2funit", data="procedural:3:2",
                                       model={**TINY_FUNIT, "nf": 12}), None, "cpu")
    fresh.setup()
    assert _same(approach.dis, fresh.approach.dis)
    assert [e.message for e in events.of(Warned)] == ["shipped.safetensors keeps its model.nf=12 (asked 8)"]

    assert engine.run() == "completed"
    notes = " ".join(e.message for e in events.of(Noted))
    assert "warm start from" in notes and "both G and the EMA" in notes and "fresh" in notes
    assert events.of(Finished)[-1].step == 7
    _, info = load_generator_with_info(tmp_path / "run" / "model_latest.safetensors")
    assert info.step == 7 and info.config["nf"] == 12


def test_model_file_at_the_target_step_is_refused_with_one_line(tmp_path):
    _model_file(tmp_path / "shipped.safetensors", step=5)
    config = tiny_config(tmp_path, "funit2funit", data="procedural:3:2", steps=5,
                         resume=str(tmp_path / "shipped.safetensors"))
    events = Events()
    assert TrainingEngine(config, events, "cpu").run() == "failed"
    message = events.of(Failed)[0].message
    assert "shipped.safetensors is at step 5" in message and "ask for more" in message


def test_model_file_of_another_approach_is_refused_naming_the_file(tmp_path):
    _model_file(tmp_path / "shipped.safetensors")
    config = tiny_config(tmp_path, "naive", data="procedural:3:2", steps=9,
                         resume=str(tmp_path / "shipped.safetensors"))
    events = Events()
    assert TrainingEngine(config, events, "cpu").run() == "failed"
    message = events.of(Failed)[0].message
    assert "shipped.safetensors: holds a 'funit2funit' model, not one of 'naive'" in message
