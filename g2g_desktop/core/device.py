"""Device choice: CUDA when present (with AMP and channels_last), CPU otherwise, one code path.

channels_last is on for the CPU too: oneDNN's convolutions run faster on NHWC tensors on every CPU kind
measured, for the same arithmetic — G2G forward 1.40× (default model) and 1.06× (FUNIT size) on an AMD
EPYC Zen 5, slider decode 1.13× on an Intel Xeon with AMX, a study training step 1.11× on a Zen 3
(bench/results/cpu_*.md, "options" and "channels_last").

On a CPU with native bf16 arithmetic (AVX512-BF16 or AMX) bf16 autocast makes large convolutions up to
about twice as fast, but it is not faster everywhere (small convolutions pay oneDNN's conversion overhead)
and it rounds. `G2G_CPU_BF16` (or a caller's setting) is `auto`, `on` or `off`; under `auto`,
`auto_cpu_bf16` decides from facts that do not change between two starts on one machine: the CPU's flags
and the size of the work (GFLOP of one G2G cross pass). It used to time a workload both ways at start-up,
so the machine's load at that moment decided a training run's precision, and with it its weights (issue 24).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
from collections.abc import Iterator
from dataclasses import dataclass

import torch

CPU_BF16_MODES = ("auto", "on", "off")
BF16_MIN_GFLOP = 20.0
"""`auto` uses bf16 only for work of at least this many GFLOP per G2G cross pass of one pair.

Measured ratios (fp32 ms / bf16 ms, bench/results and issues 23–24): FUNIT-animals size (128 px, 147 GFLOP
a pass) 1.75× per training step and 1.71× per slider decode on an Intel Xeon with AMX, 1.76× per slider
decode on an AMD EPYC Zen 4 (avx512_bf16); the default model (64 px, 3.5 GFLOP) 1.06× per training step
and 0.99× per slider decode (AMX), the soak's tiny run (32 px, 0.04 GFLOP) 1.06–1.17× (Zen 4), within the
noise. So below a few GFLOP bf16 buys nothing but rounding, at FUNIT size it buys ~1.7×. The boundary
between the two measured sizes is not measured; 20 GFLOP (near their geometric mean) puts FUNIT's
architecture at 64 px (37 GFLOP) on the bf16 side. `on`/`off` override it either way.
"""


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
    return DeviceSettings(device, None, channels_last=True)


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


def cpuinfo_field(name: str, path: str = "/proc/cpuinfo") -> str | None:
    """The value of the first `name : value` line of /proc/cpuinfo (Linux); None elsewhere or without one."""
    try:
        with open(path, encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith(name):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags(path: str = "/proc/cpuinfo") -> set[str]:
    return set((cpuinfo_field("flags", path) or "").split())


def cpu_model_name() -> str:
    """The CPU's model name ("AMD EPYC 9R14 96-Core Processor"), or what the platform says elsewhere."""
    return cpuinfo_field("model name") or platform.processor()


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX-BF16 in the CPU flags (Linux), or AMX in torch's view of the CPU elsewhere."""
    if cpu_flags() & {"avx512_bf16", "amx_bf16"}:
        return True
    return "AMX" in torch.backends.cpu.get_cpu_capability().upper()


def auto_cpu_bf16(gflop: float) -> tuple[bool, str]:
    """`auto`'s choice for work of `gflop` per G2G cross pass, and a note that says why.

    Deterministic for a given machine and model: the same CPU flags and sizes always give the same
    answer, so a seeded run reproduces and a resumed one continues in the precision it started with. A
    timing measured once per machine and cached was the other way: but its first measurement would still
    depend on that moment's load, a second machine of the same kind (or a wiped cache) could choose the
    other way, and it costs seconds at FUNIT size; a rule costs nothing. What the rule cannot know is how
    far bf16 rounding moves a given model's images: the app checks that on the loaded model (pipeline).
    """
    if not cpu_has_native_bf16():
        return False, "fp32 (this CPU has no native bf16)"
    if gflop < BF16_MIN_GFLOP:
        return False, f"fp32 ({gflop:.2g} GFLOP per G2G pass: too small for bf16 to pay, needs {BF16_MIN_GFLOP:g})"
    return True, f"bf16 autocast (native bf16, {gflop:.3g} GFLOP per G2G pass)"
