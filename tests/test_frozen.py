"""The standalone bundle: resource paths frozen and from source, the bundle's filter rules, the self-test logic.

The tests of the built bundle itself (`dist/G2G-Desktop/G2G-Desktop --self-test`, `--version`, `--help`,
shared-library resolution) run only with G2G_TEST_FROZEN=1 after `make dist` (see `make selftest-frozen`).
"""

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from g2g_desktop import __version__, selftest
from g2g_desktop.core import resources
from g2g_desktop.core.config import FunitGeneratorConfig
from g2g_desktop.core.funit import FunitGenerator
from g2g_desktop.core.model_file import save_model
from trainer.presets import preset_sizes

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "G2G-Desktop"
EXECUTABLE = BUNDLE / "G2G-Desktop"
FROZEN = os.environ.get("G2G_TEST_FROZEN") == "1"


def _load_bundle_filter():
    spec = importlib.util.spec_from_file_location("bundle_filter", ROOT / "build_spec" / "bundle_filter.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle_filter = _load_bundle_filter()


# --------------------------------------------------------------------------- resources


def test_resource_root_from_source(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert resources.resource_root() == ROOT / "resources"
    assert resources.default_model_path() == ROOT / "resources" / "models" / "default.safetensors"


def test_resource_root_frozen_is_inside_the_bundle(monkeypatch, tmp_path):
    (tmp_path / "resources" / "samples").mkdir(parents=True)
    for name in ("b.png", "a.jpg", "notes.txt"):
        (tmp_path / "resources" / "samples" / name).write_bytes(b"")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resource_root() == tmp_path / "resources"
    assert resources.default_model_path() == tmp_path / "resources" / "models" / "default.safetensors"
    assert [p.name for p in resources.sample_paths()] == ["a.jpg", "b.png"]


def test_frozen_flag_without_meipass_falls_back_to_source(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # e.g. another freezer
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    assert resources.resource_root() == ROOT / "resources"


# --------------------------------------------------------------------------- bundle filter


@pytest.mark.parametrize(
    ("dest", "kept"),
    [
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", False),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
        ("PySide6/Qt/plugins/imageformats/libqjpeg.so", True),
        ("PySide6/plugins/platforms/qwindows.dll", True),
        ("PySide6/plugins/platforms/qdirect2d.dll", False),
        ("PySide6/plugins/imageformats/qpdf.dll", False),
        ("PySide6/plugins/imageformats/qjpeg.dll", True),
        ("PySide6/translations/qtbase_fr.qm", False),
        ("PySide6/Qt/plugins/platforms/libqcocoa.dylib", True),
        ("PySide6/Qt/plugins/imageformats/libqpdf.so", False),
        ("PySide6/Qt/plugins/xcbglintegrations/libqxcb-glx-integration.so", True),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
        ("PySide6/Qt/plugins/wayland-shell-integration/libxdg-shell.so", False),
        ("PySide6/Qt/translations/qtbase_de.qm", False),
        ("PySide6/Qt/lib/libQt6Charts.so.6", True),
        ("torch/bin/protoc", False),
        ("torch/bin/torch_shm_manager", True),
        ("torch/lib/libtorch_cuda.so", True),
        ("nvidia/cudnn/lib/libcudnn.so.9", True),
        ("somepkg/tests/data/big.bin", False),
        ("facenet_pytorch/data/pnet.pt", True),
        ("facenet_pytorch/models/mtcnn.py", True),
        ("qdarkstyle/dark/rc/arrow_down.png", True),
        ("resources/models/default.safetensors", True),
    ],
)
def test_keep_entry(dest, kept):
    assert bundle_filter.keep_entry(dest) is kept


def test_orphaned_libraries_are_those_only_dropped_binaries_needed():
    needs = {
        "/v/QtWidgets.abi3.so": ["libQt6Widgets.so.6", "libc.so.6"],
        "/v/libQt6Widgets.so.6": ["libQt6Gui.so.6"],
        "/v/libQt6Gui.so.6": ["libQt6Core.so.6"],
        "/v/libQt6Core.so.6": ["libicui18n.so.73", "libglib-2.0.so.0"],
        "/v/libQt6Pdf.so.6": ["libQt6Core.so.6"],
        "/v/libqxcb.so": ["libQt6XcbQpa.so.6", "libX11.so.6"],
        "/v/libQt6XcbQpa.so.6": ["libQt6Gui.so.6"],
        "/v/libqpdf.so": ["libQt6Pdf.so.6", "libQt6Gui.so.6"],
        "/v/libqgtk3.so": ["libgtk-3.so.0", "libglib-2.0.so.0", "libX11.so.6"],
        "/v/libgtk-3.so.0": ["libatk-1.0.so.0", "libglib-2.0.so.0"],
        "/v/libatk-1.0.so.0": ["libglib-2.0.so.0"],
        "/v/libcudnn_engines.so.9": [],  # dlopen'ed: nothing links to it, never a suspect
    }
    lib = "PySide6/Qt/lib/"
    kept = [
        ("PySide6/QtWidgets.abi3.so", "/v/QtWidgets.abi3.so"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/v/libqxcb.so"),
        *((lib + name, "/v/" + name) for name in
          ("libQt6Widgets.so.6", "libQt6Gui.so.6", "libQt6Core.so.6", "libQt6Pdf.so.6", "libQt6XcbQpa.so.6")),
        *((name, "/v/" + name) for name in
          ("libgtk-3.so.0", "libatk-1.0.so.0", "libglib-2.0.so.0", "libX11.so.6", "libcudnn_engines.so.9")),
    ]
    dropped = [("PySide6/Qt/plugins/imageformats/libqpdf.so", "/v/libqpdf.so"),
               ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/v/libqgtk3.so")]
    orphans = bundle_filter.orphaned_libraries(kept, dropped, lambda src: needs.get(src, []))
    assert orphans == {lib + "libQt6Pdf.so.6", "libgtk-3.so.0", "libatk-1.0.so.0"}


def test_dangling_links_point_at_dropped_files():
    links = [("libQt6Core.so.6", "PySide6/Qt/lib/libQt6Core.so.6"), ("libQt6Pdf.so.6", "PySide6/Qt/lib/libQt6Pdf.so.6"),
             ("torch/lib/libc10.so", "../../libc10.so")]
    present = {"PySide6/Qt/lib/libQt6Core.so.6", "libc10.so"}
    assert bundle_filter.dangling_links(links, present) == {"libQt6Pdf.so.6"}


def test_second_qt_bindings_and_heavy_extras_are_excluded():
    for name in ("PyQt5", "PyQt6", "PySide2", "tkinter", "matplotlib", "IPython", "scipy", "pytest", "triton"):
        assert name in bundle_filter.EXCLUDED_MODULES
    assert set(bundle_filter.HIDDEN_IMPORTS) == {"torchvision._C_stable", "torchvision.image_stable", "dlib",
                                                 "_dlib_pybind11"}


# --------------------------------------------------------------------------- self-test logic from source


@pytest.fixture
def one_thread():
    """Tiny nets on a shared 2-core machine run fastest (and steadiest) single-threaded."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_resources(tmp_path, one_thread):
    torch.manual_seed(0)
    config = FunitGeneratorConfig(**preset_sizes("tiny", "funit2funit")[0], image_size=32)
    model = tmp_path / "default.safetensors"
    save_model(model, FunitGenerator(config), approach="funit2funit", step=3)
    samples = []
    for i, colour in enumerate([(200, 150, 120), (90, 60, 40)]):
        path = tmp_path / f"sample_{i}.png"
        Image.new("RGB", (48, 40), colour).save(path)
        samples.append(path)
    return model, samples


def _context(tmp_path, model, samples):
    return selftest.SelfTestContext(work_dir=tmp_path / "work", model_path=model, samples=samples, device="cpu")


def test_non_window_checks_pass_on_a_tiny_model(tmp_path, tiny_resources):
    model, samples = tiny_resources
    lines = []
    results = selftest.run_checks(selftest.NON_WINDOW_CHECKS, _context(tmp_path, model, samples), lines.append)
    assert [r.passed for r in results] == [True] * len(results), lines
    assert [r.name for r in results] == [name for name, _ in selftest.NON_WINDOW_CHECKS]
    assert lines[1].startswith("[PASS] load default model (") and "funit 32px" in lines[1]
    assert "grid 70x104" in lines[2]  # 2·32 + 3·2 wide, 3·32 + 4·2 high
    assert lines[4].startswith("[PASS] identity judge (") and "128-d descriptor of sample_0.png" in lines[4]
    assert "2 steps, checkpoint, resume, 2 more" in lines[5]
    assert (tmp_path / "work" / "run" / "checkpoints" / "state_00000004.pt").is_file()


def test_missing_model_fails_its_check_and_the_mix(tmp_path, tiny_resources):
    _, samples = tiny_resources
    missing = tmp_path / "nowhere" / "default.safetensors"
    checks = tuple(c for c in selftest.NON_WINDOW_CHECKS if c[0] != "train, checkpoint and resume")
    lines = []
    results = selftest.run_checks(checks, _context(tmp_path, missing, samples), lines.append)
    by_name = {r.name: r for r in results}
    assert not by_name["load default model"].passed
    assert lines[1] == f"[FAIL] load default model ({by_name['load default model'].seconds:.1f} s) " \
        f"default model missing: {missing}"
    assert not by_name["mix sample pair"].passed
    assert by_name["torch runtime"].passed and by_name["face detector"].passed


JUDGE_CHECK = ("identity judge", selftest.check_identity_judge)


def test_judge_check_names_a_missing_model_file(tmp_path, tiny_resources, monkeypatch):
    from g2g_desktop.core import judge

    _, samples = tiny_resources
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / judge.MODEL_FILES[0]).write_bytes(b"")  # the shape predictor is there, the recogniser is not
    monkeypatch.setattr(judge, "_find_model_folder", lambda: folder)
    result = selftest.run_check(*JUDGE_CHECK, _context(tmp_path, tmp_path / "m", samples))
    assert not result.passed
    assert result.line() == f"[FAIL] identity judge ({result.seconds:.1f} s) JudgeUnavailable: {folder}: " \
        "model file(s) missing: dlib_face_recognition_resnet_model_v1.dat"


def test_judge_check_in_a_bundle_without_the_model_files_names_both(tmp_path, tiny_resources, monkeypatch):
    _, samples = tiny_resources
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    result = selftest.run_check(*JUDGE_CHECK, _context(tmp_path, tmp_path / "m", samples))
    folder = tmp_path / "bundle" / "face_recognition_models" / "models"
    assert not result.passed and result.detail == f"JudgeUnavailable: {folder}: model file(s) missing: " \
        "shape_predictor_5_face_landmarks.dat, dlib_face_recognition_resnet_model_v1.dat"


def test_judge_check_names_a_missing_dlib(tmp_path, tiny_resources, monkeypatch):
    _, samples = tiny_resources
    monkeypatch.setitem(sys.modules, "dlib", None)  # what a bundle without dlib's native module gives
    result = selftest.run_check(*JUDGE_CHECK, _context(tmp_path, tmp_path / "m", samples))
    assert not result.passed and result.detail.startswith("JudgeUnavailable: the identity judge cannot import dlib (")
    assert "'dlib-bin' package" in result.detail


def test_window_check_renders_the_sample_pair_and_closes(tmp_path, tiny_resources, monkeypatch):
    from g2g_desktop.ui import app

    model, samples = tiny_resources
    monkeypatch.setattr(app, "sample_paths", lambda: samples)
    result = selftest.run_check(*selftest.WINDOW_CHECK, _context(tmp_path, model, samples))
    assert result.passed, result.detail
    assert "(offscreen), grid rendered" in result.detail and result.detail.endswith("closed")


def test_window_check_waits_for_the_work_the_window_started(tmp_path, tiny_resources, monkeypatch):
    """A judge's fade curve still running when the self-test exited aborted the bundle after "self-test passed"."""
    from g2g_desktop.ui import app, photo_tools
    from g2g_desktop.ui.threads import running_workers

    model, samples = tiny_resources
    monkeypatch.setattr(app, "sample_paths", lambda: samples)
    real_curve = photo_tools.fade_curve

    def slow_curve(*args, **kwargs):
        time.sleep(2.0)
        return real_curve(*args, **kwargs)

    monkeypatch.setattr(photo_tools, "fade_curve", slow_curve)
    result = selftest.run_check(*selftest.WINDOW_CHECK, _context(tmp_path, model, samples))
    assert result.passed, result.detail
    assert running_workers() == []


def test_window_check_fails_on_a_broken_model(tmp_path, tiny_resources, monkeypatch):
    from g2g_desktop.ui import app

    _, samples = tiny_resources
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a model")
    monkeypatch.setattr(app, "sample_paths", lambda: samples)
    result = selftest.run_check(*selftest.WINDOW_CHECK, _context(tmp_path, broken, samples))
    assert not result.passed and "broken.safetensors" in result.detail


def test_window_check_fails_fast_without_model_or_samples(tmp_path, tiny_resources, monkeypatch):
    from g2g_desktop.ui import app

    model, samples = tiny_resources
    missing = tmp_path / "missing.safetensors"
    monkeypatch.setattr(app, "sample_paths", lambda: samples)
    result = selftest.run_check(*selftest.WINDOW_CHECK, _context(tmp_path, missing, samples))
    assert not result.passed and result.detail == f"main window: no model at {missing}" and result.seconds < 5
    monkeypatch.setattr(app, "sample_paths", lambda: samples[:1])
    result = selftest.run_check(*selftest.WINDOW_CHECK, _context(tmp_path, model, samples))
    assert not result.passed and "fewer than two sample images" in result.detail


def test_a_crashing_check_becomes_one_fail_line(tmp_path):
    def broken(ctx):
        raise RuntimeError("boom\nsecond line")

    result = selftest.run_check("broken", broken, _context(tmp_path, tmp_path / "m", []))
    assert not result.passed
    assert result.line().startswith("[FAIL] broken (") and result.line().endswith("RuntimeError: boom second line")


def test_main_exits_nonzero_when_a_check_fails(monkeypatch, capsys):
    monkeypatch.setattr(selftest, "NON_WINDOW_CHECKS", (("ok", lambda ctx: "fine"), ("bad", lambda ctx: 1 / 0)))
    assert selftest.main(window=False) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"G2G Desktop {__version__} self-test (source")
    assert out[1].startswith("[PASS] ok (") and out[2].startswith("[FAIL] bad (")
    assert out[-1].startswith("self-test FAILED: 1 of 2 checks (bad)")


def test_main_exits_zero_when_all_pass(monkeypatch, capsys):
    monkeypatch.setattr(selftest, "NON_WINDOW_CHECKS", (("ok", lambda ctx: "fine"),))
    assert selftest.main(window=False) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("self-test passed: 1 checks")


# --------------------------------------------------------------------------- the built bundle

frozen_only = pytest.mark.skipif(not FROZEN, reason="set G2G_TEST_FROZEN=1 after `make dist` to test the bundle")


def _run_bundle(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}  # the self-test must set it itself
    env.pop("DISPLAY", None)
    return subprocess.run([str(EXECUTABLE), *args], capture_output=True, text=True, timeout=timeout, env=env)


@frozen_only
def test_frozen_self_test_passes():
    proc = _run_bundle("--self-test")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "(bundle," in lines[0]
    checks = [line for line in lines if line.startswith("[")]
    assert len(checks) >= 5 and all(line.startswith("[PASS]") for line in checks), proc.stdout
    judge = next(line for line in checks if line.startswith("[PASS] identity judge ("))
    assert "_internal/face_recognition_models/models: 128-d descriptor of" in judge
    assert lines[-1].startswith("self-test passed")


@frozen_only
def test_frozen_version_and_help():
    version = _run_bundle("--version", timeout=120)
    assert version.returncode == 0 and version.stdout.strip() == f"g2g-desktop {__version__}"
    helped = _run_bundle("--help", timeout=120)
    assert helped.returncode == 0 and "--self-test" in helped.stdout and "mix" in helped.stdout


@frozen_only
def test_frozen_qt_binaries_resolve_their_libraries():
    """Every Qt library and plugin left in the bundle finds what it links to (none lost to the filter)."""
    internal = BUNDLE / "_internal"
    qt = internal / "PySide6" / "Qt"
    binaries = sorted([*qt.glob("lib/*.so*"), *qt.glob("plugins/*/*.so"), *(internal / "PySide6").glob("*.so")])
    assert any(p.name == "libqoffscreen.so" for p in binaries) and any(p.name == "libqxcb.so" for p in binaries)
    env = {**os.environ, "LD_LIBRARY_PATH": str(internal)}
    missing = []
    for path in binaries:
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env).stdout
        missing += [f"{path.name}: {line.strip()}" for line in out.splitlines()
                    if "not found" in line and "libQt6" in line]
    assert missing == []
    assert [str(p) for p in internal.rglob("*") if p.is_symlink() and not p.exists()] == []  # no dangling links
    assert not (qt / "translations").exists()
    assert not (qt / "plugins" / "platforms" / "libqwayland.so").exists()
