"""`--help` of every command answers without torch (or Qt): the parsers import only argparse and torch-free
modules. Checked by the modules a real `--help` process loaded, not by timing it (bench/cli_help.py times it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import cli_help

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "torchvision", "facenet_pytorch", "PySide6", "numpy")

# Runs the module as `python -m` does, then reports which heavy modules that process had loaded.
PROBE = """
import json, runpy, sys
module, *args = sys.argv[1:]
sys.argv = [module, *args]
try:
    runpy.run_module(module, run_name="__main__", alter_sys=True)
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def loaded_after(*argv: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = PROBE.format(heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [
        ("trainer.cli", "--help"),
        ("trainer.eval_cli", "--help"),
        ("g2g_desktop", "--help"),
        ("g2g_desktop", "mix", "--help"),
    ],
)
def test_help_loads_no_torch(argv):
    assert loaded_after(*argv) == []


TORCH_FREE = ("trainer.loss_weights", "trainer.approach_registry", "trainer.config", "trainer.presets",
              "g2g_desktop.core")


@pytest.mark.parametrize("module", TORCH_FREE)
def test_torch_free_modules_stay_torch_free(module):
    code = f"import sys, {module}; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_cli_help_bench_writes_its_result_file(tmp_path, capsys):
    out = tmp_path / "cli_help.json"
    assert cli_help.main(["--rounds", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert set(result["commands"]) == {"python -c pass", "g2g-train", "g2g-eval", "g2g-desktop"}
    for name, entry in result["commands"].items():
        assert len(entry["runs_s"]) == 1 and entry["median_s"] > 0
        assert ("meets_target" in entry) == (name != "python -c pass")
    assert "g2g-train" in capsys.readouterr().out
