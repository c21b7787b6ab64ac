"""Metrics and g2g-eval on tiny data: copy-through generators pin down what each number means."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from g2g_desktop.core.config import FunitGeneratorConfig
from g2g_desktop.core.funit import FunitGenerator
from g2g_desktop.core.generator import DisentanglingGenerator
from g2g_desktop.core.model_file import RUN_MODEL_FILE, save_model
from g2g_desktop.core.resources import default_model_path
from trainer import eval_cli
from trainer.identity_classifier import train_identity_classifier
from trainer.metrics import format_table, l1_error, psnr, real_metrics, sample_pairs, swap_metrics, swap_sheet
from trainer.probes import leakage_probes, linear_probe
from trainer.procedural_dataset import ProceduralFaceDataset


class CopyGenerator(DisentanglingGenerator):
    """A "generator" whose output is its content input (or its class input): the copy-through baselines."""

    architecture = "copy"

    def __init__(self, output: str, image_size: int = 32):
        super().__init__()
        self.config = SimpleNamespace(image_size=image_size)
        self.output = output
        self.anchor = nn.Parameter(torch.zeros(1))

    def _encode_content(self, x):
        return x

    def _encode_class(self, x):
        return x

    def decode(self, content, class_code):
        return content if self.output == "content" else class_code


@pytest.fixture(scope="module")
def data():
    return ProceduralFaceDataset(num_identities=4, samples_per_identity=3, image_size=32, seed=3, split="heldout")


def test_l1_and_psnr_on_the_pixel_scale():
    a = torch.zeros(2, 3, 4, 4)
    b = torch.ones(2, 3, 4, 4)  # [-1, 1] scale: 0 → 0.5 and 1 → 1.0 on [0, 1]
    assert torch.allclose(l1_error(a, b), torch.tensor([0.5, 0.5]))
    assert torch.allclose(psnr(a, b), torch.full((2,), 10 * np.log10(4.0)), atol=1e-4)
    assert float(psnr(a, a)[0]) == pytest.approx(100.0)


def test_pairs_are_seeded_and_cross_identity():
    labels = [0, 0, 1, 1, 2]
    pairs = sample_pairs(labels, 10, seed=1)
    assert pairs == sample_pairs(labels, 10, seed=1) and pairs != sample_pairs(labels, 10, seed=2)
    assert all(labels[i] != labels[j] for i, j in pairs)
    every = sample_pairs(labels, 50, seed=1)  # 16 ordered cross-identity pairs exist: each once, not 50 repeats
    assert len(every) == len(set(every)) == 16 and all(labels[i] != labels[j] for i, j in every)
    with pytest.raises(ValueError, match="2 identities"):
        sample_pairs([0, 0], 3, seed=0)


def test_copy_content_scores_exactly_the_content_baseline(data):
    metrics = swap_metrics(CopyGenerator("content"), data, sample_pairs(data.labels, 12, 0), batch_size=5)
    assert metrics["swap/l1"] == pytest.approx(metrics["copy_content/l1"])
    assert metrics["swap/ratio"] == pytest.approx(1.0)
    assert metrics["copy_content/l1"] > 0.01  # identities really differ
    assert metrics["cycle/l1"] == pytest.approx(0.0, abs=1e-7) and metrics["self/l1"] == pytest.approx(0.0, abs=1e-7)


def test_copy_class_scores_exactly_the_class_baseline(data):
    metrics = swap_metrics(CopyGenerator("class"), data, sample_pairs(data.labels, 12, 0))
    assert metrics["swap/l1"] == pytest.approx(metrics["copy_class/l1"])
    assert metrics["swap/psnr"] == pytest.approx(metrics["copy_class/psnr"])


def test_identity_classifier_learns_identities_and_is_cached(data, tmp_path):
    classifier = train_identity_classifier(data, renders_per_identity=16, epochs=30, seed=0, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("identity_clf_*.pt"))) == 1
    images = torch.stack([torch.from_numpy(np.array(data.get_image(i))).permute(2, 0, 1) for i in range(len(data))])
    x = images.float() / 127.5 - 1
    predicted = classifier.predict(x)
    assert (predicted == torch.tensor(data.labels)).float().mean() >= 0.75
    cached = train_identity_classifier(data, renders_per_identity=16, epochs=30, seed=0, cache_dir=tmp_path)
    assert torch.equal(cached.predict(x), predicted)
    # Mixed images of a copy-content model carry the content identity: accuracy stays at the copy level.
    metrics = swap_metrics(CopyGenerator("content"), data, sample_pairs(data.labels, 12, 0), classifier=classifier)
    assert metrics["identity/mixed_acc"] == metrics["identity/content_copy_acc"]
    assert metrics["identity/truth_acc"] > metrics["identity/mixed_acc"]
    assert metrics["identity/chance"] == pytest.approx(0.25)


def test_a_classifier_save_cut_short_leaves_no_cache_behind(data, tmp_path, monkeypatch):
    """The cache is written atomically: a save that dies half-way (a full disk, a killed run) leaves no
    truncated file for the next run to choke on, and the next run trains and caches again."""
    real_save = torch.save

    def dies_half_way(obj, f, *args, **kwargs):
        with open(f, "wb") as fh:
            fh.write(b"PK\x03\x04 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", dies_half_way)
    with pytest.raises(OSError, match="No space left"):
        train_identity_classifier(data, renders_per_identity=2, epochs=1, seed=0, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(torch, "save", real_save)
    train_identity_classifier(data, renders_per_identity=2, epochs=1, seed=0, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("identity_clf_*.pt"))) == 1


def test_linear_probe_finds_linear_information_and_not_noise():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(30), 6)
    factors = rng.normal(size=(30, 3))[groups]
    categories = rng.integers(0, 3, size=30)[groups][:, None]
    informative = np.concatenate([factors, np.eye(3)[categories[:, 0]]], 1) @ rng.normal(size=(6, 40))
    informative += 0.01 * rng.normal(size=informative.shape)
    good = linear_probe(informative, factors, categories, groups)
    noise = linear_probe(rng.normal(size=(len(groups), 40)), factors, categories, groups)
    assert good["r2"] > 0.9 and good["acc"] > 0.9
    assert noise["r2"] < 0.2
    assert 0 < good["chance_acc"] < 1


def test_leakage_probes_report_all_four_directions(data):
    metrics = leakage_probes(CopyGenerator("content"), data, max_items=12)
    for factors in ("identity", "rest"):
        for code in ("content", "class"):
            for key in ("r2", "acc", "chance_acc"):
                assert np.isfinite(metrics[f"probe/{factors}_from_{code}/{key}"])
    assert "leakage" in format_table(metrics)


def test_real_metrics_with_a_face_encoder(data):
    class MeanColour(nn.Module):
        def forward(self, x):
            return nn.functional.normalize(x.mean(dim=(2, 3)) + 2, dim=1)

    pairs = sample_pairs(data.labels, 6, 0)
    metrics = real_metrics(CopyGenerator("class"), data, pairs, face_encoder=MeanColour())
    assert metrics["identity/sim_class"] == pytest.approx(1.0)
    assert metrics["cycle/l1"] == pytest.approx(0.0, abs=1e-7)
    assert "face-net cos(mixed, class image)" in format_table(metrics)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    torch.manual_seed(0)
    gen = FunitGenerator(FunitGeneratorConfig(nf=8, nf_mlp=16, latent_dim=8, n_res_blks=1, image_size=32))
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_model(path, gen, approach="funit2funit", step=3)
    return path


def test_g2g_eval_on_procedural_prints_a_table_and_json(tiny_model, tmp_path, capsys):
    out = tmp_path / "metrics.json"
    argv = ["--model", str(tiny_model), "--pairs", "6", "--identities", "4", "--samples", "3", "--no-classifier"]
    assert eval_cli.main([*argv, "--json", str(out), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "swap L1 / content-copy L1" in printed and "identity from content" in printed
    result = json.loads(out.read_text())
    assert result["pairs"] == 6 and result["metrics"]["swap/ratio"] > 0


def test_g2g_eval_on_a_folder(tiny_model, tmp_path, capsys):
    ProceduralFaceDataset(3, 2, 32, seed=1).export(tmp_path / "faces")
    argv = ["--model", str(tiny_model), "--data", str(tmp_path / "faces"), "--pairs", "4", "--device", "cpu"]
    assert eval_cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "G2G cycle reconstruction L1" in printed and "swap L1" not in printed


def test_g2g_eval_reports_the_pairs_it_measures_on_a_small_folder(tiny_model, tmp_path, capsys):
    ProceduralFaceDataset(2, 2, 32, seed=1).export(tmp_path / "faces")  # 2 people × 2 images: 8 ordered pairs
    argv = ["--model", str(tiny_model), "--data", str(tmp_path / "faces"), "--device", "cpu", "--no-judge"]
    assert eval_cli.main(argv) == 0  # --pairs 256 by default
    assert " · 8 pairs · " in capsys.readouterr().out


def test_g2g_eval_takes_a_run_folder_and_defaults_to_the_bundled_model(tiny_model, tmp_path, capsys):
    run = tmp_path / "run1"
    run.mkdir()
    (run / RUN_MODEL_FILE).write_bytes(tiny_model.read_bytes())
    argv = ["--pairs", "2", "--identities", "4", "--samples", "2", "--no-probes", "--no-classifier", "--device", "cpu"]
    assert eval_cli.main(["--model", f"{run}/", *argv]) == 0
    assert "step 3 · funit2funit" in capsys.readouterr().out
    assert eval_cli.main(["--model", str(tmp_path), *argv]) == 1  # a folder without a model says so
    assert f"{tmp_path}: is a folder without {RUN_MODEL_FILE}" in capsys.readouterr().err
    assert eval_cli.build_parser().parse_args([]).model is None  # no --model: the bundled one, as `mix`
    if default_model_path().is_file():
        assert eval_cli.main(argv) == 0
        assert default_model_path().name in capsys.readouterr().out


def test_g2g_eval_on_an_unusable_folder_does_not_talk_of_training(tiny_model, tmp_path, capsys):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.png").write_text("not an image")
    assert eval_cli.main(["--model", str(tiny_model), "--data", str(tmp_path / "bad"), "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "found 0 identities" in err and "training needs" not in err


def test_g2g_eval_bad_inputs_give_one_line(tmp_path, tiny_model, capsys):
    assert eval_cli.main(["--model", str(tmp_path / "missing.safetensors")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing.safetensors" in err
    assert eval_cli.main(["--model", str(tiny_model), "--data", str(tmp_path / "nowhere")]) == 1
    assert "nowhere" in capsys.readouterr().err
    assert eval_cli.main(["--model", str(tiny_model), "--pairs", "0"]) == 2


def test_swap_sheet_lays_out_five_columns_per_pair(data, tiny_model, tmp_path):
    sheet = swap_sheet(CopyGenerator("content"), data, sample_pairs(data.labels, 3, 0), scale=1)
    assert sheet.size == (5 * 32 + 6 * 2, 3 * 32 + 4 * 2)
    out = tmp_path / "sheet.png"
    argv = ["--model", str(tiny_model), "--pairs", "4", "--identities", "4", "--samples", "2", "--device", "cpu"]
    assert eval_cli.main([*argv, "--no-probes", "--no-classifier", "--sheet", str(out), "--sheet-rows", "2"]) == 0
    assert out.is_file()


def test_person_mask_splits_the_swap_into_person_and_background():
    from trainer.metrics import masked_l1_error
    from trainer.procedural_dataset import ProceduralFaceDataset

    data = ProceduralFaceDataset(3, 2, 32, 0, "heldout")
    content, klass = 0, 2  # items of identities 0 and 1
    mask = data.person_mask(content, klass)
    assert mask.shape == (32, 32) and 0.05 < mask.mean() < 0.8
    truth = np.asarray(data.ground_truth(content, klass), float)
    image = np.asarray(data.get_image(content), float)
    assert np.abs(truth - image)[~mask].mean() < 2.0  # outside the person the content image is the truth
    assert np.abs(truth - image)[mask].mean() > 10.0
    a, b = torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2)
    m = torch.tensor([[[True, False], [False, False]]])
    b[..., 1, 1] = 3.0
    assert float(masked_l1_error(a, b, m)) == 0.5 and float(masked_l1_error(a, b, ~m)) == pytest.approx(5 / 6)
