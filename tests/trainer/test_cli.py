"""`g2g-train`: config layering, --set typing, early one-line errors, a tiny real run, clean stop on SIGINT."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest

from tests.factories import wait_until
from tests.trainer.factories import TINY_NAIVE
from trainer.approach_registry import names as approach_names
from trainer.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
TINY_SETS = [arg for key, value in TINY_NAIVE.items() for arg in ("--set", f"model.{key}={value}")]


def _dry_run(capsys, *args) -> dict:
    assert main(["--dry-run", *args]) == 0
    return json.loads(capsys.readouterr().out)


def _error(capsys, *args) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_dry_run_prints_the_resolved_config(capsys, tmp_path):
    config = _dry_run(capsys, "--approach", "naive", "--data", "procedural", "--out", str(tmp_path / "r"),
                      "--steps", "7", "--preset", "funit", "--set", "weights.lambda_long=0.5", "--set", "model.nf=8",
                      "--set", "batch_size=8", "--set", "amp=false", "--set", "resume=none", "--set", "lr_gen=1e-3")
    assert config["approach"] == "naive" and config["steps"] == 7 and config["batch_size"] == 8
    assert config["weights"]["lambda_long"] == 0.5 and config["weights"]["gamma"] == 0.4
    assert config["model"] == {"nf": 8} and config["amp"] is False and config["resume"] is None
    assert config["lr_gen"] == pytest.approx(1e-3)


def test_config_file_then_flags_then_set(capsys, tmp_path):
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("approach: funit2funit\ndata: procedural\nout: somewhere\nsteps: 100\n"
                         "weights: {lambda_R: 0.3, lambda_long: 0.2}\nmodel: {nf: 16}\n")
    config = _dry_run(capsys, "--config", str(yaml_file), "--steps", "50", "--set", "weights.lambda_long=0.7")
    assert (config["approach"], config["out"], config["steps"]) == ("funit2funit", "somewhere", 50)
    assert config["weights"]["lambda_R"] == 0.3 and config["weights"]["lambda_long"] == 0.7
    json_file = tmp_path / "run.json"
    json_file.write_text(json.dumps({"approach": "naive", "data": "procedural", "out": "o", "seed": 3}))
    assert _dry_run(capsys, "--config", str(json_file))["seed"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "bogus=1"], "unknown field 'bogus'"),
        (["--set", "weights.lambda_x=1"], "unknown loss weight 'lambda_x'"),
        (["--set", "steps=1.5"], "error: --set steps must be a whole number, not 1.5"),
        (["--set", "batch_size=abc"], "error: --set batch_size must be a whole number, not 'abc'"),
        (["--set", "weights.gamma=abc"], "error: --set weights.gamma must be a number, not 'abc'"),
        (["--set", "amp=maybe"], "error: --set amp must be true or false, not 'maybe'"),
        (["--set", "weights.gamma=-1"], "must be finite and >= 0"),
        (["--set", "batch_size=0"], "batch_size: must be at least 1"),
        (["--set", "steps"], "expected name=value"),
        (["--set", "model.nf=0"], "model/dis: all NaiveConfig sizes must be positive"),
        (["--set", "seed.x=1"], "seed has no sub-fields"),
    ],
)
def test_bad_values_are_one_line_errors(capsys, tmp_path, args, message):
    line = _error(capsys, "--approach", "naive", "--data", "procedural", "--out", str(tmp_path), "--dry-run", *args)
    assert line.startswith("g2g-train: error:") and message in line


def test_help_marks_the_three_required_flags():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "trainer.cli", "--help"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for flag in (f"--approach {{{','.join(approach_names())}}} (required)", "--data DATA (required)",
                 "--out OUT (required)"):
        assert flag in text
    assert "--resume RESUME (required)" not in text


def test_missing_inputs_are_named(capsys, tmp_path):
    assert "--out required" in _error(capsys, "--approach", "naive", "--data", "procedural")
    line = _error(capsys, "--approach", "naive", "--data", str(tmp_path / "nope"), "--out", str(tmp_path))
    assert "data:" in line and "nope not found" in line
    broken = tmp_path / "bad.yaml"
    broken.write_text("steps: [1,\n")
    assert f"{broken}: not valid YAML" in _error(capsys, "--config", str(broken))
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    assert "expected a mapping" in _error(capsys, "--config", str(listing))


def test_tiny_run_writes_checkpoint_metrics_previews(capsys, tmp_path):
    out = tmp_path / "run"
    code = main(["--approach", "naive", "--data", "procedural:3:2", "--out", str(out), "--steps", "2",
                 "--device", "cpu", *TINY_SETS, "--set", "image_size=16", "--set", "batch_size=2",
                 "--set", "preview_every=2", "--set", "log_every=1"])
    assert code == 0
    assert (out / "checkpoints" / "state_00000002.pt").is_file()
    assert (out / "model_latest.safetensors").is_file() and (out / "previews" / "step_00000002.png").is_file()
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2]
    assert json.loads((out / "config.json").read_text())["model"]["nf"] == 8
    captured = capsys.readouterr()
    assert "final checkpoint" in captured.out and "finished at step 2 (completed)" in captured.err


def test_failed_run_exits_nonzero_with_one_line(capsys, tmp_path):
    bogus = tmp_path / "gen_00000001.pt"
    bogus.write_bytes(b"garbage")
    code = main(["--approach", "funit2funit", "--data", "procedural:3:2", "--out", str(tmp_path / "run"),
                 "--resume", str(bogus), "--device", "cpu", "--set", "image_size=16"])
    assert code == 1
    assert f"g2g-train: error: {bogus}:" in capsys.readouterr().err


def test_sigint_stops_cleanly_with_a_checkpoint(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "trainer.cli", "--approach", "naive", "--data", "procedural:3:2", "--out",
               str(out), "--steps", "100000", "--device", "cpu", *TINY_SETS, "--set", "image_size=16",
               "--set", "batch_size=2", "--set", "checkpoint_every=100000", "--set", "preview_every=100000"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: (out / "metrics.jsonl").exists() or process.poll() is not None, timeout=120)
        assert (out / "metrics.jsonl").exists(), process.communicate()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "SIGINT: stopping" in stdout + stderr and "(stopped)" in stderr
    assert "stop checkpoint" in stdout
    assert list((out / "checkpoints").glob("state_*.pt"))


def test_discriminator_settings_are_checked_per_approach(capsys, tmp_path):
    base = ["--data", "procedural", "--out", str(tmp_path), "--preset", "funit", "--dry-run"]
    cycle = _dry_run(capsys, "--approach", "cycle_funit", *base[:-1], "--set", "dis.n_layers=2")
    assert cycle["dis"] == {"n_layers": 2}
    funit = _dry_run(capsys, "--approach", "funit2funit", *base[:-1], "--set", "dis.max_nf=32")
    assert funit["dis"] == {"max_nf": 32}
    assert "n_layers" in _error(capsys, "--approach", "funit2funit", *base, "--set", "dis.n_layers=2")
    assert "PatchGAN" in _error(capsys, "--approach", "cycle_funit", *base, "--set", "dis.max_nf=2")
    assert "face_weights" in _error(capsys, "--approach", "cycle_funit", *base, "--set", "identity_encoder_as_eb=true")


def test_tensorboard_scalars_when_available(monkeypatch, capsys, tmp_path):
    written = []

    class FakeWriter:
        def __init__(self, folder):
            written.append(("open", folder))

        def add_scalar(self, name, value, step):
            written.append((name, step))

        def close(self):
            written.append(("close",))

    module = types.ModuleType("torch.utils.tensorboard")
    module.SummaryWriter = FakeWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", module)
    out = tmp_path / "run"
    assert main(["--approach", "naive", "--data", "procedural:3:2", "--out", str(out), "--steps", "2",
                 "--device", "cpu", *TINY_SETS, "--set", "image_size=16", "--set", "log_every=2"]) == 0
    assert written[0] == ("open", str(out / "tb")) and written[-1] == ("close",)
    assert ("Loss/G/total", 2) in written and ("Loss/G/total", 1) not in written


def _tiny_run_args(out: Path, steps: int = 2) -> list[str]:
    return ["--approach", "naive", "--data", "procedural:3:2", "--out", str(out), "--steps", str(steps),
            "--device", "cpu", *TINY_SETS, "--set", "image_size=16", "--set", "batch_size=2",
            "--set", "preview_every=2", "--set", "log_every=1", "--set", "checkpoint_every=2"]


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_start_on_a_folder_holding_a_run_is_refused_and_changes_nothing(capsys, tmp_path):
    out = tmp_path / "run"
    assert main(_tiny_run_args(out)) == 0
    before = _folder_bytes(out)
    capsys.readouterr()
    err = _error(capsys, *_tiny_run_args(out))
    assert f"{out} already holds a run with checkpoints up to step 2" in err and f"--resume {out}" in err
    assert _folder_bytes(out) == before


def test_resuming_a_run_folder_continues_it_in_place_to_its_own_target(capsys, tmp_path):
    from tests.trainer.factories import tiny_config
    from trainer.engine import TrainingEngine
    from trainer.events import StepDone

    out = tmp_path / "run"
    config = tiny_config(tmp_path, steps=4, data="procedural:3:2", checkpoint_every=100)

    def stop_at_2(event):
        if isinstance(event, StepDone) and event.step == 2:
            engine.stop()

    engine = TrainingEngine(config, stop_at_2, "cpu")
    assert engine.run() == "stopped"
    assert main(["--resume", str(out), "--device", "cpu"]) == 0
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    assert sorted(p.name for p in (out / "checkpoints").glob("state_*.pt")) == ["state_00000002.pt",
                                                                                 "state_00000004.pt"]
    assert json.loads((out / "config.json").read_text())["steps"] == 4
    assert "finished at step 4 (completed)" in capsys.readouterr().err


def test_presets_size_the_model_like_the_dock(capsys, tmp_path):
    from trainer.presets import preset_sizes

    base = ["--approach", "funit2funit", "--data", "procedural", "--out", str(tmp_path / "r")]
    on_cpu = _dry_run(capsys, *base, "--device", "cpu")
    assert (on_cpu["model"], on_cpu["dis"]) == preset_sizes("tiny", "funit2funit")
    small = _dry_run(capsys, *base, "--preset", "small", "--set", "model.nf=16")
    assert small["model"] == {**preset_sizes("small", "funit2funit")[0], "nf": 16}
    assert _dry_run(capsys, *base, "--device", "cuda")["model"] == {}
    assert "invalid choice: 'huge'" in _error(capsys, *base, "--preset", "huge")


def test_progress_bar_shows_speed_and_time_left(capsys, tmp_path):
    assert main(_tiny_run_args(tmp_path / "run", steps=3)) == 0
    err = capsys.readouterr().err
    assert re.search(r"3/3 \[\d\d:\d\d<\d\d:\d\d, +[\d.]+(step/s|s/step)", err), err


def test_a_funit_start_must_ask_for_steps_beyond_its_iteration(capsys, tmp_path):
    gen = tmp_path / "gen_00200000.pt"
    gen.write_bytes(b"checked by the engine, not here")
    base = ["--approach", "funit2funit", "--data", "procedural", "--out", str(tmp_path / "ft"), "--resume", str(gen)]
    line = _error(capsys, *base, "--dry-run")
    assert "gen_00200000.pt is at FUNIT iteration 200,000" in line and "202,000" in line
    config = _dry_run(capsys, *base, "--steps", "202000")
    assert config["image_size"] == 128 and config["model"] == {} and config["dis"] == {}


def test_recipe_sets_how_to_train_and_flags_still_win(capsys, tmp_path):
    from trainer.presets import RECIPES

    base = ["--data", "procedural", "--out", str(tmp_path / "r"), "--device", "cpu"]
    config = _dry_run(capsys, "--recipe", "identity", *base)
    changes = RECIPES["identity"].changes
    assert config["approach"] == "funit2funit" and config["optimizer"] == "adam"
    assert config["model"]["norm"] == "ln" and config["model"]["nf"] == 8  # the recipe under the tiny preset's sizes
    assert {k: config["weights"][k] for k in changes["weights"]} == changes["weights"]
    assert config["weights"]["lambda_critic"] == 10.0 and config["weights"]["gan_delay_steps"] == 1e6
    assert config["lr_gen"] == 1e-3 and config["weights"]["lambda_long"] == 0.0
    tuned = _dry_run(capsys, "--recipe", "identity", *base, "--set", "weights.lambda_critic=2", "--set",
                     "optimizer=rmsprop")
    assert tuned["weights"]["lambda_critic"] == 2.0 and tuned["optimizer"] == "rmsprop"
    assert tuned["weights"]["lambda_same"] == 1.0  # the rest of the recipe stays
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("weights: {lambda_R: 0.3}\n")
    filed = _dry_run(capsys, "--recipe", "identity", *base, "--config", str(yaml_file))
    assert filed["weights"]["lambda_R"] == 0.3 and filed["weights"]["lambda_critic"] == 10.0
    assert "invalid choice: 'nope'" in _error(capsys, "--recipe", "nope", *base)


def test_help_lists_the_recipes_with_their_description():
    from trainer.presets import RECIPES

    text = " ".join(build_parser().format_help().split())
    for name, recipe in RECIPES.items():
        assert f"{name}: {recipe.description}" in text
