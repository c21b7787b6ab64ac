"""Imports point down: ui → trainer → core. Qt never appears below ui/, core never reaches up."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("folder", ["g2g_desktop/core", "g2g_desktop/services", "trainer"])
def test_no_qt_below_ui(folder):
    offenders = [
        f"{p.relative_to(ROOT)} imports {name}"
        for p in _files(folder)
        for name in _imports(p)
        if name.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "qtpy", "qdarkstyle")
    ]
    assert offenders == []


def test_core_never_imports_trainer_or_ui():
    offenders = [
        f"{p.relative_to(ROOT)} imports {name}"
        for p in _files("g2g_desktop/core")
        for name in _imports(p)
        if name.split(".")[0] == "trainer" or name.startswith("g2g_desktop.ui")
    ]
    assert offenders == []


def test_trainer_never_imports_ui():
    offenders = [
        f"{p.relative_to(ROOT)} imports {name}"
        for p in _files("trainer")
        for name in _imports(p)
        if name.startswith("g2g_desktop.ui")
    ]
    assert offenders == []
