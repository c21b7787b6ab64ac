"""Suite-wide set-up: Qt must never try to open a real display in tests; the session fixtures that tests of
several packages share (the generated bad-input corpus, tiny model files)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("G2G_DEVICE", "cpu")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app and the CLIs run torch (use_passive_openmp_wait)
os.environ.setdefault("G2G_CPU_BF16", "off")  # fp32: no bf16 check at each model load (bf16 has its own tests)

import pytest

from tests.factories import load_script, tiny_funit_generator, tiny_naive_generator


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory):
    """(corpus folder, list of Case) built once per session by scripts/make_bad_inputs.py."""
    corpus = load_script("make_bad_inputs")
    root = tmp_path_factory.mktemp("bad_inputs")
    cases = corpus.make_corpus(root)
    yield root, cases
    for case in cases:  # mode-000 files would make pytest's tmp clean-up complain
        path = case.path(root)
        if os.path.lexists(path) and not os.path.islink(path):
            os.chmod(path, 0o755)


@pytest.fixture(scope="session")
def tiny_model_files(tmp_path_factory):
    """A valid tiny project model (.safetensors) and a valid tiny FUNIT gen file (.pt)."""
    from g2g_desktop.core.funit_files import save_funit_generators
    from g2g_desktop.core.model_file import save_model

    root = tmp_path_factory.mktemp("tiny_models")
    model, funit = root / "tiny.safetensors", root / "gen_00000010.pt"
    save_model(model, tiny_naive_generator(), approach="naive", step=10)
    save_funit_generators(funit, tiny_funit_generator(), tiny_funit_generator())
    return model, funit
