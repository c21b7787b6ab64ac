"""`python -m bench.run [--quick] [--only SECTION ...]`: run the benchmarks and write
`bench/results/<name>.json` + `<name>.md` (name: "cpu", or "cuda" when a GPU is used).

`--quick` runs every suite on a tiny model with few repeats (the smoke test uses it; seconds, not
minutes). The full run is sized to finish in under 10 minutes on 2 shared CPU cores.
`make bench` runs it with OMP_WAIT_POLICY=PASSIVE (unless set), the policy the app's and CLIs' entry points
set; the settings of the report record the one in force.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from g2g_desktop.core.messages import typed_first_line

from .bf16 import bf16_section
from .cuda import cuda_section
from .gui import gui_section
from .harness import cpu_slug, machine_info, matmul_peak_gflops
from .inference import Budget, inference_sections
from .memory_format import memory_format_section
from .options import options_section
from .report import Report, Section
from .scaling import scaling_section
from .startup import startup_section
from .study_step import study_step_section
from .workloads import default_model, funit_animals, tiny_model

SECTIONS = ("options", "inference", "scaling", "training", "bf16", "channels_last", "study", "startup", "gui", "cuda")
RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny model, few repeats (smoke test)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these suites")
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile on the CPU (minutes)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON and Markdown results")
    parser.add_argument("--name", help="result file name without suffix (default: cpu_<CPU kind>, "
                        "or cuda with a GPU): each CPU kind keeps its own committed results")
    return parser.parse_args(argv)


def _guarded(name: str, build: Callable[[], list[Section]]) -> list[Section]:
    """A suite that fails is reported as failed, not lost with the rest of the run."""
    try:
        return build()
    except Exception as exc:  # recorded in the results and echoed, the other suites still run
        traceback.print_exc()
        line = typed_first_line(exc)
        return [Section(name, f"{name} (failed)", skipped=f"failed: {line}")]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    start = time.perf_counter()
    wanted = set(args.only or SECTIONS)
    quick = args.quick
    budget = Budget(heavy=1, light=3, matrix=1) if quick else Budget()
    if quick:
        large = default = tiny_model()
    else:
        large, default = funit_animals(), default_model()
    models = {"large": large, "default": default}
    peak = matmul_peak_gflops()
    report = Report(
        machine=machine_info(),
        settings={
            "quick": quick,
            "budget": vars(budget) if hasattr(budget, "__dict__") else str(budget),
            "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
            "matmul_peak_gflops": round(peak, 2),
            "models": {k: m.describe() for k, m in models.items()},
        },
    )
    if default.name.endswith("(stand-in)"):
        report.notes.append(f"The default model file is missing: '{default.name}' is {default.source}.")
    sizes = (32, 64) if quick else (64, 128, 256)

    suites: list[tuple[str, Callable[[], list[Section]]]] = [
        ("options", lambda: [options_section(default, min(budget.light, 9), with_compile=args.compile,
                                             probe_args=["--quick"] if quick else [])]),
        ("inference", lambda: inference_sections(models, budget, batches=(1, 2) if quick else (1, 8),
                                                 matrix_sizes=(3, 4) if quick else (8, 16), peak_gflops=peak)),
        ("scaling", lambda: [scaling_section(default, sizes=sizes, batches=(1, 2) if quick else (1, 4, 8),
                                             repeats=budget.heavy, peak_gflops=peak)]),
        ("training", lambda: _training(default, quick, budget, peak)),
        ("bf16", lambda: [bf16_section(models, repeats=budget.light, train_batch=1 if quick else 4,
                                       train_repeats=max(1, budget.heavy - 1))]),
        ("channels_last", lambda: [memory_format_section(models, repeats=max(1, budget.heavy - 1),
                                                         train_batch=1 if quick else 4)]),
        ("study", lambda: [study_step_section(repeats=2 * budget.heavy, batch=1 if quick else 8)]),
        ("startup", lambda: [startup_section(quick)]),
        ("gui", lambda: [gui_section(quick)]),
        ("cuda", lambda: [cuda_section(models, budget)]),
    ]
    for name, build in suites:
        if name not in wanted:
            continue
        print(f"[bench] {name} …", flush=True)
        t = time.perf_counter()
        report.sections += _guarded(name, build)
        print(f"[bench] {name} done in {time.perf_counter() - t:.0f} s", flush=True)
    report.duration_s = time.perf_counter() - start
    report.settings["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    report.settings["matmul_peak_gflops_end"] = round(matmul_peak_gflops(), 2)
    name = args.name or ("cuda" if torch.cuda.is_available() else f"cpu_{cpu_slug()}")
    json_path, md_path = report.write(args.out, name)
    print(f"[bench] wrote {json_path} and {md_path} in {report.duration_s:.0f} s")
    return 0


def _training(model, quick: bool, budget: Budget, peak: float) -> list[Section]:
    from .training import training_sections

    return training_sections(
        model,
        batch=1 if quick else 4,
        scale_sizes=(32,) if quick else (64, 128, 256),
        scale_batches=(1, 2) if quick else (1, 4, 8),
        repeats=max(1, budget.heavy - 1),
        peak_gflops=peak,
    )


if __name__ == "__main__":
    sys.exit(main())
