"""Installing the plugin into an environment with the MMPose stack changes none of its packages.

``pip install --dry-run --report`` resolves the plugin's declared requirements against what is
installed, offline (``--no-index``): if the metadata asked for another torch, torchvision, mmcv,
mmdet or mmpose (or anything not installed) pip would have to fetch it and fails, or lists it
under ``install``. Run on both CI stacks, this checks that the ranges in ``setup.py`` hold torch
2.1.2 and 2.14.1 alike.
"""
import json
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from .conftest import pip

CORE = ("torch", "torchvision", "mmcv", "mmdet", "mmpose", "mmengine", "numpy")


def _dry_run(target: str, report: Path) -> dict:
    proc = pip("install", "--dry-run", "--no-index", "--no-build-isolation", "--report",
               str(report), target)
    assert proc.returncode == 0, f"pip cannot install it here offline:\n{proc.stderr[-3000:]}"
    return json.loads(report.read_text())


def _would_install(report: dict) -> list:
    return sorted(item["metadata"]["name"].lower().replace("_", "-") for item in report["install"])


def test_source_install_changes_nothing_installed(source_copy: Path, tmp_path: Path) -> None:
    report = _dry_run(str(source_copy), tmp_path / "report.json")
    assert _would_install(report) == ["rtmo-plugin"]


def test_wheel_install_changes_nothing_installed(wheel: Path, tmp_path: Path) -> None:
    report = _dry_run(str(wheel), tmp_path / "report.json")
    assert _would_install(report) == ["rtmo-plugin"]
    requires = [Requirement(r) for r in report["install"][0]["metadata"].get("requires_dist", [])]
    declared = {r.name.lower() for r in requires if r.marker is None}
    assert "mmpose" not in declared  # imported, not declared: its metadata asks for chumpy
    for requirement in requires:
        if requirement.marker is None and requirement.name.lower() in CORE:
            installed = metadata.version(requirement.name)
            assert requirement.specifier.contains(installed, prereleases=True), (requirement,
                                                                                  installed)


def test_declaring_mmpose_would_break_the_install() -> None:
    """Negative control: why mmpose is not in install_requires (chumpy cannot be installed)."""
    try:
        metadata.version("chumpy")
        pytest.skip("chumpy is installed here")
    except metadata.PackageNotFoundError:
        pass
    proc = pip("install", "--dry-run", "--no-index", "mmpose==" + metadata.version("mmpose"))
    assert proc.returncode != 0 and "chumpy" in proc.stderr
