"""What the onedir bundle leaves out beyond PyInstaller's own import analysis, as pure, testable rules.

PyInstaller collects every plugin family and translation of each Qt module the app imports, and the
torch hook collects all of torch. The app needs far less: Qt's offscreen/xcb/minimal platform
plugins (plus xcb's GL integrations), image-format and icon-engine plugins, no translations (the UI
is English only), and none of torch's build tools. The CUDA libraries stay: they are what makes the
CUDA bundle use a GPU.

The spec applies `keep_entry` to `Analysis.binaries` and `Analysis.datas`, then `unused_qt_libraries`
drops Qt shared libraries that only the dropped plugins linked to (QtPdf, QtWayland*, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

# Modules the app never imports; several would otherwise arrive through optional imports of torch,
# PIL or qtpy. Only PySide6 may be collected as Qt binding (qdarkstyle brings qtpy, which probes all).
EXCLUDED_MODULES = (
    "tkinter",
    "_tkinter",
    "matplotlib",
    "IPython",
    "scipy",
    "skimage",
    "pytest",
    "_pytest",
    "pytestqt",
    "hypothesis",
    "triton",  # torch's GPU compiler back end: unused at inference and in eager training, ~0.9 GB
    "PyQt5",
    "PyQt6",
    "PySide2",
    "tensorboard",
    "torch.utils.tensorboard",
    # torch's own test suites (torch.testing._internal itself is imported by `import torch`)
    "torch.testing._internal.distributed",
    "torch.testing._internal.opinfo",
    "torch.testing._internal.optests",
    "torch.testing._internal.generated",
)

# torchvision 0.29 renamed its compiled modules; the contrib hook still names the old ones.
HIDDEN_IMPORTS = ("torchvision._C_stable", "torchvision.image_stable")

QT_ROOT = PurePosixPath("PySide6/Qt")
QT_PLUGIN_DIR = QT_ROOT / "plugins"
QT_LIB_DIR = QT_ROOT / "lib"

KEPT_QT_PLUGINS: dict[str, frozenset[str] | None] = {
    # plugin family -> kept file names (None: the whole family)
    "platforms": frozenset({"libqoffscreen.so", "libqxcb.so", "libqminimal.so"}),
    "xcbglintegrations": None,
    "imageformats": None,
    "iconengines": None,
}
DROPPED_IMAGE_FORMATS = frozenset({"libqpdf.so"})  # a PDF renderer that pulls in all of QtPdf

DROPPED_PATHS = (
    QT_ROOT / "translations",
    PurePosixPath("torch/bin/protoc"),  # protobuf compiler, a build tool (two 5 MB copies)
    PurePosixPath("torch/bin/protoc-3.21.12.0"),
    PurePosixPath("qdarkstyle/example"),
)


def _under(path: PurePosixPath, folder: PurePosixPath) -> bool:
    return path == folder or folder in path.parents


def keep_entry(dest_name: str) -> bool:
    """False for a bundle path (as in a TOC entry's destination) that the app does not need."""
    path = PurePosixPath(dest_name.replace("\\", "/"))
    if any(_under(path, dropped) for dropped in DROPPED_PATHS):
        return False
    if _under(path, QT_PLUGIN_DIR) and path != QT_PLUGIN_DIR:
        family = path.relative_to(QT_PLUGIN_DIR).parts[0]
        if family not in KEPT_QT_PLUGINS:
            return False
        kept = KEPT_QT_PLUGINS[family]
        if kept is not None and path.name not in kept:
            return False
        if family == "imageformats" and path.name in DROPPED_IMAGE_FORMATS:
            return False
    is_test_data = "tests" in path.parts[:-1] and path.suffix not in (".py", ".pyc", ".so")
    return not is_test_data  # test data of third-party packages


def is_qt_library(dest_name: str) -> bool:
    return _under(PurePosixPath(dest_name.replace("\\", "/")), QT_LIB_DIR)


def unused_qt_libraries(
    entries: Iterable[tuple[str, str]], needed_by: Callable[[str], Iterable[str]]
) -> set[str]:
    """Destination names of Qt libraries that no kept binary needs, directly or through other Qt libraries.

    `entries` are (destination name, source path) of the kept binaries; `needed_by(source)` returns the
    file names (sonames) a binary links against (ldd, DT_NEEDED). The roots are every binary outside
    Qt's lib folder (PySide6's extension modules, the kept plugins, ...).
    """
    entries = list(entries)
    qt_libs = {PurePosixPath(dest).name: (dest, src) for dest, src in entries if is_qt_library(dest)}
    pending = [src for dest, src in entries if not is_qt_library(dest)]
    used: set[str] = set()
    while pending:
        for name in needed_by(pending.pop()):
            if name in qt_libs and name not in used:
                used.add(name)
                pending.append(qt_libs[name][1])
    return {dest for name, (dest, _) in qt_libs.items() if name not in used}
