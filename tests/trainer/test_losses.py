"""Loss weights, each loss against a hand-computed value, and the frozen feature networks."""

from __future__ import annotations

import dataclasses
import math
import warnings

import pytest
import torch
from facenet_pytorch import InceptionResnetV1

from g2g_desktop.core.safe_io import CheckpointError
from trainer import approach_registry as registry
from trainer import losses as L
from trainer.face_encoder import load_face_encoder
from trainer.feature_nets import load_vgg_relu2_2
from trainer.loss_weights import LOSS_WEIGHT_SPECS, LossWeights


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


# --------------------------------------------------------------------------- LossWeights


def test_paper_defaults():
    w = LossWeights()
    assert (w.lambda_D, w.lambda_R, w.lambda_L, w.lambda_dis, w.lambda_reg) == (1.0, 0.1, 0.1, 1.0, 10.0)
    assert (w.gan_w, w.r_w, w.fm_w, w.alpha, w.zeta, w.gamma) == (1.0, 0.1, 1.0, 1.0, 0.2, 0.4)
    # r_w·λ_short is FUNIT's image reconstruction weight 0.1.
    assert w.r_w * w.lambda_short == pytest.approx(0.1)


def test_round_trip_and_partial_dicts():
    w = LossWeights(gamma=10.0, delta=0.5)
    assert LossWeights.from_dict(w.to_dict()) == w
    assert LossWeights.from_dict({"zeta": 1}) == LossWeights(zeta=1.0)
    assert w.replace(alpha=2.0) == dataclasses.replace(w, alpha=2.0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"gama": 1.0}, "unknown loss weight(s): gama"),
        ({"gamma": math.nan}, "gamma must be finite and >= 0"),
        ({"gamma": math.inf}, "gamma must be finite and >= 0"),
        ({"delta": -0.1}, "delta must be finite and >= 0"),
        ({"alpha": "1"}, "alpha must be a number"),
        ({"alpha": True}, "alpha must be a number"),
    ],
)
def test_from_dict_rejects_bad_input(data, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        LossWeights.from_dict(data)
    with pytest.raises(ValueError):
        LossWeights().replace(**data)


def test_delta_warmup():
    assert LossWeights(delta=2.0).delta_at(0) == 2.0
    w = LossWeights(delta=2.0, delta_warmup_steps=100)
    assert [w.delta_at(s) for s in (0, 25, 100, 500)] == [0.0, 0.5, 2.0, 2.0]


def test_spec_table_covers_every_weight_once():
    names = [s.name for s in LOSS_WEIGHT_SPECS]
    assert sorted(names) == sorted(LossWeights().to_dict())
    for spec in LOSS_WEIGHT_SPECS:
        assert spec.default == getattr(LossWeights(), spec.name)
        assert spec.minimum <= spec.default <= spec.maximum and spec.step > 0
        assert "eq." in spec.tooltip or "§" in spec.tooltip
        assert registry.readers(spec.name), f"no approach reads {spec.name}"


def test_weights_for_approach():
    naive = [s.name for s in registry.weights_read_by("naive")]
    assert naive == ["gamma", "lambda_same", "content_noise", "content_l2"]
    cyc = {s.name for s in registry.weights_read_by("cycle_funit")}
    critic = {"lambda_critic", "lambda_critic_ce", "critic_start_step"}  # issue 19's identity critic, in both
    assert cyc == {"alpha", "gamma", "lambda_g", "delta", "delta_warmup_steps", "zeta"} | critic
    f2f = {s.name for s in registry.weights_read_by("funit2funit")}
    assert {"lambda_short", "lambda_long", "lambda_D", "lambda_R", "lambda_L", "lambda_reg", "gan_w"} <= f2f
    assert {"lambda_same", "gan_warmup_steps", "content_noise", "content_l2"} <= f2f
    assert f2f & cyc == critic
    with pytest.raises(ValueError, match="unknown approach"):
        registry.weights_read_by("stargan")


# --------------------------------------------------------------------------- loss terms, by hand


def test_l1_and_cycle():
    a, b = t([[1.0, -2.0], [0.5, 0.0]]), t([[0.0, 0.0], [1.5, 2.0]])
    assert L.l1(a, b).item() == pytest.approx((1 + 2 + 1 + 2) / 4)
    assert L.code_cycle_loss(a, b).item() == pytest.approx((1 + 4 + 1 + 4) / 4)


def test_lsgan():
    d_real, d_fake = t([1.0, 0.0, 3.0]), t([0.5, -1.0])
    real, fake = L.lsgan_discriminator_losses(d_real, d_fake)
    assert real.item() == pytest.approx((0 + 1 + 4) / 3)
    assert fake.item() == pytest.approx((0.25 + 1) / 2)
    assert L.lsgan_generator_loss(d_fake).item() == pytest.approx((0.25 + 4) / 2)


def test_hinge():
    d = t([[2.0, 0.5], [-0.5, -3.0]])
    assert L.hinge_real(d).item() == pytest.approx((0 + 0.5 + 1.5 + 4) / 4)
    assert L.hinge_fake(d).item() == pytest.approx((3 + 1.5 + 0.5 + 0) / 4)
    assert L.hinge_generator(d).item() == pytest.approx(-(2 + 0.5 - 0.5 - 3) / 4)


def test_r1_penalty():
    # D(x) = w·Σ_c x with w = 2 → ∂mean/∂x = 2/(B·H·W) = 0.25 everywhere; R1 = Σg²/B = 24·0.0625/2.
    w = torch.tensor(2.0, requires_grad=True)
    x = torch.randn(2, 3, 2, 2, requires_grad=True)
    r1 = L.r1_penalty(w * x.sum(dim=1), x)
    assert r1.item() == pytest.approx(0.75)
    r1.backward()  # create_graph: the penalty back-propagates into D (dR1/dw = 2·R1/w)
    assert w.grad.item() == pytest.approx(0.75)


def test_feature_matching_and_identity():
    feat = torch.arange(16, dtype=torch.float32).view(2, 2, 2, 2)
    phi = L.feature_vector(feat)
    assert phi.tolist() == [[1.5, 5.5], [9.5, 13.5]]
    assert L.feature_matching(phi, torch.zeros(2, 2)).item() == pytest.approx(30 / 4)
    assert L.identity_loss(t([[1.0, 0.0]]), t([[0.0, 1.0]])).item() == pytest.approx(1.0)
    assert L.perceptual_mse(t([1.0, 3.0]), t([0.0, 0.0])).item() == pytest.approx(5.0)


def test_totals():
    one = torch.tensor(1.0)
    w = LossWeights(gamma=0.5, alpha=2.0, lambda_g=3.0, delta=4.0, delta_warmup_steps=10, zeta=0.2)
    assert L.naive_total(one, one, 2 * one, w).item() == pytest.approx(1 + 0.5 * 3)
    g = L.cycle_funit_generator_total(one, 2 * one, 3 * one, one, w, step=5)
    assert g.item() == pytest.approx(2 + 0.5 * 2 + 3 * 3 + 2.0)  # δ(5) = 4·5/10
    assert L.cycle_funit_generator_total(one, one, one, None, w, 5).item() == pytest.approx(2 + 0.5 + 3)
    assert L.cycle_funit_discriminator_total(one, 3 * one, w).item() == pytest.approx(0.2 * 2)
    w = LossWeights(lambda_short=2, lambda_long=3, fm_w=5, lambda_D=7, lambda_R=11, lambda_L=13)
    assert L.g2g_reconstruction(one, 2 * one, w).item() == pytest.approx(2 + 6)
    assert L.g2g_feature_matching(one, one, one, 2 * one, w).item() == pytest.approx(5 + 7 + 11 + 26)
    w = LossWeights(gan_w=2, r_w=0.5, lambda_F=3, lambda_dis=4, lambda_reg=10)
    assert L.funit2funit_generator_total(one, 2 * one, 3 * one, w).item() == pytest.approx(2 + 1 + 9)
    assert L.funit2funit_discriminator_total(one, 2 * one, 0.5 * one, w).item() == pytest.approx(12 + 5)


# --------------------------------------------------------------------------- feature networks


def test_perceptual_fallback_warns_once_and_is_pixel_l1():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = L.PerceptualLoss(None)
        a, b = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
        values = [loss(a, b) for _ in range(3)]
    assert [str(w.message) for w in caught if "VGG16" in str(w.message)] == [
        "no VGG16 weights given (--vgg-weights): the perceptual loss (eq. 5) falls back to pixel L1"
    ]
    assert loss.name == "perceptual_fallback_l1"
    assert values[0].item() == pytest.approx(L.l1(a, b).item())


@pytest.fixture
def vgg_file(tmp_path):
    from torchvision.models.vgg import cfgs, make_layers

    torch.manual_seed(0)
    full = make_layers(cfgs["D"])[:9].state_dict()  # = torchvision vgg16().features[:9]
    path = tmp_path / "vgg16_relu2_2.pth"
    torch.save(
        {f"features.{k}": v for k, v in full.items()}, path
    )  # torchvision's key names, first layers only
    return path, full


def test_vgg_loads_subset_file_and_computes_mse(vgg_file):
    path, full = vgg_file
    net = load_vgg_relu2_2(path)
    assert torch.equal(net.features[7].weight, full["7.weight"])
    assert not any(p.requires_grad for p in net.parameters())
    loss = L.PerceptualLoss(path)
    assert loss.name == "perceptual_vgg"
    a = torch.rand(2, 3, 16, 16) * 2 - 1
    b = torch.rand(2, 3, 16, 16) * 2 - 1
    # By hand: ImageNet-normalise [0, 1] images, torchvision layers 0..8, mean squared difference.
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    feats = [net.features(((x + 1) / 2 - mean) / std) for x in (a, b)]
    assert feats[0].shape == (2, 128, 8, 8)
    assert loss(a, b).item() == pytest.approx((feats[0] - feats[1]).pow(2).mean().item(), rel=1e-5)


def test_vgg_file_problems_name_the_file(vgg_file, tmp_path):
    path, full = vgg_file
    broken = tmp_path / "broken.pth"
    torch.save({f"features.{k}": v for k, v in full.items() if not k.startswith("7.")}, broken)
    with pytest.raises(CheckpointError, match=r"broken\.pth.*missing keys: features\.7"):
        load_vgg_relu2_2(broken)
    nested = tmp_path / "nested.pth"
    torch.save({"state_dict": torch.load(path)}, nested)
    assert torch.equal(load_vgg_relu2_2(nested).features[0].bias, full["0.bias"])


def test_face_encoder_loads_facenet_file_and_gives_a_differentiable_identity_loss(tmp_path):
    torch.manual_seed(1)
    ref = InceptionResnetV1(pretrained=None, classify=True, num_classes=7).eval()
    path = tmp_path / "20180402-114759-vggface2.pt"
    torch.save(ref.state_dict(), path)  # a released file's layout: embedding net + classifier head
    enc = load_face_encoder(path).train()
    assert not enc.net.training  # BatchNorm stays in inference mode inside a training generator
    x = (torch.rand(1, 3, 32, 32) * 2 - 1).requires_grad_(True)
    emb = enc(x)
    ref.classify = False
    resized = torch.nn.functional.interpolate(
        x.detach(), size=(160, 160), mode="bilinear", align_corners=False
    )
    assert torch.allclose(emb, ref(resized * 127.5 / 128), atol=1e-5)
    assert emb.shape == (1, 512) and emb.norm().item() == pytest.approx(1.0, abs=1e-5)
    loss = L.identity_loss(emb, torch.zeros(1, 512))
    assert loss.item() == pytest.approx(emb.abs().mean().item())
    loss.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in enc.parameters())
    bad = tmp_path / "bad.pt"
    torch.save({"conv2d_1a.conv.weight": torch.zeros(1)}, bad)
    with pytest.raises(CheckpointError, match=r"bad\.pt"):
        load_face_encoder(bad)
