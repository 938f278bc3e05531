"""The offline half of the dependency audit: installed versions against advisory floors."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("dependency_audit",
                                              ROOT / "scripts" / "dependency_audit.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


def test_a_version_below_its_floor_is_reported_with_its_advisory():
    floors = audit.read_floors("# comment\npython-socketio>=5.16.2   resource fix\n"
                               "Jinja2>=3.1.6  CVE-2025-27516\n")
    found = audit.below_floor(floors, {"python-socketio": "5.16.1", "jinja2": "3.1.6"})
    assert found == ["python-socketio 5.16.1 is below >=5.16.2: resource fix"]
    assert audit.below_floor(floors, {"flask": "0.1"}) == []  # not installed: skipped


def test_the_installed_environment_is_above_every_floor():
    floors = audit.read_floors(audit.FLOORS.read_text(encoding="utf-8"))
    assert len(floors) >= 10
    assert audit.below_floor(floors, audit.installed_versions()) == []
    assert Version(audit.installed_versions()["python-socketio"]) >= Version("5.16.2")
