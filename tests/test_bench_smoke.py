"""Smoke tests of the benchmark harness (`bench/`): schema and bookkeeping only, never a timed assertion.

The quick run uses a tiny model and one repeat; the GUI probe starts the real app and is a long variant
(G2G_LONG_TESTS=1).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench.harness import PeakMemory, Timing, compare
from bench.report import Report, Row, Section, to_markdown
from bench.training import TrainCase, train_step_row
from bench.workloads import TINY, eager_g2g, tiny_model

REPO = Path(__file__).resolve().parents[1]
LONG = os.environ.get("G2G_LONG_TESTS") == "1"


def _run_bench(tmp_path: Path, *only: str) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "G2G_DEVICE": "cpu"}
    cmd = [sys.executable, "-m", "bench.run", "--quick", "--out", str(tmp_path), "--name", "smoke", "--only", *only]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((tmp_path / "smoke.json").read_text(encoding="utf-8"))


def _check_timing(t: dict) -> None:
    assert set(t) == {"median_ms", "min_ms", "max_ms", "iqr_ms", "repeats", "samples_ms"}
    assert t["repeats"] == len(t["samples_ms"]) >= 1
    assert 0 < t["min_ms"] <= t["median_ms"] <= t["max_ms"]


def test_quick_run_writes_json_and_markdown_with_the_schema(tmp_path):
    data = _run_bench(tmp_path, "inference", "scaling", "cuda")
    assert data["schema"] == "g2g-bench/1"
    machine = data["machine"]
    for key in ("cpu", "torch", "cuda_build", "cuda_available", "gpu", "torch_threads", "load_average"):
        assert key in machine
    assert data["settings"]["quick"] is True
    keys = [s["key"] for s in data["sections"]]
    assert keys == ["forward", "slider", "matrix", "scaling", "cuda"]
    for section in data["sections"]:
        if section["key"] == "cuda":
            if not torch.cuda.is_available():
                assert section["skipped"] == "no GPU in this run" and section["rows"] == []
            continue
        assert section["skipped"] is None, section["skipped"]
        assert section["rows"]
        for row in section["rows"]:
            _check_timing(row["candidate_timing"])
            assert row["ratio"] is not None and row["ratio"] > 0
            if row["baseline"] is not None:
                _check_timing(row["baseline_timing"])
    forward = next(s for s in data["sections"] if s["key"] == "forward")
    assert {"GFLOP", "GFLOP/s", "of matmul peak"} <= set(forward["rows"][0]["extra"])
    slider = next(s for s in data["sections"] if s["key"] == "slider")
    dragged = [r for r in slider["rows"] if "one slider" in r["name"]]
    assert dragged and all(r["target"] and isinstance(r["met"], bool) for r in dragged)
    md = (tmp_path / "smoke.md").read_text(encoding="utf-8")
    assert "## Machine" in md and "| measured |" in md
    assert ("no GPU in this run" in md) == (not torch.cuda.is_available())


def test_timing_statistics_and_interleaved_comparison():
    t = Timing.of([4.0, 1.0, 3.0, 2.0])
    assert (t.median_ms, t.min_ms, t.max_ms, t.repeats) == (2.5, 1.0, 4.0, 4)
    assert t.iqr_ms == pytest.approx(1.5)
    calls: list[str] = []
    c = compare(lambda: calls.append("b"), lambda: calls.append("c"), repeats=4, warmup=1)
    assert calls == ["b", "c", "b", "c", "c", "b", "b", "c", "c", "b"]  # warm-up, then the order flips
    assert c.baseline.repeats == c.candidate.repeats == 4 and c.ratio > 0


def test_report_markdown_shows_targets_and_skips():
    t = Timing.of([10.0, 12.0])
    section = Section("s", "Title", notes=["a note"])
    section.rows.append(Row(name="x", candidate="fast", timing=t, ratio=0.5, target="≤ 16 ms", met=True))
    report = Report(machine={"cpu": "c", "usable_cpus": 2, "logical_cpus": 2, "cpu_flags": [], "gpu": None,
                             "torch": "t", "cuda_build": None, "cuda_available": False, "torch_threads": 2,
                             "python": "3", "platform": "p"},
                    settings={}, sections=[section, Section("cuda", "CUDA", skipped="no GPU in this run")])
    md = to_markdown(report)
    assert "≤ 16 ms: yes" in md and "Skipped: no GPU in this run" in md and "GPU: no GPU in this run" in md
    assert json.loads(json.dumps(report.to_dict()))["sections"][0]["rows"][0]["met"] is True


def test_peak_memory_sees_a_large_cpu_tensor():
    with PeakMemory("cpu") as mem:
        block = torch.ones(16 * 2**20)  # 64 MiB
    assert mem.peak_bytes >= 32 * 2**20
    del block


def test_eager_reference_matches_the_pipeline_equations():
    model = tiny_model()
    x = torch.rand(2, 3, TINY.image_size, TINY.image_size) * 2 - 1
    out = eager_g2g(model.generator, x[:1], x[1:])
    assert out.shape == (4, 1, 3, TINY.image_size, TINY.image_size)
    with torch.no_grad():
        torch.testing.assert_close(out[2], model.generator(out[0], out[1]))


def test_training_step_row_reports_throughput_and_memory():
    overrides = {k: v for k, v in TINY.to_dict().items() if k != "image_size"}
    row = train_step_row(TrainCase("funit2funit", 1, TINY.image_size, overrides), repeats=1, peak_gflops=10.0)
    assert row.comparison is not None and row.ratio > 0
    assert row.extra["images/s"] > 0 and row.extra["peak memory MiB"] >= 0


@pytest.mark.skipif(not LONG, reason="long variant: set G2G_LONG_TESTS=1 (starts the real app)")
def test_gui_and_training_suites_run(tmp_path):
    data = _run_bench(tmp_path, "gui", "training", "options")
    for section in data["sections"]:
        assert section["skipped"] is None, section["skipped"]
    gui = next(s for s in data["sections"] if s["key"] == "gui")
    assert {r["name"] for r in gui["rows"]} >= {"longest stall, slider drag", "longest stall, training run"}


def test_the_gui_probe_leaves_the_users_settings_alone(tmp_path):
    """The probe starts the real window, which saves its form on close: into a file of its own, never the user's
    (a bench run once left `steps=100000` and a deleted temporary output folder in the user's Training form)."""
    config_home = tmp_path / "config"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "G2G_DEVICE": "cpu", "XDG_CONFIG_HOME": str(config_home),
           "G2G_SETTINGS_FILE": ""}
    done = subprocess.run([sys.executable, "-m", "bench.gui_probe", "--quick"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["training"]["started"]
    assert not config_home.exists() or not any(config_home.rglob("*.ini")), list(config_home.rglob("*"))


def test_bf16_section_reports_speed_up_and_max_difference(monkeypatch):
    from bench import bf16

    monkeypatch.setattr(bf16, "cpu_has_native_bf16", lambda: True)  # bf16 is emulated where it is not native
    section = bf16.bf16_section({"tiny": tiny_model()}, repeats=1, train_batch=1, train_repeats=1)
    assert section.skipped is None and len(section.rows) == 4
    for row in section.rows[:3]:
        assert row.ratio > 0 and 0 < row.extra["max_diff"] < 0.5 and isinstance(row.met, bool)
    assert section.rows[3].ratio > 0 and section.rows[3].extra["loss_rel_diff"] < 0.1


def test_bf16_section_is_skipped_without_native_bf16(monkeypatch):
    from bench import bf16

    monkeypatch.setattr(bf16, "cpu_has_native_bf16", lambda: False)
    assert "no native bf16" in bf16.bf16_section({}, repeats=1, train_batch=1, train_repeats=1).skipped


def test_channels_last_section_times_the_same_training_step_in_both_memory_formats():
    from bench.memory_format import memory_format_section

    section = memory_format_section({"tiny": tiny_model()}, repeats=1, train_batch=1)
    assert section.skipped is None and len(section.rows) == 1 + torch.cuda.is_available()
    row = section.rows[0]
    assert row.ratio > 0 and "cpu" in row.name
    assert row.extra["loss_rel_diff"] < 1e-3  # the same step: only the memory layout differs


def test_startup_section_compares_the_app_with_a_bare_window(monkeypatch):
    from bench import startup

    fake = {
        "bare": {"first_window_s": 0.2, "rss_mb": 70.0, "quit_requested_s": 0.21, "exited_s": 0.31},
        "torch": {"first_window_s": 0.2, "torch_imported_s": 1.4, "quit_requested_s": 1.4, "exited_s": 1.6},
        "app": {"first_window_s": 0.4, "first_mixed_image_s": 2.0, "rss_at_mix_mb": 900.0, "rss_idle_mb": 890.0,
                "loaded_at_idle": {"torch": True, "trainer": False}, "quit_requested_s": 3.0, "exited_s": 3.5},
    }
    monkeypatch.setattr(startup, "run_probe", lambda mode, args, settings: fake[mode])
    section = startup.startup_section(quick=False)
    window, mixed, first_mix, quit_row, memory = section.rows
    assert window.ratio == pytest.approx(2.0) and window.met is True and window.target == "≤ 1.5 s"
    assert mixed.ratio == pytest.approx(10.0)
    assert first_mix.ratio == pytest.approx(1.6 / 1.2) and first_mix.met is False  # 1.6 s after the window
    assert quit_row.ratio == pytest.approx(5.0) and quit_row.met is True and quit_row.target == "≤ 1.0 s"
    assert memory.extra["rss_idle_mb"] == 890.0


def test_the_study_step_section_measures_bf16_and_channels_last_on_the_study_model(tmp_path):
    data = _run_bench(tmp_path, "study")
    (section,) = data["sections"]
    assert section["key"] == "study" and section["skipped"] is None
    candidates = [row["candidate"] for row in section["rows"]]
    assert candidates == ["bf16 autocast (cpu_bf16 = on)", "channels_last (generator, discriminator and batch)"]
    for row in section["rows"]:
        assert "study row" in row["name"] and row["ratio"] > 0
        _check_timing(row["candidate_timing"])
        _check_timing(row["baseline_timing"])
    assert data["machine"]["cpu"]  # every committed result names its CPU
