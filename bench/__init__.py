"""Benchmarks with committed results (`make bench`, `python -m bench.run`). Figures are ratios against a
baseline measured in the same run; see `bench/results/` and `docs/performance.md`."""
