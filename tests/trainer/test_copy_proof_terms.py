"""Issue 19's switches, terms that a copy of the content image cannot satisfy: StarGAN v2's diversity-sensitive
term (λ_ds, decaying) and class-code reconstruction (λ_sty), and a content-code identity adversary (λ_adv,c).

Each is off by default, changes the generator's gradient by exactly its weighted term, is refused where it cannot
apply, and (the adversary) survives save and resume; a model trained with them loads in the app's pipeline.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from g2g_desktop.core.g2g import cross_pass, swap_sides
from g2g_desktop.services.models import load_model_file
from tests.trainer.factories import Events, TinyDataset, tiny_config
from tests.trainer.test_study_options import batch_with_partners, make_config
from trainer.approaches import build_approach
from trainer.approaches.content_adversary import classifier_loss
from trainer.config import TrainConfig, TrainConfigError, validate_config
from trainer.engine import TrainingEngine
from trainer.events import Failed, StepDone, Warned
from trainer.loss_weights import LossWeights
from trainer.losses import class_code_reconstruction, diversity_sensitive, identity_confusion

SWITCHES = ("lambda_ds", "lambda_class_rec", "lambda_content_adv")
LOGS = ("Loss/G/diversity", "Loss/G/class_rec", "Loss/G/content_adv", "Loss/A/content_id")


def gradients(weights: LossWeights, step: int = 0):
    """(generator gradients of one generator step, the approach before its update): the optimiser steps are
    replaced by a backward that keeps the gradients, so nothing changes and two approaches compare exactly."""
    approach = build_approach(make_config(weights=weights), 3, "cpu")
    kept: dict[str, torch.Tensor] = {}

    def backward_only(which, loss, at):
        if which == "gen":
            approach.opt_gen.zero_grad(set_to_none=True)
            loss.backward()
            kept.update({n: p.grad.clone() for n, p in approach.generator.named_parameters() if p.grad is not None})

    approach.update = backward_only
    logs = approach.generator_step(batch_with_partners(), step)
    return kept, approach, logs


def term_gradient(approach, term) -> dict[str, torch.Tensor]:
    """∂ term(cross pass of the batch) / ∂ generator parameters, by hand."""
    b = batch_with_partners()
    approach.generator.zero_grad(set_to_none=True)
    term(cross_pass(approach.generator, b.x1, b.x2), approach.generator).backward()
    return {n: p.grad.clone() for n, p in approach.generator.named_parameters() if p.grad is not None}


def assert_gradient_moves_by(on, off, expected, weight: float) -> None:
    """on − off = weight · expected for every parameter (to float rounding of the whole gradient), and the
    difference is not 0 somewhere."""
    assert set(on) == set(off)
    moved, tolerance = 0.0, 1e-4 * max(float(g.abs().max()) for g in on.values())
    for name in on:
        difference = on[name] - off[name]
        assert torch.allclose(difference, weight * expected.get(name, torch.zeros_like(difference)),
                              atol=tolerance), name
        moved = max(moved, float(difference.abs().max()))
    assert moved > 1e-6


# --------------------------------------------------------------------------- off by default


def test_every_switch_is_off_by_default_and_adds_nothing():
    assert all(getattr(LossWeights(), name) == 0.0 for name in (*SWITCHES, "ds_decay_steps"))
    approach = build_approach(make_config(), 3, "cpu")
    assert approach.content_adv is None and "content_adv" not in approach.modules()
    assert "content_adv" not in approach.optimizers()
    logs = approach.generator_step(batch_with_partners(), 0)
    assert not set(LOGS) & set(logs)


# --------------------------------------------------------------------------- λ_ds: StarGAN v2's eq. 3


def test_a_copy_of_the_content_image_gets_the_worst_diversity():
    x, other = torch.rand(2, 3, 8, 8) * 2 - 1, torch.rand(2, 3, 8, 8) * 2 - 1
    assert float(diversity_sensitive(x, x.clone())) == 0.0
    assert float(diversity_sensitive(x, other)) == pytest.approx(float((x - other).abs().mean()))


def test_diversity_pushes_the_mix_away_from_g_with_the_own_class_code():
    off, _, _ = gradients(LossWeights())
    on, approach, logs = gradients(LossWeights(lambda_ds=2.0))

    def diversity(p, gen):  # G(c, own code) against the mix from the same c: eq. 3 with s_a = E_B(x), s_b = E_B(x₂)
        return diversity_sensitive(gen.decode(p.content, p.identity), p.mixed)

    expected = term_gradient(approach, diversity)
    assert_gradient_moves_by(on, off, expected, -2.0)  # maximised: the weight enters with a minus sign
    b = batch_with_partners()
    with torch.no_grad():
        assert logs["Loss/G/diversity"] == pytest.approx(float(diversity(cross_pass(approach.generator, b.x1, b.x2),
                                                                         approach.generator)), rel=1e-5)


def test_diversity_compares_one_noisy_content_code_under_two_class_codes():
    """With LORD's content noise, G(c, s_a) and the mix must decode the very same noisy c."""
    approach = build_approach(make_config(weights=LossWeights(lambda_ds=1.0, content_noise=0.5)), 3, "cpu")
    b, gen = batch_with_partners(), approach.generator
    torch.manual_seed(3)
    with torch.no_grad():
        p = cross_pass(gen, b.x1, b.x2, 0.5)
        assert not torch.equal(p.decoded_content, p.content)
        assert torch.allclose(gen.decode(p.decoded_content, swap_sides(p.identity)), p.mixed, atol=1e-6)
        expected = diversity_sensitive(gen.decode(p.decoded_content, p.identity), p.mixed)
    torch.manual_seed(3)
    assert approach.generator_step(b, 0)["Loss/G/diversity"] == pytest.approx(float(expected), rel=1e-5)


def test_diversity_weight_decays_linearly_to_zero():
    w = LossWeights(lambda_ds=2.0, ds_decay_steps=100)
    assert [w.ds_at(s) for s in (0, 25, 50, 100, 400)] == [2.0, 1.5, 1.0, 0.0, 0.0]
    assert LossWeights(lambda_ds=2.0).ds_at(10**6) == 2.0  # 0 decay steps: constant
    decayed, _, logs = gradients(LossWeights(lambda_ds=2.0, ds_decay_steps=10), step=10)
    plain, _, _ = gradients(LossWeights(), step=10)
    assert logs["Loss/G/diversity"] > 0  # still logged, weighted 0
    assert all(torch.allclose(decayed[n], plain[n], atol=1e-7) for n in plain)


# --------------------------------------------------------------------------- λ_sty: StarGAN v2's eq. 2


def test_class_code_reconstruction_holds_the_given_code_fixed_and_a_copy_cannot_meet_it():
    given = torch.randn(4, 8, requires_grad=True)
    copied = torch.randn(4, 8, requires_grad=True)  # E_B of a copy of the content image: someone else's code
    loss = class_code_reconstruction(copied, given)
    loss.backward()
    value = float(loss.detach())
    assert value == pytest.approx(float((copied - given).abs().mean().detach())) and value > 0
    assert given.grad is None and copied.grad is not None  # the given code is a target
    assert float(class_code_reconstruction(given, given).detach()) == 0.0


def test_class_code_reconstruction_pulls_e_b_of_the_mix_toward_the_given_code():
    off, _, _ = gradients(LossWeights())
    on, approach, logs = gradients(LossWeights(lambda_class_rec=3.0))

    def class_rec(p, gen):
        return class_code_reconstruction(p.mixed_identity, swap_sides(p.identity))

    assert_gradient_moves_by(on, off, term_gradient(approach, class_rec), 3.0)
    assert logs["Loss/G/class_rec"] > 0


# --------------------------------------------------------------------------- λ_adv,c: the content-code adversary


def test_confusion_is_least_where_the_classifier_cannot_tell():
    uniform, peaked = torch.zeros(2, 5), torch.tensor([[9.0, 0, 0, 0, 0], [0, 9.0, 0, 0, 0]])
    assert float(identity_confusion(uniform)) == pytest.approx(float(torch.log(torch.tensor(5.0))))
    assert float(identity_confusion(peaked)) > float(identity_confusion(uniform)) + 1


def test_content_adversary_moves_e_a_only_through_its_confusion_and_learns_by_its_own_optimizer():
    off, _, _ = gradients(LossWeights())
    on, approach, logs = gradients(LossWeights(lambda_content_adv=0.5))
    classifier = approach.content_adv
    assert {"content_adv"} <= set(approach.modules()) and {"content_adv"} <= set(approach.optimizers())
    generator_params = {id(p) for group in approach.opt_gen.param_groups for p in group["params"]}
    assert not generator_params & {id(p) for p in classifier.parameters()}

    fresh = build_approach(make_config(weights=LossWeights(lambda_content_adv=0.5)), 3, "cpu")
    assert all(torch.equal(a, b) for a, b in zip(fresh.content_adv.parameters(), classifier.parameters()))

    def confusion(p, gen):
        return identity_confusion(fresh.content_adv(p.content))

    assert_gradient_moves_by(on, off, term_gradient(fresh, confusion), 0.5)
    assert logs["Loss/G/content_adv"] > 0 and 0 <= logs["Acc/A/content_id"] <= 1

    b = batch_with_partners()
    before = [p.detach().clone() for p in fresh.content_adv.parameters()]
    logs = fresh.generator_step(b, 0)
    assert all(not torch.equal(a, p) for a, p in zip(before, fresh.content_adv.parameters()))
    with torch.no_grad():  # its own loss: cross-entropy on the true labels
        content = fresh.generator.encode_content(torch.cat([b.x1, b.x2]))
        ce, _ = classifier_loss(fresh.content_adv, content, torch.cat([b.label1, b.label2]))
    assert float(ce) < logs["Loss/A/content_id"]  # one step on the labels already helps it


# --------------------------------------------------------------------------- refused where they cannot apply


@pytest.mark.parametrize("name", SWITCHES)
@pytest.mark.parametrize("approach", ["naive", "cycle_funit"])
def test_switches_are_refused_outside_funit2funit(name, approach):
    config = TrainConfig(approach=approach, weights=LossWeights(**{name: 1.0}))
    with pytest.raises(TrainConfigError, match=f"weights.{name}: only the funit2funit approach"):
        validate_config(config)
    validate_config(dataclasses.replace(config, approach="funit2funit"))


def _engine(config, events) -> TrainingEngine:
    return TrainingEngine(config, events, "cpu", dataset=TinyDataset())


def test_raising_a_weight_whose_module_was_not_built_says_it_has_no_effect_once(tmp_path):
    events = Events()
    engine = _engine(tiny_config(tmp_path, "funit2funit", steps=4, checkpoint_every=10), events)

    def sink(event):
        events(event)
        if isinstance(event, StepDone) and event.step in (1, 2):
            engine.set_weights(lambda_content_adv=1.0 + event.step)
        if isinstance(event, StepDone) and event.step == 3:  # the identity head has the same limit
            engine.set_weights(lambda_cls=1.0)

    engine.sink = sink
    assert engine.run() == "completed"
    notes = [e.message for e in events.of(Warned) if "λ_adv,c" in e.message]
    assert len(notes) == 1 and "built only when a run starts" in notes[0]
    assert [e.message.split()[0] for e in events.of(Warned)] == ["λ_adv,c", "λ_cls"]
    assert not any("Loss/G/content_adv" in e.losses for e in events.of(StepDone))


# --------------------------------------------------------------------------- resume and the app


def _states(engine) -> dict[str, torch.Tensor]:
    return {f"{name}.{key}": value.clone() for name, module in engine.approach.modules().items()
            for key, value in module.state_dict().items()}


ALL_ON = LossWeights(lambda_ds=1.0, ds_decay_steps=5, lambda_class_rec=1.0, lambda_content_adv=1.0)


def test_the_adversary_and_its_optimizer_resume_exactly(tmp_path):
    straight = _engine(tiny_config(tmp_path / "a", "funit2funit", steps=6, checkpoint_every=4, weights=ALL_ON),
                       Events())
    assert straight.run() == "completed"
    assert _engine(tiny_config(tmp_path / "b", "funit2funit", steps=3, checkpoint_every=4, weights=ALL_ON),
                   Events()).run() == "completed"
    second = _engine(tiny_config(tmp_path / "b", "funit2funit", steps=6, checkpoint_every=4, weights=ALL_ON,
                                 resume=str(tmp_path / "b" / "run")), Events())
    assert second.run() == "completed"
    a, b = _states(straight), _states(second)
    assert any(k.startswith("content_adv.") for k in a) and a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    saved, resumed = (e.approach.opt_content_adv.state_dict()["state"] for e in (straight, second))
    assert saved and all(torch.equal(torch.as_tensor(saved[i][slot]), torch.as_tensor(resumed[i][slot]))
                         for i in saved for slot in saved[i])


def test_resuming_a_run_without_the_adversary_with_it_on_names_the_module(tmp_path):
    assert _engine(tiny_config(tmp_path, "funit2funit", steps=2), Events()).run() == "completed"
    events = Events()
    again = _engine(tiny_config(tmp_path, "funit2funit", steps=4, weights=ALL_ON, resume=str(tmp_path / "run")),
                    events)
    assert again.run() == "failed"
    assert "lacks module 'content_adv'" in events.of(Failed)[0].message


def test_a_model_trained_with_every_switch_loads_in_the_app(tmp_path):
    assert _engine(tiny_config(tmp_path, "funit2funit", steps=2, weights=ALL_ON), Events()).run() == "completed"
    model = load_model_file(tmp_path / "run" / "model_latest.safetensors", "cpu")
    plain = build_approach(make_config(), 3, "cpu").generator
    assert set(model.pipeline.generator.state_dict()) == set(plain.state_dict())  # the adversary stays behind
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    result = model.pipeline.run(x[0], x[1])
    assert result.mixed.shape == (2, 3, 16, 16) and torch.isfinite(result.mixed).all()
