"""The frozen identity critic (issue 19): pre-training and its cache, the cosine and CE terms, the switches."""

from __future__ import annotations

import dataclasses
import os

import pytest
import torch

from g2g_desktop.core.g2g import swap_sides
from g2g_desktop.core.images import pil_to_tensor
from g2g_desktop.core.safe_io import atomic_write_leftovers
from tests.trainer.factories import (
    TINY_DIS,
    TINY_FUNIT,
    TINY_PATCH_DIS,
    Events,
    TinyDataset,
    set_weights_after,
    tiny_config,
    write_image,
)
from trainer import approach_registry as registry
from trainer import identity_critic
from trainer.approaches import build_approach
from trainer.batch import PairBatch
from trainer.config import TrainConfig, TrainConfigError, validate_config
from trainer.critic_check import CriticCheck
from trainer.datasets import FolderDataset
from trainer.engine import TrainingEngine
from trainer.events import Noted, StepDone, Warned
from trainer.face_factors import RestFactors
from trainer.identity_classifier import IdentityClassifier
from trainer.identity_critic import IdentityCritic, critic_cache_file, critic_training_images, critic_view
from trainer.loss_weights import LOSS_WEIGHT_SPECS, LossWeights
from trainer.losses import critic_ce_loss, critic_cosine_loss
from trainer.procedural_dataset import ProceduralFaceDataset, factor_rng

TINY = {"renders_per_identity": 2, "epochs": 3, "seeds": (0,)}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> IdentityCritic:
    """A one-member critic of TinyDataset's four colour identities (a couple of seconds)."""
    return identity_critic.train_identity_critic(TinyDataset(classes=4, per_class=6),
                                                 cache_dir=tmp_path_factory.mktemp("critic"), **{**TINY, "epochs": 20})


def images(data: TinyDataset, indices: list[int]) -> torch.Tensor:
    return critic_training_images(data, 1)[0][indices]


# --------------------------------------------------------------------------- the network and its cache


def test_the_deep_last_stage_is_an_option_of_the_judges_cnn_and_leaves_the_judge_as_it_was():
    judge, deep = IdentityClassifier(5), IdentityClassifier(5, deep_last_stage=True)
    convs = [m for m in deep.features if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 4 == len([m for m in judge.features if isinstance(m, torch.nn.Conv2d)]) + 1
    assert [name for name in judge.state_dict() if name.startswith("features.8.")] == [
        "features.8.weight", "features.8.bias"]  # the judge's cached weights keep their names
    x = torch.rand(3, 3, 32, 32)
    assert deep.embed(x).shape == (3, 256) and deep(x).shape == (3, 5)


def test_critic_is_cached_atomically_and_a_second_run_does_not_train_again(tmp_path, monkeypatch):
    data = TinyDataset(classes=3, per_class=2)
    calls = []
    train_member = identity_critic._train_member
    monkeypatch.setattr(identity_critic, "_train_member", lambda *a: calls.append(a[4]) or train_member(*a))
    first = identity_critic.train_identity_critic(data, cache_dir=tmp_path, **TINY)
    assert calls == [0] and critic_cache_file(data, 2, 3, (0,), tmp_path).exists()
    again = identity_critic.train_identity_critic(data, cache_dir=tmp_path, **TINY)
    assert calls == [0]  # a hit
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), again.state_dict().values()))
    identity_critic.train_identity_critic(data, cache_dir=tmp_path, **{**TINY, "seeds": (0, 1)})
    assert calls == [0, 0, 1]  # another ensemble is another key: a miss

    def killed(obj, path):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", killed)
    with pytest.raises(OSError, match="disk full"):
        identity_critic.train_identity_critic(data, cache_dir=tmp_path, **{**TINY, "epochs": 1})
    assert not critic_cache_file(data, 2, 1, (0,), tmp_path).exists() and not atomic_write_leftovers(tmp_path)


def test_a_photo_replaced_under_its_old_name_is_a_new_critic_cache_key(image_tree, tmp_path):
    """The key holds each file's size and modification time: a folder whose photo was swapped for another under the
    same name must not be served the critic trained on the old one (moving nothing, renaming nothing)."""
    before = critic_cache_file(FolderDataset(image_tree), 2, 3, (0,), tmp_path)
    assert critic_cache_file(FolderDataset(image_tree), 2, 3, (0,), tmp_path) == before  # same files: a hit
    photo = image_tree / "bob" / "1.png"
    write_image(photo, (200, 10, 10), size=(30, 30))
    os.utime(photo, ns=(photo.stat().st_atime_ns, photo.stat().st_mtime_ns + 10**9))
    assert critic_cache_file(FolderDataset(image_tree), 2, 3, (0,), tmp_path) != before


def test_a_folder_data_set_trains_it_on_its_own_images_procedural_faces_on_fresh_renders():
    tiny = TinyDataset(classes=3, per_class=2)
    x, y = critic_training_images(tiny, 40)
    assert x.shape == (6, 3, 32, 32) and y.tolist() == tiny.labels
    faces = ProceduralFaceDataset(num_identities=2, samples_per_identity=2, image_size=32, seed=3)
    x, y = critic_training_images(faces, 3)
    assert y.tolist() == [0, 0, 0, 1, 1, 1]
    items = [pil_to_tensor(faces.get_image(i)) for i in range(len(faces))]  # the data set's own situations
    judges = [pil_to_tensor(faces.render(0, RestFactors.sample(factor_rng(3, 2, 7, 0, j)))) for j in range(3)]
    assert not any(torch.equal(x[k], other) for k in range(6) for other in items + judges)


def test_the_critic_is_frozen_and_stays_in_eval_mode(trained):
    assert not any(p.requires_grad for p in trained.parameters())
    trained.train()
    assert not any(m.training for m in trained.modules())


def test_the_view_shifts_and_blurs_but_keeps_a_flat_image_and_passes_gradients():
    flat = torch.full((2, 3, 16, 16), 0.3, requires_grad=True)
    view = critic_view(flat)
    assert torch.allclose(view, flat, atol=1e-5)
    view.sum().backward()
    assert flat.grad is not None and flat.grad.abs().sum() > 0


# --------------------------------------------------------------------------- the loss terms


def test_cosine_is_near_zero_for_the_same_image_and_larger_for_a_copy_of_the_content_image(trained):
    data = TinyDataset(classes=4, per_class=6)
    content, klass, klass_other = images(data, [0, 1]), images(data, [6, 7]), images(data, [8, 9])
    torch.manual_seed(0)
    same = float(critic_cosine_loss(trained, klass, klass))
    person = float(critic_cosine_loss(trained, klass_other, klass))  # another image of the class person
    copy = float(critic_cosine_loss(trained, content, klass))  # the copier's answer
    assert same < 0.05 and same < person < copy


def test_ce_names_the_class_person_and_punishes_the_copy(trained):
    data = TinyDataset(classes=4, per_class=6)
    klass = torch.tensor([1, 1])
    torch.manual_seed(0)
    assert float(critic_ce_loss(trained, images(data, [8, 9]), klass)) < float(
        critic_ce_loss(trained, images(data, [0, 1]), klass))


def make_config(approach: str = "funit2funit", **weights) -> TrainConfig:
    dis = dict(TINY_PATCH_DIS) if approach == "cycle_funit" else dict(TINY_DIS)
    return TrainConfig(approach=approach, image_size=16, model=dict(TINY_FUNIT), dis=dis, amp=False,
                       weights=LossWeights(gan_delay_steps=1e6, **weights))


def batch() -> PairBatch:
    g = torch.Generator().manual_seed(1)
    x1, x2, s1, s2 = (torch.rand(2, 3, 16, 16, generator=g) * 2 - 1 for _ in range(4))
    return PairBatch(x1, torch.tensor([0, 1]), x2, torch.tensor([2, 3]), s1, s2)


def stepped(critic: IdentityCritic | None, step: int = 0, approach: str = "funit2funit",
            **weights) -> tuple[dict[str, float], list[torch.Tensor]]:
    approach = build_approach(make_config(approach, **weights), 4, "cpu")
    approach.critic = critic
    torch.manual_seed(0)
    logs = approach.generator_step(batch(), step)
    return logs, [p.detach().clone() for p in approach.generator.parameters()]


@pytest.mark.parametrize("approach", ["funit2funit", "cycle_funit"])
def test_the_cosine_term_changes_the_generators_update_and_no_grads_reach_the_critic(trained, approach):
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    off_logs, off = stepped(None, approach=approach)
    on_logs, on = stepped(trained, approach=approach, lambda_critic=5.0)
    assert "Loss/G/critic" not in off_logs and on_logs["Loss/G/critic"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(off, on))
    assert all(p.grad is None for p in trained.parameters())
    assert all(torch.equal(before[k], v) for k, v in trained.state_dict().items())  # BN statistics too


def test_critic_start_step_delays_both_terms(trained):
    _, off = stepped(None, step=3)
    early_logs, early = stepped(trained, step=3, lambda_critic=5.0, lambda_critic_ce=1.0, critic_start_step=4)
    assert not {"Loss/G/critic", "Loss/G/critic_ce"} & set(early_logs)
    assert all(torch.equal(a, b) for a, b in zip(off, early))
    late_logs, _ = stepped(trained, step=4, lambda_critic=5.0, lambda_critic_ce=1.0, critic_start_step=4)
    assert {"Loss/G/critic", "Loss/G/critic_ce"} <= set(late_logs)


@pytest.mark.parametrize("approach", ["funit2funit", "cycle_funit"])
def test_each_mix_is_compared_with_its_class_image_and_the_class_persons_label(trained, monkeypatch, approach):
    from trainer.approaches import funit2funit_terms as terms

    seen = {}
    monkeypatch.setattr(terms, "critic_cosine_loss", lambda c, m, x: seen.update(mix=m, cls=x) or m.sum() * 0)
    monkeypatch.setattr(terms, "critic_ce_loss", lambda c, m, y: seen.update(labels=y) or m.sum() * 0)
    b = batch()
    logs, _ = stepped(trained, approach=approach, lambda_critic=1.0, lambda_critic_ce=1.0)
    assert {"Loss/G/critic", "Loss/G/critic_ce"} <= set(logs)
    assert torch.equal(seen["cls"], torch.cat([b.x2, b.x1]))  # m1 = G(E_A(x1), E_B(x2)) should be x2's person
    assert seen["labels"].tolist() == [2, 3, 0, 1]
    assert seen["mix"].shape == (4, 3, 16, 16)


def test_a_critic_weight_without_an_attached_critic_is_an_error_not_a_silent_zero():
    with pytest.raises(RuntimeError, match="need the identity critic"):
        stepped(None, lambda_critic=1.0)


# --------------------------------------------------------------------------- switches, refusal, engine


def test_the_switches_are_weights_the_training_dock_shows():
    rows = {spec.name: spec for spec in LOSS_WEIGHT_SPECS}
    for name in ("lambda_critic", "lambda_critic_ce", "critic_start_step"):
        assert registry.readers(name) == ("cycle_funit", "funit2funit") and rows[name].tooltip
        assert rows[name].default == 0
    assert not LossWeights().uses_critic and LossWeights(lambda_critic_ce=0.1).uses_critic


def test_other_approaches_are_refused_with_the_reason():
    config = dataclasses.replace(TrainConfig(data="procedural"), approach="naive",
                                 weights=LossWeights(lambda_critic=5.0))
    with pytest.raises(TrainConfigError, match="only the cycle_funit or funit2funit approach has the identity critic"):
        validate_config(config)


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(identity_critic, "EPOCHS", 1)
    return tmp_path


@pytest.mark.parametrize("approach", ["funit2funit", "cycle_funit", "naive"])
def test_raising_the_critic_mid_run_pre_trains_it_or_says_why_not(cache_home, approach):
    events = Events()
    config = tiny_config(cache_home, approach, steps=4, checkpoint_every=10,
                         weights=LossWeights(gan_delay_steps=1e6))
    engine = TrainingEngine(config, events, "cpu", dataset=TinyDataset(classes=4, per_class=3))
    set_weights_after(engine, events, 2, lambda_critic=5.0)
    assert engine.run() == "completed"
    logged = [("Loss/G/critic" in e.losses) for e in events.of(StepDone)]
    if approach != "naive":
        assert logged == [False, False, True, True]
        assert any("identity critic: saved" in e.message for e in events.of(Noted))
        assert isinstance(engine.approach.critic, IdentityCritic)
    else:
        assert not any(logged)
        assert any("has no identity critic" in e.message for e in events.of(Warned))


def test_the_over_reward_check_compares_the_critic_with_an_independent_classifier(tmp_path, monkeypatch):
    data = ProceduralFaceDataset(num_identities=3, samples_per_identity=2, image_size=32, seed=1)
    critic = IdentityCritic(3)
    gen = build_approach(dataclasses.replace(make_config(), image_size=32), 3, "cpu").generator
    stream = torch.random.get_rng_state()
    check = CriticCheck(data, critic, pairs=4, renders_per_identity=2, cache_dir=tmp_path)  # trains its classifier
    figures = check(gen)
    assert torch.equal(stream, torch.random.get_rng_state())  # built and run mid-training, it never reseeds the run
    assert set(figures) == {"critic/mixed_acc", "critic/classifier_acc", "critic/cosine"}
    assert check.targets.tolist() == swap_sides(torch.tensor([data.labels[i] for i, _ in check.pairs]
                                                             + [data.labels[j] for _, j in check.pairs])).tolist()
    monkeypatch.setattr(critic, "predict", lambda x: check.targets.clone())  # a critic that names every mix
    assert check(gen)["critic/mixed_acc"] == 1.0
