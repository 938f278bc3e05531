"""The app's URL map keeps one blueprint and one folder per URL space (see README, Where things live)."""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from console import BLUEPRINTS

ROOT = Path(__file__).resolve().parents[2]


def _space(rule: str) -> str:
    """``/api/orders/<no>/refund`` -> ``/api/orders``; ``/orders/<no>`` -> ``/orders``."""
    parts = [p for p in rule.split("/") if p]
    depth = 2 if parts[:1] == ["api"] else 1
    return "/" + "/".join(p.split(".")[0] for p in parts[:depth])


def test_each_url_space_is_served_by_one_blueprint_from_one_folder(app):
    blueprints: dict[str, set[str]] = defaultdict(set)
    folders: dict[str, set[str]] = defaultdict(set)
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        space = _space(rule.rule)
        blueprints[space].add(rule.endpoint.split(".")[0])
        module = app.view_functions[rule.endpoint].__module__
        folders[space].add(module.rsplit(".", 1)[0] if module.count(".") > 1 else module)
    assert {s: b for s, b in blueprints.items() if len(b) > 1} == {}
    assert {s: f for s, f in folders.items() if len(f) > 1} == {}
    assert blueprints["/api/orders"] == {"api"} and folders["/api/orders"] == {"console.api"}


def test_blueprints_are_registered_one_way():
    for target in BLUEPRINTS:
        module, name = target.split(":")
        assert name == "bp", target
        source = (ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
        assert "bp = Blueprint(" in source, target


def _view_modules() -> set[str]:
    names = set()
    for path in (ROOT / "console").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if "bp = Blueprint(" in source or "import bp\n" in source:
            names.add(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return names


def test_no_view_module_imports_another_inside_a_function():
    views = _view_modules()
    wrong = []
    for path in sorted((ROOT / "console").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module in views:
                    wrong.append(f"{path.relative_to(ROOT)}:{inner.lineno} imports {inner.module}")
                elif isinstance(inner, ast.Import):
                    wrong += [f"{path.relative_to(ROOT)}:{inner.lineno} imports {a.name}"
                              for a in inner.names if a.name in views]
    assert views and wrong == []
