"""The three approaches on tiny CPU configs: losses vs hand-written formulas, updates, NaN safety, resume."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
import torch.nn.functional as F

from g2g_desktop.core.config import FunitDiscriminatorConfig, FunitGeneratorConfig
from g2g_desktop.core.funit import FunitDiscriminator, FunitGenerator
from g2g_desktop.core.funit_files import save_funit_discriminator, save_funit_generators
from g2g_desktop.core.pipeline import G2GResult
from g2g_desktop.core.safe_io import CheckpointError
from tests.trainer.factories import TINY_DIS, TINY_FUNIT, TINY_PATCH_DIS, NanAt
from trainer.approaches import NonFiniteLossError, build_approach
from trainer.batch import PairBatch
from trainer.config import TrainConfig
from trainer.face_encoder import FaceIdentityEncoder
from trainer.loss_weights import LossWeights

MODELS = {
    "naive": {"nf": 8, "max_nf": 16, "n_downs": 2, "content_dim": 16, "class_dim": 8, "nf_mlp": 16},
    "cycle_funit": TINY_FUNIT,
    "funit2funit": TINY_FUNIT,
}
DIS = {"naive": {}, "cycle_funit": TINY_PATCH_DIS, "funit2funit": TINY_DIS}
WEIGHTS = LossWeights(
    gamma=0.7,
    alpha=1.3,
    lambda_g=0.9,
    zeta=0.3,
    lambda_short=1.5,
    lambda_long=0.4,
    lambda_D=0.8,
    lambda_R=0.3,
    lambda_L=0.2,
    lambda_dis=1.2,
    lambda_reg=5.0,
    lambda_F=0.9,
    gan_w=1.1,
    r_w=0.6,
    fm_w=0.7,
)
NUM_CLASSES = 3


def make_config(approach: str, **kw) -> TrainConfig:
    kw = {"weights": WEIGHTS, "model": MODELS[approach], "dis": DIS[approach], "amp": False, **kw}
    return TrainConfig(approach=approach, image_size=32, **kw)


def build(approach: str, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no VGG / face weights in these tests
        return build_approach(make_config(approach, **kw), NUM_CLASSES, "cpu")


def make_batch(n: int = 2, seed: int = 0) -> PairBatch:
    g = torch.Generator().manual_seed(seed)
    x1, x2 = (torch.rand(n, 3, 32, 32, generator=g) * 2 - 1 for _ in range(2))
    return PairBatch(x1, torch.arange(n) % NUM_CLASSES, x2, (torch.arange(n) + 1) % NUM_CLASSES)


def iteration(approach, batch, step):
    """FUNIT order: D step, then G step (which includes the EMA update)."""
    return {**approach.discriminator_step(batch, step), **approach.generator_step(batch, step)}


def snapshot(approach) -> dict:
    return {
        "modules": {k: copy.deepcopy(m.state_dict()) for k, m in approach.modules().items()},
        "optim": {k: copy.deepcopy(o.state_dict()) for k, o in approach.optimizers().items()},
    }


def same_state(a: dict, b: dict) -> bool:
    for name, state in a["modules"].items():
        if any(not torch.equal(v, b["modules"][name][k]) for k, v in state.items()):
            return False
    return repr(a["optim"]) == repr(b["optim"])


def group_params(module: torch.nn.Module) -> dict[str, list[torch.Tensor]]:
    """Parameters per top-level child (encoders, MLP, decoder, D trunk/head)."""
    return {name: [p.detach().clone() for p in child.parameters()] for name, child in module.named_children()}


APPROACHES = ["naive", "cycle_funit", "funit2funit"]


@pytest.mark.parametrize("name", APPROACHES)
def test_steps_run_and_every_weight_group_moves(name):
    approach = build(name)
    assert approach.name == name
    before = {k: group_params(m) for k, m in approach.modules().items()}
    batch = make_batch()
    for step in range(2):
        logs = iteration(approach, batch, step)
        assert "Loss/G/total" in logs and all(torch.isfinite(torch.tensor(v)) for v in logs.values())
        assert ("Loss/D/total" in logs) == (name != "naive")
    for module_name, module in approach.modules().items():
        for group, params in group_params(module).items():
            moved = any(not torch.equal(p, q) for p, q in zip(params, before[module_name][group]))
            assert moved, f"{module_name}.{group} did not change"
    assert (approach.ema is None) == (name == "naive")
    assert set(approach.optimizers()) == ({"gen"} if name == "naive" else {"gen", "dis"})


@pytest.mark.parametrize("name", APPROACHES)
def test_deterministic_given_the_seed(name):
    runs = []
    for seed in (5, 5, 6):
        approach = build(name, seed=seed)
        runs.append([iteration(approach, make_batch(), s) for s in range(2)])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.parametrize("name", APPROACHES)
def test_nan_injection_raises_before_any_update(name):
    approach = build(name)
    batch = make_batch()
    iteration(approach, batch, 0)
    state = snapshot(approach)
    nan = NanAt(approach, 1)
    with pytest.raises(NonFiniteLossError) as info:
        iteration(approach, batch, 1)
    assert info.value.name.endswith("/total")
    assert same_state(state, snapshot(approach))
    assert nan.step is None  # one-shot: after a roll-back the step can be retried
    iteration(approach, batch, 1)
    assert not same_state(state, snapshot(approach))


@pytest.mark.parametrize("name", APPROACHES)
def test_nan_in_the_generator_step_also_leaves_weights_untouched(name):
    approach = build(name)
    state = snapshot(approach)
    bad = make_batch()
    bad.x1[0, 0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteLossError, match="not finite"):
        approach.generator_step(bad, 0)
    assert same_state(state, snapshot(approach))


@pytest.mark.parametrize("name", APPROACHES)
def test_preview_is_the_first_pair_from_the_inference_generator(name):
    approach = build(name)
    batch = make_batch()
    iteration(approach, batch, 0)
    result = approach.preview(batch)
    assert isinstance(result, G2GResult)
    gen = approach.inference_generator()
    assert gen is (approach.ema if name != "naive" else approach.generator)
    with torch.no_grad():
        x1, x2 = batch.x1[:1], batch.x2[:1]
        m1 = gen.decode(gen.encode_content(x1), gen.encode_class(x2))
        m2 = gen.decode(gen.encode_content(x2), gen.encode_class(x1))
        r1 = gen.decode(gen.encode_content(m1), gen.encode_class(m2))
    assert result.original.shape == result.mixed.shape == result.reconstructed.shape == (2, 3, 32, 32)
    assert torch.allclose(result.mixed[:1], m1, atol=1e-4)
    assert torch.allclose(result.reconstructed[:1], r1, atol=1e-4)
    assert result.grid().shape[0] == 3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", APPROACHES)
def test_mixed_precision_on_cuda(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        approach = build_approach(make_config(name, amp=True), NUM_CLASSES, "cuda")
    assert approach.amp and approach.scalers["gen"].is_enabled()
    for step in range(3):
        logs = iteration(approach, make_batch(), step)
        assert all(torch.isfinite(torch.tensor(v)) for v in logs.values())
    assert approach.extra_state()["scalers"]["gen"]["scale"] > 0
    assert approach.preview(make_batch()).mixed.device.type == "cpu"


# --------------------------------------------------------------------------- losses vs hand-written formulas


def by_hand_pass(gen, x1, x2):
    a1, b1, a2, b2 = (
        gen.encode_content(x1),
        gen.encode_class(x1),
        gen.encode_content(x2),
        gen.encode_class(x2),
    )
    m1, m2 = gen.decode(a1, b2), gen.decode(a2, b1)
    r1 = gen.decode(gen.encode_content(m1), gen.encode_class(m2))
    r2 = gen.decode(gen.encode_content(m2), gen.encode_class(m1))
    return dict(a1=a1, b1=b1, a2=a2, b2=b2, m1=m1, m2=m2, r1=r1, r2=r2)


def mean2(f, pairs):
    return sum(f(a, b) for a, b in pairs) / len(pairs)


def mae(a, b):
    return (a - b).abs().mean()


def mse(a, b):
    return (a - b).pow(2).mean()


def cycles(gen, p):
    cyc_a = mean2(mse, [(p["a1"], gen.encode_content(p["m1"])), (p["a2"], gen.encode_content(p["m2"]))])
    cyc_b = mean2(mse, [(p["b1"], gen.encode_class(p["m2"])), (p["b2"], gen.encode_class(p["m1"]))])  # eq. 3
    return cyc_a, cyc_b


def close(logs, expected):
    for key, value in expected.items():
        assert logs[key] == pytest.approx(float(value), rel=1e-4, abs=1e-6), key


def test_naive_losses_match_eq_1_to_4():
    approach, b = build("naive"), make_batch()
    gen = copy.deepcopy(approach.generator)
    logs = approach.generator_step(b, 0)
    with torch.no_grad():
        p = by_hand_pass(gen, b.x1, b.x2)
        recon = mean2(mae, [(p["r1"], b.x1), (p["r2"], b.x2)])
        cyc_a, cyc_b = cycles(gen, p)
    close(
        logs,
        {
            "Loss/G/recon_long": recon,
            "Loss/G/cyc_content": cyc_a,
            "Loss/G/cyc_identity": cyc_b,
            "Loss/G/total": recon + 0.7 * (cyc_a + cyc_b),
        },
    )


def test_cycle_funit_losses_match_the_slides():
    approach, b = build("cycle_funit"), make_batch()
    dis = copy.deepcopy(approach.dis)
    gen = copy.deepcopy(approach.generator)
    d_logs = approach.discriminator_step(b, 0)
    with torch.no_grad():
        p = by_hand_pass(gen, b.x1, b.x2)
        real = mean2(lambda x, _: (dis(x) - 1).pow(2).mean(), [(b.x1, 0), (b.x2, 0)])
        fake = mean2(lambda m, _: dis(m).pow(2).mean(), [(p["m1"], 0), (p["m2"], 0)])
    close(d_logs, {"Loss/D/real": real, "Loss/D/fake": fake, "Loss/D/total": 0.3 * (real + fake) / 2})

    dis, gen = copy.deepcopy(approach.dis), copy.deepcopy(approach.generator)
    approach.weights = approach.weights.replace(lambda_g=2.0)  # read anew every step
    g_logs = approach.generator_step(b, 1)
    with torch.no_grad():
        p = by_hand_pass(gen, b.x1, b.x2)
        perceptual = mean2(mae, [(p["r1"], b.x1), (p["r2"], b.x2)])  # fallback: pixel L1
        cyc_a, cyc_b = cycles(gen, p)
        adv = mean2(lambda m, _: (dis(m) - 1).pow(2).mean(), [(p["m1"], 0), (p["m2"], 0)])
    close(
        g_logs,
        {
            "Loss/G/perceptual_fallback_l1": perceptual,
            "Loss/G/cyc_content": cyc_a,
            "Loss/G/cyc_identity": cyc_b,
            "Loss/G/adv": adv,
            "Loss/G/total": 1.3 * perceptual + 0.7 * (cyc_a + cyc_b) + 2.0 * adv,
        },
    )
    assert "Loss/G/identity" not in g_logs


def test_funit2funit_losses_match_eq_9_to_12():
    approach, b = build("funit2funit"), make_batch()
    dis, gen = copy.deepcopy(approach.dis), copy.deepcopy(approach.generator)
    d_logs = approach.discriminator_step(b, 0)
    with torch.no_grad():
        p = by_hand_pass(gen, b.x1, b.x2)
        real = mean2(lambda x, y: F.relu(1 - dis(x, y)[0]).mean(), [(b.x1, b.label1), (b.x2, b.label2)])
        # m1 carries x2's identity, so D judges it as class label2.
        fake = mean2(lambda m, y: F.relu(1 + dis(m, y)[0]).mean(), [(p["m1"], b.label2), (p["m2"], b.label1)])
    x = torch.cat([b.x1, b.x2]).requires_grad_(True)
    (g,) = torch.autograd.grad(dis(x, torch.cat([b.label1, b.label2]))[0].mean(), x)
    r1 = g.pow(2).sum() / x.shape[0]
    close(
        d_logs,
        {
            "Loss/D/real": real,
            "Loss/D/fake": fake,
            "Loss/D/r1": r1,
            "Loss/D/total": 1.2 * (real + fake) + 5.0 * r1,
        },
    )

    dis, gen = copy.deepcopy(approach.dis), copy.deepcopy(approach.generator)
    g_logs = approach.generator_step(b, 0)
    with torch.no_grad():
        p = by_hand_pass(gen, b.x1, b.x2)
        s1, s2 = gen.decode(p["a1"], p["b1"]), gen.decode(p["a2"], p["b2"])

        def out(img, y):
            return dis(img, y)[0].mean()

        def phi(img, y):
            return dis(img, y)[1].mean(dim=(2, 3))

        l1_, l2_ = b.label1, b.label2
        adv = 0.5 * (-(out(p["m1"], l2_) + out(p["m2"], l1_)) / 2 - (out(s1, l1_) + out(s2, l2_)) / 2)
        short = mean2(mae, [(s1, b.x1), (s2, b.x2)])
        long = mean2(mae, [(p["r1"], b.x1), (p["r2"], b.x2)])
        fm_short = mean2(mae, [(phi(s1, l1_), phi(b.x1, l1_)), (phi(s2, l2_), phi(b.x2, l2_))])
        fm_mix = mean2(mae, [(phi(p["m2"], l1_), phi(b.x1, l1_)), (phi(p["m1"], l2_), phi(b.x2, l2_))])
        fm_mix_recon = mean2(
            mae, [(phi(p["m2"], l1_), phi(p["r1"], l1_)), (phi(p["m1"], l2_), phi(p["r2"], l2_))]
        )
        fm_long = mean2(mae, [(phi(p["r1"], l1_), phi(b.x1, l1_)), (phi(p["r2"], l2_), phi(b.x2, l2_))])
    recon = 1.5 * short + 0.4 * long  # eq. 9
    fm = 0.7 * fm_short + 0.8 * fm_mix + 0.3 * fm_mix_recon + 0.2 * fm_long  # eq. 10 + FUNIT's short FM
    close(
        g_logs,
        {
            "Loss/G/adv": adv,
            "Loss/G/recon_short": short,
            "Loss/G/recon_long": long,
            "Loss/G/fm_short": fm_short,
            "Loss/G/fm_mix": fm_mix,
            "Loss/G/fm_mix_recon": fm_mix_recon,
            "Loss/G/fm_long": fm_long,
            "Loss/G/total": 1.1 * adv + 0.6 * recon + 0.9 * fm,
        },
    )


def test_funit2funit_ema_follows_funit():
    approach, b = build("funit2funit", ema_beta=0.9), make_batch()
    ema_before = [p.clone() for p in approach.ema.parameters()]
    iteration(approach, b, 0)
    for e0, e1, g in zip(ema_before, approach.ema.parameters(), approach.generator.parameters()):
        assert torch.allclose(e1, 0.9 * e0 + 0.1 * g, atol=1e-6)


# --------------------------------------------------------------------------- CycleFUNIT identity variants


@pytest.fixture
def fake_face_weights(monkeypatch):
    """A random-init facenet in place of the user's weights file (test_losses tests the file loader)."""
    torch.manual_seed(3)
    encoder = FaceIdentityEncoder()
    monkeypatch.setattr("trainer.approaches.cycle_funit.load_face_encoder", lambda path, device: encoder)
    return encoder


def test_cycle_funit_identity_loss_with_warmup(fake_face_weights):
    weights = WEIGHTS.replace(delta=2.0, delta_warmup_steps=4)
    approach = build("cycle_funit", face_weights="face.pt", weights=weights)
    b = make_batch(n=1)
    gen, enc = copy.deepcopy(approach.generator), fake_face_weights
    logs = approach.generator_step(b, 1)
    with torch.no_grad():
        p = by_hand_pass(gen, b.x1, b.x2)
        # eq. 8: x_i against the mix that carries x_i's identity.
        ident = mean2(mae, [(enc(b.x1), enc(p["m2"])), (enc(b.x2), enc(p["m1"]))])
    assert logs["Loss/G/identity"] == pytest.approx(float(ident), rel=1e-4)
    others = (
        1.3 * logs["Loss/G/perceptual_fallback_l1"]
        + 0.7 * (logs["Loss/G/cyc_content"] + logs["Loss/G/cyc_identity"])
        + 0.9 * logs["Loss/G/adv"]
    )
    assert logs["Loss/G/total"] == pytest.approx(others + 0.5 * float(ident), rel=1e-4)  # δ(1) = 2·1/4


def test_cycle_funit_identity_encoder_as_eb(fake_face_weights):
    approach = build("cycle_funit", face_weights="face.pt", identity_encoder_as_eb=True)
    assert approach.generator.architecture == "funit_identity"
    b = make_batch(n=1)
    assert approach.generator.encode_class(b.x1).shape == (1, 512, 1, 1)
    face_before = copy.deepcopy(approach.generator.enc_class_model.state_dict())
    mlp_before = [p.clone() for p in approach.generator.mlp.parameters()]
    logs = iteration(approach, b, 0)
    assert "Loss/G/identity" not in logs  # eq. 8 is not enforced when E_B is the identity encoder
    after = approach.generator.enc_class_model.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in face_before.items())
    assert any(not torch.equal(p, q) for p, q in zip(mlp_before, approach.generator.mlp.parameters()))


def test_identity_encoder_as_eb_needs_face_weights():
    with pytest.raises(ValueError, match="face_weights"):
        build("cycle_funit", identity_encoder_as_eb=True)


def test_cycle_funit_warns_about_missing_feature_weights():
    with pytest.warns(UserWarning) as record:
        build_approach(make_config("cycle_funit"), NUM_CLASSES, "cpu")
    messages = " | ".join(str(r.message) for r in record)
    assert "VGG16" in messages and "identity loss (eq. 8) is off" in messages


def test_cycle_funit_uses_vgg_when_given(tmp_path):
    from torchvision.models.vgg import cfgs, make_layers

    path = tmp_path / "vgg.pth"
    torch.save({f"features.{k}": v for k, v in make_layers(cfgs["D"])[:9].state_dict().items()}, path)
    approach = build("cycle_funit", vgg_weights=str(path))
    logs = approach.generator_step(make_batch(), 0)
    assert "Loss/G/perceptual_vgg" in logs and "Loss/G/perceptual_fallback_l1" not in logs


# --------------------------------------------------------------------------- FUNIT files, config errors


def write_funit_files(tmp_path, num_classes=5):
    torch.manual_seed(7)
    gen_cfg = FunitGeneratorConfig(**TINY_FUNIT, image_size=32)
    gen, gen_test = FunitGenerator(gen_cfg), FunitGenerator(gen_cfg)
    dis = FunitDiscriminator(FunitDiscriminatorConfig(**DIS["funit2funit"], num_classes=num_classes))
    save_funit_generators(tmp_path / "gen_00000010.pt", gen, gen_test)
    save_funit_discriminator(tmp_path / "dis_00000010.pt", dis)
    return gen, gen_test, dis


def test_load_funit_pair_resumes_from_official_files(tmp_path):
    gen, gen_test, dis = write_funit_files(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trained = build_approach(make_config("funit2funit"), 5, "cpu")  # a D with the file's 5 classes
    iteration(trained, make_batch(), 0)
    torch.save({k: o.state_dict() for k, o in trained.optimizers().items()}, tmp_path / "optimizer.pt")

    approach = build("funit2funit")
    step = approach.load_funit_pair(
        tmp_path / "gen_00000010.pt", tmp_path / "dis_00000010.pt", optimizer_path=tmp_path / "optimizer.pt"
    )
    assert step == 10
    assert approach.dis.config.num_classes == 5  # from the file, not from the dataset
    for mine, ref in ((approach.generator, gen), (approach.ema, gen_test), (approach.dis, dis)):
        assert all(torch.equal(v, ref.state_dict()[k]) for k, v in mine.state_dict().items())
    assert approach.modules()["dis"] is approach.dis
    assert approach.opt_gen.state_dict()["state"].keys() == trained.opt_gen.state_dict()["state"].keys()
    logs = iteration(approach, make_batch(), 11)
    assert "Loss/G/total" in logs


def test_architecture_rebuilds_a_resumed_funit_run(tmp_path):
    write_funit_files(tmp_path, num_classes=5)
    approach = build("funit2funit", model={})  # sizes differ from the file's until it is loaded
    approach.load_funit_pair(tmp_path / "gen_00000010.pt", tmp_path / "dis_00000010.pt")
    arch = approach.architecture()
    assert arch["dis"]["num_classes"] == 5 and arch["model"] == {**TINY_FUNIT, "norm": "in", "content_dim": 0,
                                                                  "mask_head": False, "erase_features": False}
    again = build("funit2funit", **arch)
    for name, module in approach.modules().items():
        again.modules()[name].load_state_dict(module.state_dict())
    with pytest.raises(ValueError, match="less than the dataset's 3 classes"):
        build("funit2funit", dis={**DIS["funit2funit"], "num_classes": 2})
    assert build("naive").architecture()["dis"] == {}


def test_load_funit_pair_errors_name_the_file(tmp_path):
    write_funit_files(tmp_path, num_classes=2)
    approach = build("funit2funit")
    with pytest.raises(CheckpointError, match=r"dis_00000010\.pt.*2 classes, the dataset 3"):
        approach.load_funit_pair(tmp_path / "gen_00000010.pt", tmp_path / "dis_00000010.pt")
    torch.save({"gen": {}}, tmp_path / "optimizer.pt")
    with pytest.raises(CheckpointError, match=r"optimizer\.pt.*expected keys 'gen' and 'dis'"):
        approach.load_funit_pair(tmp_path / "gen_00000010.pt", optimizer_path=tmp_path / "optimizer.pt")
    other = build("naive")
    torch.save(
        {"gen": other.opt_gen.state_dict(), "dis": other.opt_gen.state_dict()}, tmp_path / "optimizer.pt"
    )
    with pytest.raises(CheckpointError, match=r"optimizer\.pt.*does not fit"):
        approach.load_funit_pair(tmp_path / "gen_00000010.pt", optimizer_path=tmp_path / "optimizer.pt")


def test_bad_configs_give_clear_errors():
    with pytest.raises(ValueError, match="unknown approach 'stargan'"):
        build_approach(TrainConfig(approach="stargan"), NUM_CLASSES, "cpu")
    with pytest.raises(ValueError, match="unknown setting"):
        build("cycle_funit", dis={"ndf": 8})
    with pytest.raises(ValueError, match="at least 2 identities"):
        build_approach(make_config("naive"), 1, "cpu")


def test_extra_state_round_trip():
    approach = build("funit2funit")
    state = approach.extra_state()
    assert set(state["scalers"]) == {"gen", "dis"}
    approach.load_extra_state(state)
