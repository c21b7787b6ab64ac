"""Timing, memory and machine facts for the benchmarks.

The bench machine is shared (2 CPU cores, several people), so absolute times drift by tens of percent
within a minute. Every figure is therefore a *ratio* against a baseline measured in the same run, and
the two sides are measured interleaved (A, B, A, B, …) so that a burst of foreign load hits both.
The ratio reported is the median of the per-round ratios, which is robust against one slow round.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import resource
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from g2g_desktop.core.device import cpu_flags as core_cpu_flags
from g2g_desktop.core.device import cpu_model_name, cpuinfo_field


@dataclass(frozen=True)
class Timing:
    """Wall-clock milliseconds over repeated runs of one workload."""

    median_ms: float
    min_ms: float
    max_ms: float
    iqr_ms: float  # spread: 75th minus 25th percentile
    repeats: int
    samples_ms: tuple[float, ...]

    @classmethod
    def of(cls, samples_ms: list[float]) -> Timing:
        ordered = sorted(samples_ms)
        if len(ordered) >= 2:
            q = statistics.quantiles(ordered, n=4, method="inclusive")
            iqr = q[2] - q[0]
        else:
            iqr = 0.0
        return cls(
            median_ms=statistics.median(ordered),
            min_ms=ordered[0],
            max_ms=ordered[-1],
            iqr_ms=iqr,
            repeats=len(ordered),
            samples_ms=tuple(round(s, 3) for s in samples_ms),
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["samples_ms"] = list(self.samples_ms)
        return d


def synchronize(device: torch.device | str | None) -> None:
    """CUDA kernels run asynchronously: wait for them before reading the clock."""
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def time_once(fn: Callable[[], object], device: torch.device | str | None = None) -> float:
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return (time.perf_counter() - start) * 1000.0


def measure(
    fn: Callable[[], object], *, repeats: int, warmup: int = 1, device: torch.device | str | None = None
) -> Timing:
    for _ in range(warmup):
        fn()
    return Timing.of([time_once(fn, device) for _ in range(repeats)])


@dataclass(frozen=True)
class Comparison:
    """Two workloads measured interleaved. `ratio` = median over rounds of baseline_ms / candidate_ms."""

    baseline: Timing
    candidate: Timing
    ratio: float

    def to_dict(self) -> dict:
        return {"baseline": self.baseline.to_dict(), "candidate": self.candidate.to_dict(), "ratio": self.ratio}


def compare(
    baseline: Callable[[], object],
    candidate: Callable[[], object],
    *,
    repeats: int,
    warmup: int = 1,
    device: torch.device | str | None = None,
) -> Comparison:
    """Alternate baseline and candidate `repeats` times (the order flips every round)."""
    for _ in range(warmup):
        baseline()
        candidate()
    b, c = [], []
    for i in range(repeats):
        if i % 2 == 0:
            b.append(time_once(baseline, device))
            c.append(time_once(candidate, device))
        else:
            c.append(time_once(candidate, device))
            b.append(time_once(baseline, device))
    ratio = statistics.median(bi / ci for bi, ci in zip(b, c))
    return Comparison(Timing.of(b), Timing.of(c), ratio)


# ---------------------------------------------------------------------- memory
def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: fall back to the high-water mark
        return _maxrss_bytes()


def _release_free_memory() -> None:
    """Hand memory freed earlier back to the OS (glibc keeps it otherwise), so the resident set before a
    block is a fair zero for the peak inside it."""
    if platform.system() == "Linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def _maxrss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if platform.system() == "Darwin" else rss * 1024


class PeakMemory:
    """Peak extra memory of the block: CUDA `max_memory_allocated` on a GPU; on the CPU the peak of the
    resident set sampled every millisecond minus the resident set at entry (after glibc's free memory
    was handed back, so reused pages count again).

    torch's CPU allocator bypasses Python's, so `tracemalloc` cannot see tensors; `ru_maxrss` only moves
    when the process beats its lifetime record, so it is reported as well but is usually 0.
    """

    def __init__(self, device: torch.device | str = "cpu", interval_s: float = 0.001):
        self.device = torch.device(device)
        self.interval_s = interval_s
        self.peak_bytes = 0
        self.maxrss_delta_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device)
            return self
        _release_free_memory()
        self._start = _rss_bytes()
        self._maxrss = _maxrss_bytes()
        self._peak = self._start
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._peak = max(self._peak, _rss_bytes())

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak_bytes = torch.cuda.max_memory_allocated(self.device) - self._start
            return
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self._peak = max(self._peak, _rss_bytes())
        self.peak_bytes = self._peak - self._start
        self.maxrss_delta_bytes = _maxrss_bytes() - self._maxrss


# ---------------------------------------------------------------------- machine
# AMD's CPU family numbers of the Zen generations: bench figures from one generation do not carry to another.
_AMD_FAMILIES = {23: "Zen/Zen 2", 25: "Zen 3/Zen 4", 26: "Zen 5"}
_NOTED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile")


def cpu_name() -> str:
    """The model name with the family and model numbers, which name a CPU kind when the model name does not
    ("AMD EPYC" is all a virtual machine may show, on Zen 3, 4 and 5 alike)."""
    name = cpu_model_name() or platform.machine()
    family, model = cpuinfo_field("cpu family"), cpuinfo_field("model\t")
    if family is None:
        return name
    generation = _AMD_FAMILIES.get(int(family)) if "AMD" in name and family.isdigit() else None
    return f"{name} (family {family}, model {model}{f': {generation}' if generation else ''})"


def cpu_slug() -> str:
    """A file-name form of the CPU kind ("amd-epyc-f26-m2"): each kind keeps its own committed results."""
    name = (cpu_model_name() or platform.machine()).lower()
    words = "-".join("".join(c if c.isalnum() else " " for c in name).split()[:3])
    family, model = cpuinfo_field("cpu family"), cpuinfo_field("model\t")
    return f"{words}-f{family}-m{model}" if family is not None else words


def cpu_flags() -> list[str]:
    """The vector extensions that decide which CPU kernels torch can use."""
    flags = core_cpu_flags()
    return [f for f in _NOTED_FLAGS if f in flags]


def machine_info() -> dict:
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu_name(),
        "cpu_flags": cpu_flags(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cuda_build": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "gpu": None,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info["gpu"] = {
            "name": props.name,
            "memory_gib": round(props.total_memory / 2**30, 1),
            "capability": f"{props.major}.{props.minor}",
            "cudnn": torch.backends.cudnn.version(),
            "bf16": torch.cuda.is_bf16_supported(),
        }
    return info


def matmul_peak_gflops(device: torch.device | str = "cpu", n: int = 1536, repeats: int = 10) -> float:
    """Best observed fp32 GFLOP/s of an n×n matmul: the practical FLOP ceiling the models are compared to.
    The best of several tries, because on a shared machine any single try may land in someone's burst."""
    device = torch.device(device)
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    best = min(time_once(lambda: a @ b, device) for _ in range(repeats + 1))
    return 2 * n**3 / (best / 1000.0) / 1e9
