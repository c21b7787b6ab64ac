"""Suite-wide set-up: Qt must never try to open a real display in tests."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("G2G_DEVICE", "cpu")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app and the CLIs run torch (use_passive_openmp_wait)
os.environ.setdefault("G2G_CPU_BF16", "off")  # fp32: results must not hang on a timing (bf16 has its own tests)
