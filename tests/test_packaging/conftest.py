"""Fixtures: the plugin's sources copied out of the checkout, and a wheel built from them."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: What a build of the plugin reads (the sdist's content, see MANIFEST.in).
BUILD_INPUTS = ("setup.py", "pyproject.toml", "MANIFEST.in", "README.md", "rtmo_plugin", "configs")
#: Local version label of the copy: pip then treats it as new even where this version is installed.
LOCAL_LABEL = "+pkgtest"


@pytest.fixture(scope="session")
def source_copy(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build inputs in a temporary folder, their version marked with :data:`LOCAL_LABEL`.

    A build writes build/ and *.egg-info beside its inputs; a copy keeps the checkout clean.
    """
    target = tmp_path_factory.mktemp("src") / "rtmo-plugin"
    target.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in BUILD_INPUTS:
        source = repo_root / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    version_file = target / "rtmo_plugin" / "version.py"
    version_file.write_text(re.sub(r'__version__ = "([^"]+)"', rf'__version__ = "\1{LOCAL_LABEL}"',
                                   version_file.read_text()))
    return target


def pip(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run this interpreter's pip without user or site configuration (``--isolated``).

    ``PYTHONPATH`` is dropped: pip judges what the environment itself has installed.

    Args:
        *args (str): pip's command and options (callers add ``--no-index``: nothing is fetched).
        timeout (float): seconds.

    Returns:
        subprocess.CompletedProcess: with ``stdout`` and ``stderr`` as text.
    """
    cmd = [sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check", *args]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="session")
def wheel(source_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel . --no-deps`` of the plugin (offline, with this environment's setuptools)."""
    out = tmp_path_factory.mktemp("wheel")
    proc = pip("wheel", str(source_copy), "--no-deps", "--no-index", "--no-build-isolation",
               "-w", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels = sorted(out.glob("rtmo_plugin-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]
