"""Shared fixtures: registry set-up, seeding, the shared sample data."""
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from rtmo_plugin.utils import shared_data_dir


@pytest.fixture(autouse=True)
def _seed_everything() -> None:
    """Every test starts from the same random state."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="session", autouse=True)
def _registries() -> None:
    """Register MMPose's modules, then ours, and make 'mmpose' the default scope."""
    from mmengine.registry import init_default_scope
    from mmpose.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    import rtmo_plugin  # noqa: F401  (registers the plugin)

    init_default_scope("mmpose")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of small real datasets (``$RTMO_SHARED_DATA`` or ``../shared/data``); skip if absent."""
    root = shared_data_dir()
    if not (root / "coco_mini" / "test_coco.json").is_file():
        pytest.skip(f"shared sample data not found at {root} (set RTMO_SHARED_DATA)")
    return root


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """Root folder of this repository."""
    return Path(__file__).resolve().parent
