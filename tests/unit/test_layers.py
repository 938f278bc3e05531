"""The layering rules of DESIGN.md, read from the source: a new module that breaks them fails here."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from adapters.base import (
    CAP_IMPORT,
    CODECS,
    NotAllowed,
    OrderLoader,
    ProductShelf,
    loader_of,
    shelf_of,
)

ROOT = Path(__file__).resolve().parents[2]
FACTORY_USER = "console/store.py"


def _imports(path: Path) -> list[tuple[str, ast.AST]]:
    """Every module a file imports, with the node (to tell top-level from function-local)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node))
    return found


def _console_files() -> list[Path]:
    return sorted((ROOT / "console").rglob("*.py"))


def test_the_console_reaches_adapters_through_the_port_codecs_or_the_factory():
    allowed = {"adapters.base", *CODECS}
    wrong = []
    for path in _console_files():
        name = path.relative_to(ROOT).as_posix()
        for module, _ in _imports(path):
            if module == "adapters" and name == FACTORY_USER:
                continue
            if (module == "adapters" or module.startswith("adapters.")) and module not in allowed:
                wrong.append(f"{name} imports {module}")
    assert wrong == []


def test_adapters_import_nothing_from_the_console_or_flask():
    wrong = [f"{path.relative_to(ROOT)} imports {module}"
             for path in sorted((ROOT / "adapters").rglob("*.py"))
             for module, _ in _imports(path)
             if module.split(".")[0] in ("console", "flask", "flask_socketio")]
    assert wrong == []


def test_codecs_named_by_the_port_exist_and_hold_no_store():
    for module in CODECS:
        path = ROOT / (module.replace(".", "/") + ".py")
        assert path.exists(), module
        imported = {name for name, _ in _imports(path) if name.startswith("adapters")}
        assert imported <= {"adapters.base"}, (module, imported)


class _ReadOnlyStore:
    capabilities = frozenset({"search"})


class _FillableStore:
    capabilities = frozenset({CAP_IMPORT})

    def count(self) -> int:
        return 0

    def load(self, orders, upsert=True, on_batch=None) -> int:
        return 0

    def add_products(self, items) -> None:
        return None

    def add_inventory(self, stock) -> int:
        return 0


def test_a_store_without_the_loader_port_is_refused_with_not_allowed():
    with pytest.raises(NotAllowed):
        loader_of(_ReadOnlyStore())  # type: ignore[arg-type]
    with pytest.raises(NotAllowed):
        shelf_of(_ReadOnlyStore())  # type: ignore[arg-type]
    store = _FillableStore()
    assert isinstance(loader_of(store), OrderLoader)  # type: ignore[arg-type]
    assert isinstance(shelf_of(store), ProductShelf)  # type: ignore[arg-type]


def test_a_loader_without_the_import_capability_is_refused():
    store = _FillableStore()
    store.capabilities = frozenset()
    with pytest.raises(NotAllowed):
        loader_of(store)  # type: ignore[arg-type]
