"""Benchmarks with committed results (`make bench`, `python -m bench.run`). Figures are ratios against a
baseline measured in the same run; see `bench/results/` and `docs/performance.md`."""

import g2g_desktop  # noqa: F401  (first: it sets the process-wide OpenMP policy before anything loads torch)
