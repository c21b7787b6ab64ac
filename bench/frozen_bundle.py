"""Size, start-up time and self-test time of the standalone bundle, written to bench/results/bundle_<platform>.*.

    python bench/frozen_bundle.py            # measure dist/G2G-Desktop as it is (same build: keeps its build time)
    python bench/frozen_bundle.py --build    # time the PyInstaller build (what `make dist` runs) first

Start-up is the wall time of `G2G-Desktop --version` (bootloader, Python, torch and the CLI import; no
window). The first run (cold if the bundle was just built or not run for a while) is reported apart
from the median of the following runs, which find the files in the page cache. The reference,
measured in the same run, is the same command from source (`python -m g2g_desktop --version`). The
self-test is timed as a whole and its lines are kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "G2G-Desktop"
EXECUTABLE = BUNDLE / "G2G-Desktop"
RESULTS = ROOT / "bench" / "results"
BUILD_COMMAND = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", "--distpath", "dist",
                 "--workpath", "build/pyinstaller", "build_spec/g2g_desktop.spec"]
GIB = 1024**3


def timed(command: list[str], env: dict[str, str] | None = None, timeout: float = 900) -> tuple[float, str, int]:
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=timeout)
    return time.perf_counter() - start, proc.stdout + proc.stderr, proc.returncode


def bundle_size(folder: Path) -> tuple[int, int, dict[str, int]]:
    """(bytes, files, bytes per top-level component of _internal), links counted once, not followed."""
    total, files, parts = 0, 0, Counter()
    internal = folder / "_internal"
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        size = path.stat().st_size
        total += size
        files += 1
        top = path.relative_to(internal).parts[0] if internal in path.parents else path.name
        parts[top if (internal / top).is_dir() else "(other files)"] += size
    return total, files, dict(parts.most_common())


def flavour(folder: Path) -> str:
    cuda = any(folder.glob("_internal/nvidia/*/lib/libcudart.so*")) or any(folder.glob("_internal/**/libcudart*.so*"))
    return "CUDA" if cuda else "CPU-only"


def startup_times(command: list[str], runs: int, env: dict[str, str]) -> dict[str, float]:
    times = []
    for _ in range(runs):
        seconds, output, rc = timed(command, env)
        if rc != 0:
            raise SystemExit(f"{' '.join(command)} failed (exit {rc}): {output.strip()[-300:]}")
        times.append(seconds)
    return {"first_s": round(times[0], 2), "median_rest_s": round(statistics.median(times[1:] or times), 2)}


def measure(args: argparse.Namespace, previous: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    result: dict = {"platform": f"{platform.system().lower()}-{platform.machine()}",
                    "python": platform.python_version(), "cpu_count": os.cpu_count(),
                    "measured_at": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())}
    if args.build:
        seconds, output, rc = timed(BUILD_COMMAND, timeout=3600)
        if rc != 0:
            raise SystemExit(f"build failed (exit {rc}):\n{output[-3000:]}")
        result.update(build_s=round(seconds, 1), build_measured_at=result["measured_at"])
    if not EXECUTABLE.is_file():
        raise SystemExit(f"{EXECUTABLE}: no bundle; run `make dist` or pass --build")
    result["executable_mtime"] = EXECUTABLE.stat().st_mtime
    if not args.build and previous.get("executable_mtime") == result["executable_mtime"] and "build_s" in previous:
        # the same build, measured again: keep how long it took to build
        result.update(build_s=previous["build_s"], build_measured_at=previous["build_measured_at"])
    total, files, parts = bundle_size(BUNDLE)
    result.update(flavour=flavour(BUNDLE), size_bytes=total, size_gib=round(total / GIB, 2), files=files,
                  components_mib={k: round(v / 2**20, 1) for k, v in list(parts.items())[:12]})
    result["startup_version_bundle"] = startup_times([str(EXECUTABLE), "--version"], args.runs, env)
    result["startup_version_source"] = startup_times([sys.executable, "-m", "g2g_desktop", "--version"],
                                                     args.runs, env)
    seconds, output, rc = timed([str(EXECUTABLE), "--self-test"], env)
    result["self_test"] = {"exit_code": rc, "wall_s": round(seconds, 1),
                           "lines": [line for line in output.splitlines() if line.strip()]}
    return result


def markdown(r: dict) -> str:
    lines = [
        f"# Standalone bundle ({r['platform']}, {r['flavour']} torch)",
        "",
        f"Measured {r['measured_at']} by `bench/frozen_bundle.py` on {r['cpu_count']} CPU cores "
        f"(Python {r['python']}).",
        "",
        "| measure | value |",
        "|---|---|",
    ]
    if "build_s" in r:
        lines.append(f"| PyInstaller build (`make dist`, measured {r['build_measured_at']}) | {r['build_s']:.0f} s |")
    b, s = r["startup_version_bundle"], r["startup_version_source"]
    lines += [
        f"| bundle size `dist/G2G-Desktop/` | {r['size_gib']:.2f} GiB ({r['files']:,} files) |",
        f"| start-up `G2G-Desktop --version`, first run | {b['first_s']:.2f} s |",
        f"| start-up `G2G-Desktop --version`, median of the next runs | {b['median_rest_s']:.2f} s |",
        f"| reference: `python -m g2g_desktop --version` from source, median | {s['median_rest_s']:.2f} s |",
        f"| `G2G-Desktop --self-test` (exit {r['self_test']['exit_code']}) | {r['self_test']['wall_s']:.0f} s |",
    ]
    if "build_s" in r:
        lines.append(f"| build + frozen self-test | {r['build_s'] + r['self_test']['wall_s']:.0f} s |")
    lines += ["", "Largest parts of `_internal/` (MiB):", "", "| component | MiB |", "|---|---|"]
    lines += [f"| {name} | {mib:,.1f} |" for name, mib in r["components_mib"].items()]
    lines += ["", "Self-test output:", "", "```", *r["self_test"]["lines"], "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="run and time the PyInstaller build first")
    parser.add_argument("--runs", type=int, default=4, help="start-up runs per command (first + median of rest)")
    args = parser.parse_args(argv)
    stem = RESULTS / f"bundle_{platform.system().lower()}-{platform.machine()}"
    json_path = stem.with_suffix(".json")
    previous = json.loads(json_path.read_text(encoding="utf-8")) if json_path.is_file() else {}
    result = measure(args, previous)
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    stem.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0 if result["self_test"]["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
