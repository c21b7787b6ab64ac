"""The shipped default model and samples: loadable, small, and as good as default.md says.

The swap test uses fixed held-out seeds (identities the model never saw) and compares the model's
swap error with the copy-through baseline "output = content image". The shipped model (47947 steps: 2830 of the
model study's unsupervised recipe, then the supervised cross loss against the renderer's true swaps, from step
17594 the identity critic too, from 30539 lr 1e-4) reaches the 0.5 target on default.md's evaluation (0.492 on 128
held-out pairs), not on these 32: here its swap ratio is 0.52 (the model before it 1.28, an untrained network 5.2),
0.34 on the person and its self-reconstruction L1 0.020 on the [0, 1] scale, so the test asserts what it does
reach, with a small margin for CPU numerics. See resources/models/default.md and docs/study.md.

With no run folder (a fresh clone) `make default-model` continues the shipped model; the last tests check
that at test sizes: the step and training-time counts go on, and a run folder present resumes exactly.
"""

from __future__ import annotations

import torch

from g2g_desktop.core.checkpoint import load_generator_with_info
from g2g_desktop.core.images import open_image
from g2g_desktop.core.resources import default_model_path, sample_paths
from trainer.default_model import MARK_END, MARK_START, write_report
from trainer.default_model_history import read_history
from trainer.metrics import sample_pairs, swap_metrics
from trainer.procedural_dataset import ProceduralFaceDataset

SWAP_RATIO_MAX = 0.55  # reached: 0.518 on these seeds (0.492 on default.md's 128 pairs, target 0.5)
PERSON_RATIO_MAX = 0.35  # reached: 0.337 (swap L1 / content-copy L1 inside the person mask)
SELF_L1_MAX = 0.021  # reached: 0.0197 on the [0, 1] scale; untrained: 0.34
MAX_BYTES = 20 * 2**20


def test_default_model_file_is_small_and_self_describing():
    path = default_model_path()
    assert path.is_file() and path.stat().st_size <= MAX_BYTES
    gen, info = load_generator_with_info(path)
    assert info.architecture == "funit" and info.image_size == 64 and info.approach == "funit2funit"
    assert info.config["norm"] == "ln"  # the model study's recipe (docs/study.md)
    assert info.provenance["command"] == "make default-model" and info.step and info.step > 0
    with torch.no_grad():
        out = gen(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 64, 64))
    assert out.shape == (1, 3, 64, 64) and torch.isfinite(out).all()


def test_default_model_on_held_out_faces_reaches_what_default_md_says():
    torch.set_num_threads(1)
    gen, _ = load_generator_with_info(default_model_path())
    data = ProceduralFaceDataset(num_identities=10, samples_per_identity=4, image_size=64, seed=0, split="heldout")
    metrics = swap_metrics(gen, data, sample_pairs(data.labels, 32, seed=0))
    assert metrics["swap/ratio"] <= SWAP_RATIO_MAX, metrics
    assert metrics["swap/ratio_person"] <= PERSON_RATIO_MAX, metrics
    assert metrics["self/l1"] <= SELF_L1_MAX, metrics


def test_samples_are_held_out_faces_in_a_good_order():
    paths = sample_paths()
    assert len(paths) >= 6
    first, second = (open_image(p) for p in paths[:2])
    assert first.size == second.size == (128, 128)
    assert "identity" in paths[0].name and paths[0].name.split("identity")[1] != paths[1].name.split("identity")[1]


def test_report_keeps_hand_written_notes(tmp_path):
    md = tmp_path / "default.md"
    md.write_text(f"# Notes\nwhat we tried\n\n{MARK_START}\nold numbers\n{MARK_END}\n\nmore notes\n")
    write_report(md, step=12, seconds=90.0, metrics={"swap/l1": 0.05, "copy_content/l1": 0.1, "swap/ratio": 0.5})
    text = md.read_text()
    assert "what we tried" in text and "more notes" in text and "old numbers" not in text
    assert "steps 12" in text and "swap L1 / content-copy L1" in text and text.count(MARK_START) == 1


def test_the_documented_self_test_shows_the_bundled_model_as_it_is():
    """README and docs/download.md quote the self-test; its model line must be what the model file says now
    (it said "step 2,700" long after the model reached 13,338)."""
    root = default_model_path().parents[2]
    summary = load_generator_with_info(default_model_path())[1].summary()
    for doc in ("README.md", "docs/download.md"):
        lines = [line for line in (root / doc).read_text(encoding="utf-8").splitlines()
                 if line.startswith("[PASS] load default model")]
        assert lines and all(line.endswith(") " + summary) for line in lines), (doc, lines, summary)
def _tiny_recipe(monkeypatch, tmp_path):
    """The default model's recipe at test sizes, its slow parts (samples, evaluation) replaced."""
    from tests.trainer.factories import TINY_DIS, TINY_FUNIT
    from trainer import default_model

    monkeypatch.setattr(default_model, "TRAIN_CONFIG", dict(
        default_model.TRAIN_CONFIG, data="procedural:3:2", image_size=16, batch_size=2, model=dict(TINY_FUNIT),
        dis=dict(TINY_DIS), cpu_bf16="off", log_every=1, preview_every=100, checkpoint_every=1))
    monkeypatch.setattr(default_model, "write_samples", lambda folder: [tmp_path / "sample.png"])
    monkeypatch.setattr(default_model, "evaluate", lambda model: {"swap/l1": 0.05, "copy_content/l1": 0.1,
                                                                    "swap/ratio": 0.5, "identity/mixed_acc": 0.25})
    return default_model


def _tiny_shipped(path):
    from g2g_desktop.core.config import FunitGeneratorConfig
    from g2g_desktop.core.funit import FunitGenerator
    from g2g_desktop.core.model_file import save_model
    from tests.trainer.factories import TINY_FUNIT

    torch.manual_seed(1)
    gen = FunitGenerator(FunitGeneratorConfig.from_dict({**TINY_FUNIT, "image_size": 16}))
    save_model(path, gen, approach="funit2funit", step=100, weights="gen_test",
               provenance={"command": "make default-model", "train_seconds": 6000})
    return path


def _make(default_model, tmp_path, run: str, steps: int) -> int:
    return default_model.main(["--run-dir", str(tmp_path / run), "--steps", str(steps),
                               "--warm-start", str(tmp_path / "shipped.safetensors"),
                               "--out", str(tmp_path / f"{run}.safetensors"), "--report", str(tmp_path / f"{run}.md"),
                               "--history", str(tmp_path / f"{run}_history.jsonl"),
                               "--curve", str(tmp_path / f"{run}_curve.png")])


def test_without_a_run_folder_it_continues_the_shipped_model_and_its_counters(monkeypatch, tmp_path, capsys):
    default_model = _tiny_recipe(monkeypatch, tmp_path)
    shipped = _tiny_shipped(tmp_path / "shipped.safetensors")
    assert _make(default_model, tmp_path, "run", 102) == 0
    out = capsys.readouterr().out
    assert "holds no checkpoint: continuing the shipped model" in out and "step 100, 100.0 min" in out
    gen, info = load_generator_with_info(tmp_path / "run.safetensors")
    # whole seconds: two tiny steps may add 0, but the count goes on from the shipped file's, not from 0
    assert info.step == 102 and 6000 <= info.provenance["train_seconds"] < 6000 + 300
    assert "steps 102, training wall time 10" in (tmp_path / "run.md").read_text()
    first, _ = load_generator_with_info(shipped)
    assert any(not torch.equal(a, b) for a, b in zip(gen.state_dict().values(), first.state_dict().values()))
    assert default_model.main(["--run-dir", str(tmp_path / "run"), "--export-only", "--out",
                               str(tmp_path / "export.safetensors"), "--report", str(tmp_path / "export.md"),
                               "--history", str(tmp_path / "run_history.jsonl"), "--curve",
                               str(tmp_path / "run_curve.png"), "--note", "measured again"]) == 0
    exported, again = load_generator_with_info(tmp_path / "export.safetensors")  # what the lead does after a stop
    assert again.step == 102 and again.provenance["train_seconds"] == info.provenance["train_seconds"]
    rows = read_history(tmp_path / "run_history.jsonl")  # the export measured again replaces its row: one per step
    assert [(r["step"], r.get("note")) for r in rows] == [(102, "measured again")]
    assert rows[0]["swap_ratio"] == 0.5 and rows[0]["identity"] == 0.25 and rows[0]["train_minutes"] >= 100
    assert all(torch.equal(a, b) for a, b in zip(gen.state_dict().values(), exported.state_dict().values()))


def test_a_present_run_folder_still_resumes_exactly(monkeypatch, tmp_path, capsys):
    default_model = _tiny_recipe(monkeypatch, tmp_path)
    _tiny_shipped(tmp_path / "shipped.safetensors")
    assert _make(default_model, tmp_path, "whole", 104) == 0
    assert _make(default_model, tmp_path, "split", 102) == 0
    capsys.readouterr()
    assert _make(default_model, tmp_path, "split", 104) == 0
    captured = capsys.readouterr()
    assert "continuing the shipped model" not in captured.out and "state_00000102.pt" in captured.out + captured.err
    whole, _ = load_generator_with_info(tmp_path / "whole.safetensors")
    split, info = load_generator_with_info(tmp_path / "split.safetensors")
    assert info.step == 104
    assert all(torch.equal(a, b) for a, b in zip(whole.state_dict().values(), split.state_dict().values()))
