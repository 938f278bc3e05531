"""What ``make demo`` prints before it serves: the vendor step, the demo build and the package
build, each free of stack traces, errors and warnings, and saying which versions it copied.

The long-running serve is not part of this; ``kamidesk demo --no-serve`` is the same
preparation without it.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOISE = re.compile(r"Traceback|\bError\b|\berror\b|ERR_|\bWARN|Warning|warning:|at .+:\d+:\d+\)"
                   r"|absent from the `packages`|npm ERR")
# pip's own notes about the machine's package index are about the machine, not the project.
PIP_INDEX_NOTE = re.compile(r"^WARNING: Location '.+' is ignored", re.M)


def noise_in(output: str) -> list[str]:
    return [line for line in PIP_INDEX_NOTE.sub("", output).splitlines() if NOISE.search(line)]


@pytest.mark.slow
def test_vendor_step_is_quiet_and_names_both_versions():
    if shutil.which("npm") is None and os.environ.get("CI") != "true":
        pytest.skip("npm is not installed (make demo installs it when run as root)")
    done = subprocess.run(["bash", "scripts/vendor.sh"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert not noise_in(output), output
    versions = re.search(r"socket\.io-client (\d+\.\d+\.\d+), chart\.js (\d+\.\d+\.\d+)$",
                         done.stdout.strip())
    assert versions, f"both versions should be named: {done.stdout!r}"
    for name in ("socket.io.min.js", "chart.umd.min.js"):
        assert (ROOT / "static" / "vendor" / name).stat().st_size > 10_000


@pytest.mark.slow
def test_demo_build_prints_logins_and_nothing_alarming(tmp_path):
    env = dict(os.environ, KAMIDESK_INSTANCE=str(tmp_path / "instance"))
    for name in ("KAMIDESK_DATABASE_URL", "KAMIDESK_STORE_URL", "KAMIDESK_SECRET_KEY"):
        env.pop(name, None)
    command = [sys.executable, "-m", "console.cli", "demo", "--orders", "400", "--no-serve"]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=600)
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=600)
    for run in (first, again):
        output = run.stdout + run.stderr
        assert run.returncode == 0, output
        assert not noise_in(output), output
        assert "demo logins (user / password):" in run.stdout
        assert re.search(r"^  agent\s+agent$", run.stdout, re.M)
    assert "400 generated now" in first.stdout and "0 generated now" in again.stdout


@pytest.mark.slow
def test_package_build_ships_the_translations_without_warnings(tmp_path):
    """``pip install`` of the project (what ``make demo`` does first) builds it like this."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
         str(ROOT)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert not noise_in(output), output
    wheel = next((tmp_path / "dist").glob("kamidesk-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "console/translations/zh_Hans_CN/LC_MESSAGES/messages.po" in names
    assert not [n for n in names if "__pycache__" in n]
