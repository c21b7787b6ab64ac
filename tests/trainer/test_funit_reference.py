"""FUNIT's own numbers (../shared/funit/fixture_tiny/, made by NVIDIA's code) reproduced by our loaders,
networks and loss functions: codes, mixes, reconstructions, K-shot, D outputs, and the single-pair losses
of FUNIT's `gen_update` then `dis_update` (its README says what each number is)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from g2g_desktop.core.funit_files import load_funit_discriminator, load_funit_generators
from g2g_desktop.core.safe_io import safe_torch_load
from trainer.losses import feature_matching, feature_vector, hinge_fake, hinge_generator, hinge_real, l1, r1_penalty

FIXTURE = Path(__file__).resolve().parents[2].parent / "shared" / "funit" / "fixture_tiny"
pytestmark = pytest.mark.skipif(not (FIXTURE / "manifest.json").is_file(), reason=f"{FIXTURE} not present")
GAN_W, FM_W, R_W, R1_W = 1.0, 1.0, 0.1, 10.0  # funit_animals.yaml, R1 weight hard-coded in funit_model.py


def _close(ours: torch.Tensor, reference: torch.Tensor, what: str) -> None:
    """The README's tolerance: max|a − b| / max(1, max|ref|) below 1e-4."""
    assert ours.shape == reference.shape, what
    error = float((ours - reference).abs().max()) / max(1.0, float(reference.abs().max()))
    assert error < 1e-4, f"{what}: relative max difference {error:.2e}"


@pytest.fixture(scope="module")
def fixture():
    io = safe_torch_load(FIXTURE / "fixture_io.pt")
    gen, gen_test = load_funit_generators(FIXTURE / "gen_00000001.pt")
    dis = load_funit_discriminator(FIXTURE / "dis_00000001.pt")
    manifest = json.loads((FIXTURE / "manifest.json").read_text())
    losses = next(v for k, v in manifest.items() if k.startswith("losses_single_pair"))
    return io, {"gen": gen, "gen_test": gen_test}, dis, losses


@pytest.mark.parametrize("which", ["gen_test", "gen"])
def test_generator_outputs_match_funit(fixture, which):
    io, gens, _, _ = fixture
    g, x, k = gens[which], io["inputs.x"], io["inputs.k_images"]
    ref = {name.removeprefix(f"{which}."): value for name, value in io.items() if name.startswith(f"{which}.")}
    with torch.no_grad():
        content, code = g.encode_content(x), g.encode_class(x)
        _close(content, ref["content_code"], "content code")
        _close(code, ref["class_code"], "class code")
        _close(g.mlp(code), ref["adain_params"], "AdaIN parameters")
        _close(g.decode(content[:1], code[1:]), ref["mixed_x0content_x1class"], "mix")
        _close(g.decode(content, code.flip(0)), ref["mixed_swap"], "swapped mixes")
        _close(g.decode(content, code), ref["recon"], "G(x, x)")
        k_code = g.encode_class(k).mean(0, keepdim=True)
        _close(k_code, ref["class_code_k3_mean"], "K-shot class code")
        _close(g.decode(content[:1], k_code), ref["kshot3_x0"], "K-shot mix")


def test_discriminator_outputs_match_funit(fixture):
    io, _, dis, _ = fixture
    labels = io["inputs.labels"]
    with torch.no_grad():
        out, feat = dis(io["inputs.x"], labels)
        _close(out, io["dis.out_selected"], "D out")
        _close(feat, io["dis.feat_returned"], "D features")
        mixed = io["gen_test.mixed_swap"]
        out, feat = dis(mixed, labels.flip(0))
        _close(out, io["dis_on_gen_test_mixed_swap.out_selected"], "D out on mixes")
        _close(feat, io["dis_on_gen_test_mixed_swap.feat_returned"], "D features on mixes")


def test_single_pair_losses_match_funit(fixture):
    """FUNIT's gen_update and dis_update losses on xa = x[0] (label 3), xb = x[1] (label 100), training `gen`."""
    io, gens, dis, reference = fixture
    gen = gens["gen"]
    gen.train()
    x, labels = io["inputs.x"], io["inputs.labels"]
    xa, xb, la, lb = x[:1], x[1:], labels[:1], labels[1:]
    content = gen.encode_content(xa)
    xt, xr = gen.decode(content, gen.encode_class(xb)), gen.decode(content, gen.encode_class(xa))
    out_t, feat_t = dis(xt, lb)
    out_r, feat_r = dis(xr, la)
    _, feat_a = dis(xa, la)
    _, feat_b = dis(xb, lb)
    l_adv = 0.5 * (hinge_generator(out_t) + hinge_generator(out_r))
    l_x_rec = l1(xr, xa)
    l_c_rec = feature_matching(feature_vector(feat_r), feature_vector(feat_a))
    l_m_rec = feature_matching(feature_vector(feat_t), feature_vector(feat_b))
    l_total = GAN_W * l_adv + R_W * l_x_rec + FM_W * (l_c_rec + l_m_rec)
    ours = {"gen.l_total": l_total, "gen.l_adv": l_adv, "gen.l_x_rec": l_x_rec,
            "gen.l_c_rec(fm xr-xa)": l_c_rec, "gen.l_m_rec(fm xt-xb)": l_m_rec}
    xt = xt.detach()  # dis_update's fake: the same gen's mix (the fixture's numbers take no optimizer step)
    xb_real = xb.clone().requires_grad_(True)
    out_real, _ = dis(xb_real, lb)
    l_real = GAN_W * hinge_real(out_real)
    l_reg = r1_penalty(out_real, xb_real)
    l_fake = GAN_W * hinge_fake(dis(xt, lb)[0])
    ours.update({"dis.l_total": l_fake + l_real + R1_W * l_reg, "dis.l_fake": l_fake, "dis.l_real": l_real,
                 "dis.l_reg(R1, unweighted)": l_reg})
    for name, value in ours.items():
        value = value.detach()
        assert float(value) == pytest.approx(reference[name], rel=1e-5, abs=1e-5), name


def test_a_run_started_from_funit_files_holds_them_and_says_so(fixture, tmp_path):
    """The trainer's own path: gen/gen_test/dis as in the files, FUNIT's iteration, the configured lr."""
    from tests.trainer.factories import Events, TinyDataset, tiny_config
    from trainer.engine import TrainingEngine
    from trainer.events import Noted

    _, gens, dis, _ = fixture
    events = Events()
    config = tiny_config(tmp_path, "funit2funit", steps=2, image_size=128, lr_gen=3e-4,  # sizes: the files
                         resume=str(FIXTURE / "gen_00000001.pt"))
    engine = TrainingEngine(config, events, "cpu", dataset=TinyDataset())
    engine.setup()
    modules = engine.approach.modules()
    for name, reference in (("gen", gens["gen"]), ("gen_test", gens["gen_test"]), ("dis", dis)):
        ours = modules[name].state_dict()
        assert all(torch.equal(ours[k], v) for k, v in reference.state_dict().items()), name
    assert engine.current_step == 1
    assert {g["lr"] for g in engine.approach.optimizers()["gen"].param_groups} == {3e-4}
    assert engine.run() == "completed"
    (note,) = [e.message for e in events.of(Noted) if "gen_00000001.pt" in e.message]
    assert "discriminator from dis_00000001.pt" in note and "optimizer state from optimizer.pt" in note
    assert any("gen lr 0.0001 -> 0.0003" in e.message for e in events.of(Noted))
