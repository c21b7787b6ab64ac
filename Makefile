# Two commands do all set-up: `make run` and `make test`. Both create .venv when missing and
# install once; the stamp file makes later calls fast.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH_PIN := torch==2.14.1 torchvision==0.29.1

.PHONY: run test lint install default-model study bench dist selftest-frozen screenshots clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PIN)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/g2g-desktop

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# G2G_TEST_FROZEN=1 also builds the standalone bundle and tests it (about 10 more minutes; docs/download.md).
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q
	@if [ "$${G2G_TEST_FROZEN:-0}" = 1 ]; then $(MAKE) dist selftest-frozen; fi

# Standalone onedir bundle dist/G2G-Desktop/ (the venv's torch decides CPU-only or CUDA; docs/download.md).
dist: $(STAMP)
	$(PY) -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
		build_spec/g2g_desktop.spec

# Tests of the built bundle (`make dist` first): --self-test, --version/--help, Qt libraries resolve.
selftest-frozen: $(STAMP)
	@test -x dist/G2G-Desktop/G2G-Desktop || { echo "no bundle: run 'make dist' first"; exit 1; }
	G2G_TEST_FROZEN=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider tests/test_frozen.py

# The embedded default model: trains on procedural faces with g2g-train, then exports and measures it.
default-model: $(STAMP)
	$(PY) -m trainer.default_model

# The model study (docs/study.md): every named recipe on a fixed budget, measured on held-out ground truth.
# Resumable; `$(PY) -m trainer.study --only NAME` reproduces one row.
study: $(STAMP)
	$(PY) -m trainer.study

# Benchmarks (< 10 min on 2 CPU cores): bench/results/cpu_<CPU kind>.json + .md (cuda.* with a GPU); --quick for a smoke run.
bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-PASSIVE} $(PY) -m bench.run

clean:
	rm -rf build dist .pytest_cache .ruff_cache
