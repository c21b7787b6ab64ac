"""Device choice: CUDA when present (with AMP and channels_last), CPU otherwise, one code path.

On a CPU with native bf16 arithmetic (AVX512-BF16 or AMX) bf16 autocast can make the decoder (and
training steps) about twice as fast, but it is not faster everywhere (small convolutions pay oneDNN's
conversion overhead) and it rounds. So it is never switched on by assumption: `compare_bf16` measures
one workload both ways, and the caller keeps bf16 only when it was faster and its result stayed within a
tolerance. `G2G_CPU_BF16` (or a caller's setting) is `auto` (measure), `on` or `off`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

CPU_BF16_MODES = ("auto", "on", "off")
MIN_BF16_SPEEDUP = 1.15
"""bf16 must be at least this much faster in the start-up measurement to be chosen (noise margin)."""


@dataclass(frozen=True)
class DeviceSettings:
    device: torch.device
    amp_dtype: torch.dtype | None  # autocast dtype, None = full fp32
    channels_last: bool
    decode_bf16: str = ""  # non-empty: decode under CPU bf16 autocast; says why (measured speed-up, difference)

    @property
    def label(self) -> str:
        if self.device.type == "cuda":
            name = torch.cuda.get_device_name(self.device)
            amp = {torch.float16: "fp16", torch.bfloat16: "bf16"}.get(self.amp_dtype, "fp32")
            return f"CUDA: {name} ({amp})"
        threads = torch.get_num_threads()
        text = f"CPU ({threads} thread{'s' if threads != 1 else ''}"
        return text + (f", {self.decode_bf16})" if self.decode_bf16 else ")")

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def decode_autocast(self):
        """The decoder's context: bf16 on a CPU where it was measured faster, else as `autocast`."""
        if self.decode_bf16 and self.device.type == "cpu":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return self.autocast()

    def with_decode_bf16(self, note: str) -> DeviceSettings:
        return dataclasses.replace(self, decode_bf16=note)


def pick_device(preferred: str | None = None) -> DeviceSettings:
    """`preferred` (or $G2G_DEVICE) may be 'cpu', 'cuda' or 'cuda:N'; default: CUDA if available."""
    name = preferred or os.environ.get("G2G_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("CUDA was requested but no CUDA device is available")
        amp = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return DeviceSettings(device, amp, channels_last=True)
    return DeviceSettings(device, None, channels_last=False)


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """torch's intra-op thread count set to `count` (at least 1) for the block, then restored.

    The count is process-wide (every thread that starts torch work later takes it), so whoever narrows it
    for a run (the training worker, the self-test) must give the old value back when the run ends.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, count))
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ---------------------------------------------------------------------------------------- CPU bf16
def cpu_bf16_mode(value: str | None = None) -> str:
    """`value`, else $G2G_CPU_BF16, else "auto"; anything else is refused with the allowed words."""
    mode = (value or os.environ.get("G2G_CPU_BF16") or "auto").strip().lower()
    if mode not in CPU_BF16_MODES:
        raise ValueError(f"cpu_bf16 must be one of {', '.join(CPU_BF16_MODES)}, got {mode!r}")
    return mode


def cpu_flags(path: str = "/proc/cpuinfo") -> set[str]:
    try:
        with open(path, encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX-BF16 in the CPU flags (Linux), or AMX in torch's view of the CPU elsewhere."""
    if cpu_flags() & {"avx512_bf16", "amx_bf16"}:
        return True
    return "AMX" in torch.backends.cpu.get_cpu_capability().upper()


@dataclass(frozen=True)
class Bf16Trial:
    """One workload timed in fp32 and under bf16 autocast (best of the interleaved repeats)."""

    fp32_ms: float
    bf16_ms: float
    max_diff: float  # largest |bf16 − fp32| over the output elements
    mean_diff: float
    finite: bool  # the bf16 output had no NaN/Inf

    @property
    def speedup(self) -> float:
        return self.fp32_ms / self.bf16_ms if self.bf16_ms > 0 else 0.0

    def faster(self, min_speedup: float = MIN_BF16_SPEEDUP) -> bool:
        return self.finite and self.speedup >= min_speedup

    def to_dict(self) -> dict[str, float | bool]:
        return {**dataclasses.asdict(self), "speedup": round(self.speedup, 3)}


def compare_bf16(run: Callable[[], torch.Tensor], repeats: int = 3) -> Bf16Trial:
    """Time `run()` (which returns a tensor) in fp32 and under CPU bf16 autocast, interleaved.

    One warm-up call each first: oneDNN builds its bf16 kernels on first use.
    """

    def once(bf16: bool) -> tuple[float, torch.Tensor]:
        context = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        start = time.perf_counter()
        with context:
            out = run()
        out = out.detach().float()
        return (time.perf_counter() - start) * 1000, out

    once(False)
    once(True)
    fp32, bf16 = [], []
    ref = out = None
    for i in range(repeats):
        for bf in (False, True) if i % 2 == 0 else (True, False):
            ms, result = once(bf)
            (bf16 if bf else fp32).append(ms)
            if bf:
                out = result
            else:
                ref = result
    finite = bool(torch.isfinite(out).all())
    diff = (out - ref).abs() if finite else torch.full((1,), float("inf"))
    return Bf16Trial(min(fp32), min(bf16), float(diff.max()), float(diff.mean()), finite)
