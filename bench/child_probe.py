"""Run one `bench.*_probe` child process (the real app, offscreen) and read the JSON line it prints last.

The GUI and start-up benchmarks both time the app in a fresh process, so that one measurement's imports,
caches and Qt state never leak into the next; this is the one way they start such a child and read it back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from .options import REPO

# What a failed or garbled child raises: the section is then skipped with the message, not the whole bench.
PROBE_ERRORS = (RuntimeError, subprocess.SubprocessError, json.JSONDecodeError, OSError)


def run_child_probe(
    module: str, args: list[str], *, what: str, timeout: float, env: dict[str, str] | None = None
) -> dict:
    """`python -m module *args` offscreen on the CPU (unless G2G_DEVICE says otherwise), stamped with the
    parent's clock in G2G_BENCH_T0; returns the child's last stdout line as JSON, with `exited_s` (seconds from
that clock until the process was gone) added. `what` names the probe in
    the error of a child that exits non-zero."""
    child_env = dict(os.environ)
    child_env["QT_QPA_PLATFORM"] = "offscreen"
    child_env.setdefault("G2G_DEVICE", "cpu")
    child_env.update(env or {})
    t0 = time.time()
    child_env["G2G_BENCH_T0"] = repr(t0)
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {tail[0]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["exited_s"] = round(time.time() - t0, 4)  # the process is gone: quitting included
    return result
