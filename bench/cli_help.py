"""`python -m bench.cli_help [--rounds N] [--out FILE]`: how long `g2g-train --help`, `g2g-eval --help` and
`g2g-desktop --help` take, from process start to exit (issue 15: at most 0.3 s each; 3.8 s before their
parsers stopped importing torch).

Each command runs N times, interleaved with a bare `python -c pass` (the interpreter's own start, the floor
any of them pays), and the median wall time of each is written to `bench/results/cli_help.json`. The
installed console script is timed when it sits next to this Python (what a user types), else `python -m`.
Run it on a quiet machine: the numbers are wall-clock times of whole processes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "bench" / "results" / "cli_help.json"
TARGET_S = 0.3
COMMANDS = {"g2g-train": "trainer.cli", "g2g-eval": "trainer.eval_cli", "g2g-desktop": "g2g_desktop"}


def command_line(name: str) -> list[str]:
    """The console script `name` beside this interpreter, or `python -m` its module."""
    script = Path(sys.executable).with_name(name)
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script), "--help"]
    return [sys.executable, "-m", COMMANDS[name], "--help"]


def time_process(argv: list[str]) -> float:
    """Seconds from starting `argv` to its exit; a failing command raises with its last line."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{' '.join(argv)} failed (exit {done.returncode}): {tail[0]}")
    return elapsed


def measure(rounds: int) -> dict:
    """Median and every run of each command and of the bare interpreter, rounds interleaved."""
    lines = {"python -c pass": [sys.executable, "-c", "pass"], **{n: command_line(n) for n in COMMANDS}}
    runs: dict[str, list[float]] = {name: [] for name in lines}
    for _ in range(rounds):
        for name, argv in lines.items():
            runs[name].append(time_process(argv))
    result: dict = {"rounds": rounds, "target_s": TARGET_S, "python": sys.version.split()[0], "commands": {}}
    for name, times in runs.items():
        entry = {"argv": lines[name], "median_s": statistics.median(times), "runs_s": times}
        if name in COMMANDS:
            entry["meets_target"] = entry["median_s"] <= TARGET_S
        result["commands"][name] = entry
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli_help", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="runs of each command (the median is reported)")
    parser.add_argument("--out", type=Path, default=RESULT, help="JSON result file")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    result = measure(args.rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, entry in result["commands"].items():
        verdict = "" if "meets_target" not in entry else (" ok" if entry["meets_target"] else f" > {TARGET_S} s")
        print(f"{name:16s} median {entry['median_s'] * 1000:7.1f} ms{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
