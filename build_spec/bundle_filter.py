"""What the onedir bundle leaves out beyond PyInstaller's own import analysis, as pure, testable rules.

PyInstaller collects every plugin family and translation of each Qt module the app imports, and the
torch hook collects all of torch. The app needs far less: Qt's offscreen/xcb/minimal platform
plugins (plus xcb's GL integrations), image-format and icon-engine plugins, no translations (the UI
is English only), and none of torch's build tools. The CUDA libraries stay: they are what makes the
CUDA bundle use a GPU.

The spec applies `keep_entry` to `Analysis.binaries` and `Analysis.datas`, then `orphaned_libraries`
drops shared libraries that only the dropped binaries linked to (QtPdf, QtWayland*, GTK, ...), and
`dangling_links` the links PyInstaller made to them.
"""

from __future__ import annotations

import posixpath
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

# torchvision 0.29 renamed its compiled modules; the contrib hook still names the old ones. dlib (the
# identity judge, imported only inside a function) is a package around one native module, `_dlib_pybind11`.
HIDDEN_IMPORTS = ("torchvision._C_stable", "torchvision.image_stable", "dlib", "_dlib_pybind11")

QT_ROOTS = (PurePosixPath("PySide6/Qt"), PurePosixPath("PySide6"))  # Linux and macOS wheels; Windows wheel
QT_PLUGIN_DIRS = tuple(root / "plugins" for root in QT_ROOTS)

KEPT_QT_PLUGINS: dict[str, frozenset[str] | None] = {
    # plugin family -> kept plugin names, without lib prefix and file suffix (None: the whole family);
    # qwindows and qcocoa are the Windows and macOS counterparts of xcb
    "platforms": frozenset({"qoffscreen", "qxcb", "qminimal", "qwindows", "qcocoa"}),
    "xcbglintegrations": None,
    "imageformats": None,
    "iconengines": None,
}
DROPPED_IMAGE_FORMATS = frozenset({"qpdf"})  # a PDF renderer that pulls in all of QtPdf

DROPPED_PATHS = (
    *(root / "translations" for root in QT_ROOTS),
    PurePosixPath("torch/bin/protoc"),  # protobuf compiler, a build tool (two 5 MB copies)
    PurePosixPath("torch/bin/protoc-3.21.12.0"),
    PurePosixPath("qdarkstyle/example"),
)


def _under(path: PurePosixPath, folder: PurePosixPath) -> bool:
    return path == folder or folder in path.parents


def plugin_name(path: PurePosixPath) -> str:
    """`libqxcb.so` (Linux), `qwindows.dll`, `libqcocoa.dylib` -> the plugin's name: qxcb, qwindows, qcocoa."""
    stem = path.name.split(".")[0]
    return stem[3:] if stem.startswith("lib") else stem


def keep_entry(dest_name: str) -> bool:
    """False for a bundle path (as in a TOC entry's destination) that the app does not need."""
    path = PurePosixPath(dest_name.replace("\\", "/"))
    if any(_under(path, dropped) for dropped in DROPPED_PATHS):
        return False
    plugin_dir = next((d for d in QT_PLUGIN_DIRS if _under(path, d) and path != d), None)
    if plugin_dir is not None:
        family = path.relative_to(plugin_dir).parts[0]
        if family not in KEPT_QT_PLUGINS:
            return False
        kept = KEPT_QT_PLUGINS[family]
        if kept is not None and plugin_name(path) not in kept:
            return False
        if family == "imageformats" and plugin_name(path) in DROPPED_IMAGE_FORMATS:
            return False
    is_test_data = "tests" in path.parts[:-1] and path.suffix not in (".py", ".pyc", ".so")
    return not is_test_data  # test data of third-party packages


def orphaned_libraries(
    kept: Iterable[tuple[str, str]], dropped: Iterable[tuple[str, str]], needed_by: Callable[[str], Iterable[str]]
) -> set[str]:
    """Destination names of kept libraries that only dropped binaries linked to (QtPdf for the PDF plugin, GTK
    for the GTK theme plugin, ...): libraries a dropped binary needs become suspects, and a suspect stays only
    if a kept non-suspect binary needs it, directly or through other suspects.

    Entries are (destination name, source path); `needed_by(source)` gives the file names (sonames) a binary
    links against (ldd or DT_NEEDED). Libraries nothing links to (dlopen'ed CUDA parts) are never suspects.
    """
    kept = list(kept)
    by_name = {PurePosixPath(dest).name: (dest, src) for dest, src in kept}

    def reach(sources: list[str], among: set[str] | dict) -> set[str]:
        """Names in `among` that `sources` need, directly or through each other."""
        found: set[str] = set()
        while sources:
            for name in needed_by(sources.pop()):
                if name in among and name not in found:
                    found.add(name)
                    sources.append(by_name[name][1])
        return found

    suspects = reach([src for _, src in dropped], by_name)
    used = reach([src for dest, src in kept if PurePosixPath(dest).name not in suspects], suspects)
    return {by_name[name][0] for name in suspects - used}


def dangling_links(links: Iterable[tuple[str, str]], present: set[str]) -> set[str]:
    """Destination names of symbolic links (destination, relative target) whose target is not in `present`."""
    return {dest for dest, target in links if posixpath.normpath(posixpath.join(posixpath.dirname(dest), target))
            not in present}
