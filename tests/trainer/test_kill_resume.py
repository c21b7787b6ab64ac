"""Kill-and-resume of the training CLI, and a disk that fills up during a checkpoint write.

The short version (3 kills) always runs; G2G_LONG_TESTS=1 runs 20 kills over a longer run. The harness
lives in scripts/soak_kill_resume.py, which also prints the figures quoted in docs/reliability.md.
"""

from __future__ import annotations

import hashlib
import resource
import subprocess

import pytest
import torch

from tests.factories import load_script, long_only

SOAK = load_script("soak_kill_resume")


def _assert_survived(report, settings) -> None:
    assert not report.problems, "\n".join(report.problems)
    assert report.crashes == 0
    assert report.kills >= 1, "no run was killed (the runs finished before the chosen moments)"
    assert report.kills_during_write >= 1, "no kill landed during a checkpoint write"
    assert report.max_steps_lost <= settings.checkpoint_every
    assert report.bit_identical is True


@pytest.fixture(scope="module")
def short_soak(tmp_path_factory):
    settings = SOAK.SoakSettings(steps=12, checkpoint_every=3, kills=3, seed=0)
    workdir = tmp_path_factory.mktemp("soak")
    return settings, SOAK.soak(workdir, settings), workdir


@pytest.mark.timeout(600)
def test_sigkill_and_resume_short(short_soak):
    """3 SIGKILLs (mid-write and at random steps): every file loads, at most `checkpoint_every` steps are
    lost, and the final state equals an uninterrupted run bit for bit, in the same precision."""
    settings, report, _ = short_soak
    _assert_survived(report, settings)
    assert report.precision.startswith("fp32")  # the tiny run is far below the size where bf16 pays


def _final_state_with(workdir, settings, tmp_path, change):
    """The uninterrupted run's final state, changed by `change(state)`, in a run folder of its own."""
    from trainer.state import load_training_state, save_training_state

    name = f"checkpoints/state_{settings.steps:08d}.pt"
    state = load_training_state(workdir / "reference" / name)
    change(state)
    save_training_state(tmp_path / name, {k: v for k, v in state.items() if k not in ("format", "format_version")})
    return tmp_path


def _perturb_a_weight(state) -> None:
    weight = next(v for k, v in state["modules"]["gen"].items() if k.endswith("weight"))
    first = (0,) * weight.dim()  # indexed, not viewed: the networks train in channels_last on the CPU
    weight[first] = torch.nextafter(weight[first], torch.tensor(float("inf")))  # one ulp


def _flip_the_precision(state) -> None:
    state["config"]["cpu_precision"] = "bf16"
    state["extra"]["cpu_precision"]["bf16"] = True


def _reword_the_note(state) -> None:
    state["extra"]["cpu_precision"]["note"] = "fp32 (recorded in the run's config)"


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("change", "differs"), [(_perturb_a_weight, ["modules/gen/"]),
                                                 (_flip_the_precision, ["config/cpu_precision", "extra/cpu_precision"]),
                                                 (_reword_the_note, [])],
                         ids=["one-ulp-weight", "precision", "only-the-note"])  # fmt: skip
def test_the_comparison_fails_on_a_changed_weight_or_precision(short_soak, tmp_path, change, differs):
    """The soak's bit-for-bit check is not vacuous: one ulp of one weight, or the other precision, fails it;
    a note that words the same choice differently (as a resumed run's does) does not."""
    settings, _, workdir = short_soak
    other = _final_state_with(workdir, settings, tmp_path, change)
    report = SOAK.SoakReport()
    assert SOAK.compare_runs(workdir / "reference", other, settings.steps, report) is (not differs)
    for start in differs:
        assert any(start in p for p in report.problems), report.problems


@pytest.mark.timeout(600)
def test_sigkill_and_resume_of_a_lord_run_across_its_stage_switch(tmp_path):
    """The LORD approach's embedding tables and both optimisers survive SIGKILLs in either stage bit for bit."""
    settings = SOAK.SoakSettings(steps=9, checkpoint_every=3, kills=2, seed=0, approach="lord",
                                 overrides=("lord_stage1_steps=5",))
    _assert_survived(SOAK.soak(tmp_path, settings), settings)


@long_only
@pytest.mark.timeout(3600)
def test_sigkill_and_resume_long(tmp_path):
    settings = SOAK.SoakSettings(steps=60, checkpoint_every=3, kills=20, seed=1)
    report = SOAK.soak(tmp_path, settings)
    _assert_survived(report, settings)
    assert report.kills >= 15


@pytest.mark.timeout(600)
def test_resumed_run_cleans_up_temp_files_of_killed_writes(short_soak):
    """Temp files of checkpoint writes killed mid-way are model-sized; the resumed run removes them."""
    _, report, _ = short_soak
    if report.temp_files_after_kills == 0:
        pytest.skip("no kill happened to leave a temp file this time")
    assert report.leftover_temp_files == 0


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.timeout(600)
def test_disk_full_during_checkpoint_keeps_the_previous_one(tmp_path):
    """A real write failure (RLIMIT_FSIZE: writes past 200 kB fail with EFBIG, as on a full disk): the
    checkpoint write fails, the previous checkpoint survives unchanged, no half-written file is left
    behind, and the run says so on the console."""
    settings = SOAK.SoakSettings(steps=6, checkpoint_every=3)
    out = tmp_path / "run"
    first = subprocess.run(SOAK.train_command(out, settings, resume=False), cwd=SOAK.ROOT, env=SOAK.child_env(),
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert first.returncode == 0, first.stderr[-1500:]
    previous = out / "checkpoints" / "state_00000006.pt"
    before = _digest(previous)

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    longer = SOAK.SoakSettings(steps=9, checkpoint_every=3)
    full = subprocess.run(SOAK.train_command(out, longer, resume=True), cwd=SOAK.ROOT, env=SOAK.child_env(),
                          capture_output=True, text=True, timeout=300, preexec_fn=small_files)  # fmt: skip
    console = full.stdout + full.stderr
    assert "Traceback" not in console, console[-2000:]
    assert "checkpoint at step 9 not saved" in console and "previous checkpoint is intact" in console, console[-2000:]
    assert _digest(previous) == before
    assert not (out / "checkpoints" / "state_00000009.pt").exists()
    assert SOAK.temp_files(out) == [], "a failed write left its temp file behind"
    from trainer.state import load_training_state

    assert load_training_state(previous)["step"] == 6
