"""Known-vulnerability check of the installed Python packages, run by ``make test``.

pip-audit asks PyPI's per-release JSON API (or OSV) which advisories affect each installed
version.  Where that service answers, its verdict is final.  Where it does not (a machine
behind a registry mirror that serves packages but not that API), pip-audit can only say
"could not be audited" for every package, which proves nothing; then this script says so
and checks the installed versions against ``dependency-floors.txt``, the lowest safe
version of each dependency that has a published advisory, kept in the repository.
Exit status 1 when a vulnerable version is installed.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

FLOORS = Path(__file__).with_name("dependency-floors.txt")
PROBE = "https://pypi.org/pypi/pip/{version}/json"


def read_floors(text: str) -> list[tuple[Requirement, str]]:
    floors = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        spec, _, why = line.partition(" ")
        floors.append((Requirement(spec), why.strip()))
    return floors


def below_floor(floors: list[tuple[Requirement, str]], installed: dict[str, str]
                ) -> list[str]:
    """One line per installed package older than its floor."""
    found = []
    for requirement, why in floors:
        version = installed.get(requirement.name.lower())
        if version is not None and not requirement.specifier.contains(version,
                                                                      prereleases=True):
            found.append(f"{requirement.name} {version} is below {requirement.specifier}: {why}")
    return found


def installed_versions() -> dict[str, str]:
    return {(dist.metadata["Name"] or "").lower(): dist.version
            for dist in metadata.distributions()}


def service_answers(timeout: float = 10.0) -> bool:
    """Whether PyPI's per-release vulnerability API answers from this machine."""
    url = PROBE.format(version=metadata.version("pip"))
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return "vulnerabilities" in json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main() -> int:
    pip_audit = shutil.which("pip-audit") or str(Path(sys.executable).with_name("pip-audit"))
    if Path(pip_audit).exists() and service_answers():
        print("dependency audit: pip-audit against PyPI's vulnerability data")
        return subprocess.run([pip_audit, "--progress-spinner", "off", "-l"]).returncode
    print("dependency audit: pip-audit cannot reach its vulnerability database from this "
          "machine; checking the offline floors in scripts/dependency-floors.txt instead")
    problems = below_floor(read_floors(FLOORS.read_text(encoding="utf-8")),
                           installed_versions())
    for line in problems:
        print("  VULNERABLE:", line)
    if not problems:
        print(f"  every installed package is at or above its floor "
              f"({len(read_floors(FLOORS.read_text(encoding='utf-8')))} advisories checked)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
