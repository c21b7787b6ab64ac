"""G2G Desktop: disentangled face mixing with the G2G cross-training architecture."""

import os

__version__ = "0.1.0"


def use_passive_openmp_wait() -> None:
    """Make idle OpenMP threads sleep instead of spin: entry points call this before torch loads.

    OpenMP reads its wait policy once, when torch loads. Its default lets idle worker threads spin, which
    on a busy machine (the GUI, a training thread and other programs sharing the cores) made every torch
    op wait for spinning threads: the slider's decode took 49–557 ms instead of 14–20 ms with PASSIVE
    (bench/results/cpu_intel-xeon-amx.md, "options"). A process-wide setting, so only the app's and the CLIs' `main`
    make it, never an import; a user's value wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
