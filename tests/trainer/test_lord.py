"""The LORD approach (trainer/approaches/lord.py): both stages, its noise and decay, exact resume, configs."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
import torch

from g2g_desktop.__main__ import main as desktop_main
from g2g_desktop.core.checkpoint import load_generator_with_info
from g2g_desktop.core.funit import FunitGenerator
from g2g_desktop.core.images import tensor_to_pil
from tests.trainer.factories import TINY_FUNIT, Events, TinyDataset, assert_same_optimizer_states, tiny_config
from trainer import approach_registry as registry
from trainer.approaches import build_approach
from trainer.batch import PairBatch
from trainer.cli import main as cli_main
from trainer.config import TrainConfig, TrainConfigError, validate_config
from trainer.engine import TrainingEngine
from trainer.events import Failed, Started, StepDone
from trainer.loss_weights import LossWeights
from trainer.losses import l1
from trainer.sampler import PairSampler

MODEL = {**TINY_FUNIT, "content_dim": 4}
NUM_CLASSES, NUM_IMAGES = 3, 6


def make_config(**changes) -> TrainConfig:
    return TrainConfig(approach="lord", image_size=16, model=dict(MODEL), amp=False, cpu_bf16="off", steps=10,
                       lord_stage1_steps=5, **changes)


def build(**changes):
    return build_approach(make_config(**changes), NUM_CLASSES, "cpu", NUM_IMAGES)


def make_batch() -> PairBatch:
    g = torch.Generator().manual_seed(0)
    x1, x2 = (torch.rand(2, 3, 16, 16, generator=g) * 2 - 1 for _ in range(2))
    return PairBatch(x1, torch.tensor([0, 1]), x2, torch.tensor([2, 0]), index1=torch.tensor([0, 3]),
                     index2=torch.tensor([5, 1]))


def lord_run(tmp_path, **changes) -> TrainingEngine:
    config = tiny_config(tmp_path, "lord", model=dict(MODEL), dis={}, steps=4, lord_stage1_steps=2)
    return TrainingEngine(dataclasses.replace(config, **changes), Events(), "cpu", dataset=TinyDataset())


def _changed(before: list[torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


def _params(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


# --------------------------------------------------------------------------- the two stages


def test_a_run_through_both_stages_on_procedural_faces_writes_a_model_that_loads_and_mixes(tmp_path):
    config = tiny_config(tmp_path, "lord", data="procedural:3:2", model=dict(MODEL), dis={}, steps=4,
                         lord_stage1_steps=2)
    events = Events()
    assert TrainingEngine(config, events, "cpu").run() == "completed"
    names = [set(e.losses) for e in events.of(StepDone)]
    assert "Loss/G/recon_latent" in names[0] and "Loss/G/recon_short" not in names[0]  # stage 1
    assert "Loss/G/recon_short" in names[-1] and "Loss/G/recon_latent" not in names[-1]  # stage 2
    generator, info = load_generator_with_info(tmp_path / "run" / "model_latest.safetensors")
    assert isinstance(generator, FunitGenerator) and info.approach == "lord" and info.step == 4
    assert generator.config.content_dim == 4
    faces = [tmp_path / f"face{i}.png" for i in range(2)]
    for i, path in enumerate(faces):
        tensor_to_pil(torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(i)) * 2 - 1).save(path)
    out = tmp_path / "grid.png"
    assert desktop_main(["mix", *map(str, faces), "--model", str(tmp_path / "run" / "model_latest.safetensors"),
                         "-o", str(out)]) == 0
    assert out.is_file()


def test_stage_one_trains_tables_decoder_and_encoders_stage_two_freezes_the_tables():
    approach, batch = build(), make_batch()
    tables, gen = _params(approach.tables), {n: _params(m) for n, m in approach.generator.named_children()}
    approach.generator_step(batch, 0)
    assert _changed(tables, approach.tables)
    assert all(_changed(gen[n], m) for n, m in approach.generator.named_children())
    tables = _params(approach.tables)
    approach.generator_step(batch, 5)  # stage 2 from lord_stage1_steps on
    assert not _changed(tables, approach.tables)


def test_stage_two_without_lambda_short_moves_only_the_encoders():
    approach, batch = build(weights=LossWeights(lambda_short=0.0)), make_batch()
    before = {n: _params(m) for n, m in approach.generator.named_children()}
    logs = approach.generator_step(batch, 7)
    assert "Loss/G/recon_short" not in logs
    moved = {n for n, m in approach.generator.named_children() if _changed(before[n], m)}
    assert moved == {"enc_class_model", "enc_content", "content_down"}


def test_stage_two_total_is_lord_amortisation():
    w = LossWeights(lambda_embed=3.0, lambda_short=0.5)
    approach, batch = build(weights=w), make_batch()
    x = torch.cat([batch.x1, batch.x2])
    with torch.no_grad():
        gen = approach.generator
        content, identity = gen.encode_content(x), gen.encode_class(x)
        codes = approach.tables(torch.cat([batch.label1, batch.label2]), batch.image_indices())
        embed = ((content - codes[0]) ** 2).mean() + ((identity - codes[1]) ** 2).mean()
        expected = float(3.0 * embed + 0.5 * l1(gen.decode(content, identity), x))
    logs = approach.generator_step(batch, 5)
    assert logs["Loss/G/total"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("sigma", [0.0, 1.0, 2.5])
def test_stage_one_decodes_the_content_embedding_with_noise_of_sigma(sigma):
    approach, batch = build(weights=LossWeights(lord_noise=sigma)), make_batch()
    gen, x = copy.deepcopy(approach.generator), torch.cat([batch.x1, batch.x2])
    content, class_code = (t.detach() for t in approach.tables(torch.cat([batch.label1, batch.label2]),
                                                               batch.image_indices()))
    torch.manual_seed(5)
    noise = torch.randn_like(content)
    with torch.no_grad():
        expected = float(l1(gen.decode(content + sigma * noise, class_code), x))
        clean = float(l1(gen.decode(content, class_code), x))
    torch.manual_seed(5)  # the step draws the same noise: nothing before it uses the random stream
    logs = approach.generator_step(batch, 0)
    assert logs["Loss/G/recon_latent"] == pytest.approx(expected, rel=1e-5)
    if sigma:
        assert logs["Loss/G/recon_latent"] != pytest.approx(clean, rel=1e-3)


def test_stage_one_content_decay_is_weighted_and_shrinks_the_codes():
    batch = make_batch()
    used = batch.image_indices()
    norms = {}
    for decay in (0.0, 1e4):
        approach = build(weights=LossWeights(lord_decay=decay, lord_noise=1.0), lr_latent=0.01)
        start = approach.tables.content_codes[used].detach().clone()
        logs = approach.generator_step(batch, 0)
        assert logs["Loss/G/content_decay"] == pytest.approx(float(start.pow(2).mean()), rel=1e-5)
        norms[decay] = float(approach.tables.content_codes[used].detach().norm() / start.norm())
    # Adam's first step moves every element by lr (0.01, codes start in ±0.05): this decay points them all at 0
    assert norms[1e4] < 0.8 and norms[0.0] > 0.95


def test_images_come_unaugmented_with_their_indices_and_other_batches_are_unchanged():
    approach = build()
    data = TinyDataset(classes=3, per_class=2)
    options = approach.sampler_options()
    sampler = PairSampler(data, batch_size=4, image_size=16, seed=3, **options)
    batch = sampler.batch(1)
    for k, g in enumerate(sampler.stream_indices(1)):
        i, j, _ = sampler.pair_indices(g)
        assert (int(batch.index1[k]), int(batch.index2[k])) == (i, j)
    plain = PairSampler(data, batch_size=4, image_size=16, seed=3, train=False).batch(1)
    assert plain.index1 is None and plain.index2 is None
    assert torch.equal(plain.x1, batch.x1) and torch.equal(plain.x2, batch.x2)
    with pytest.raises(ValueError, match="no image indices"):
        plain.image_indices()


def test_the_tables_have_one_row_per_person_and_per_image_of_the_code_shapes():
    approach = build()
    x = torch.zeros(1, 3, 16, 16)
    assert approach.tables.class_codes.shape == (NUM_CLASSES, *approach.generator.encode_class(x).shape[1:])
    assert approach.tables.content_codes.shape == (NUM_IMAGES, *approach.generator.encode_content(x).shape[1:])
    with pytest.raises(ValueError, match="needs their number"):
        build_approach(make_config(), NUM_CLASSES, "cpu")


# --------------------------------------------------------------------------- resume


def _state(engine: TrainingEngine) -> dict[str, torch.Tensor]:
    return {f"{name}.{key}": value.clone() for name, module in engine.approach.modules().items()
            for key, value in module.state_dict().items()}


def test_tables_generator_and_both_optimisers_resume_bit_identically_across_the_stage_switch(tmp_path):
    straight = lord_run(tmp_path / "a", steps=6, lord_stage1_steps=4, checkpoint_every=4)
    assert straight.run() == "completed"
    assert lord_run(tmp_path / "b", steps=3, lord_stage1_steps=4, checkpoint_every=4).run() == "completed"
    events = Events()
    config = tiny_config(tmp_path / "b", "lord", model=dict(MODEL), dis={}, steps=6, lord_stage1_steps=4,
                         checkpoint_every=4, resume=str(tmp_path / "b" / "run"))
    second = TrainingEngine(config, events, "cpu", dataset=TinyDataset())
    assert second.run() == "completed"
    assert events.of(Started)[0].step == 3
    a, b = _state(straight), _state(second)
    assert a.keys() == b.keys() and any(k.startswith("latents.") for k in a)
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    assert set(straight.approach.optimizers()) == {"gen", "latent"}
    assert_same_optimizer_states(straight.approach.optimizers(), second.approach.optimizers())


def test_a_resume_on_another_data_set_size_names_the_tables(tmp_path):
    assert lord_run(tmp_path, steps=2).run() == "completed"
    config = tiny_config(tmp_path, "lord", model=dict(MODEL), dis={}, steps=4, lord_stage1_steps=2,
                         resume=str(tmp_path / "run"))
    events = Events()
    engine = TrainingEngine(config, events, "cpu", dataset=TinyDataset(per_class=4))
    assert engine.run() == "failed"
    assert "'latents' does not fit" in events.of(Failed)[0].message


# --------------------------------------------------------------------------- configs


def _valid(**changes) -> TrainConfig:
    return TrainConfig(approach="lord", data="procedural", steps=10, lord_stage1_steps=5, **changes)


def test_a_valid_lord_config_passes_and_reads_its_weights():
    validate_config(_valid())
    assert {"lord_noise", "lord_decay", "lambda_embed", "lambda_short", "alpha"} == {
        spec.name for spec in registry.weights_read_by("lord")}


@pytest.mark.parametrize(("changes", "message"), [
    ({"lord_stage1_steps": 10}, "lord_stage1_steps: stage 1 (latent optimisation) must take at least 1 step and end "
                                "before the run does (steps 10)"),
    ({"lord_stage1_steps": 0}, "lord_stage1_steps: stage 1 (latent optimisation) must take at least 1 step"),
    ({"lr_latent": 0.0}, "lr_latent: must be a positive number"),
    ({"model": {"mask_head": True}}, "model.mask_head: the lord approach"),
    ({"model": {"content_dim": -1}}, "model/dis:"),
])
def test_bad_lord_configs_get_one_clear_line(changes, message):
    with pytest.raises(TrainConfigError) as info:
        validate_config(dataclasses.replace(_valid(), **changes))
    assert str(info.value).startswith(message)


def test_the_stage_switch_only_binds_the_lord_approach():
    validate_config(TrainConfig(approach="naive", data="procedural", steps=10, lord_stage1_steps=50))


def test_g2g_train_takes_the_lord_approach_with_its_preset_and_says_what_is_wrong(capsys, tmp_path):
    base = ["--approach", "lord", "--data", "procedural", "--out", str(tmp_path / "r"), "--steps", "300",
            "--preset", "tiny"]
    assert cli_main(["--dry-run", *base, "--set", "lord_stage1_steps=200"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert (config["approach"], config["lord_stage1_steps"], config["model"]["content_dim"]) == ("lord", 200, 4)
    with pytest.raises(SystemExit):
        cli_main(base)  # the default stage 1 (500 steps) outlasts the run
    assert capsys.readouterr().err.strip().endswith("end before the run does (steps 300), so that stage 2 distils "
                                                    "the encoders the model file is used through; got 500")
