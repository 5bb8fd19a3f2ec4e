"""Fixtures: RTMO-t models (ours and MMPose's) with random weights that produce detections."""
import pytest
import torch

from rtmo_plugin.deploy import make_detecting

INPUT_SIZE = (320, 320)  # small input keeps the tests fast; RTMO-t itself is trained at 416


@pytest.fixture(scope="session")
def rtmo_t_ours():
    """Our RTMO-t (RTMODCCHead), eval mode, random BN statistics, ~5% of grid cells above the score threshold."""
    from rtmo_plugin.testing.reference import build_plugin_model

    torch.manual_seed(0)
    return make_detecting(build_plugin_model("t"), INPUT_SIZE, seed=0)


@pytest.fixture(scope="session")
def rtmo_t_reference(rtmo_t_ours):
    """MMPose's RTMO-t with the same weights as ``rtmo_t_ours``."""
    from rtmo_plugin.testing.reference import build_reference_model

    ref = build_reference_model("t").eval()
    ref.load_state_dict(rtmo_t_ours.state_dict(), strict=True)
    return ref


@pytest.fixture(scope="session")
def noise_batch():
    """Three uniform-noise BGR images as a float batch ``(3, 3, 320, 320)`` in 0-255."""
    return torch.rand(3, 3, INPUT_SIZE[1], INPUT_SIZE[0], generator=torch.Generator().manual_seed(5)) * 255


@pytest.fixture(scope="session")
def fast_t(rtmo_t_ours):
    """``convert_to_fast(rtmo_t_ours)`` at the test input size."""
    from rtmo_plugin.deploy import convert_to_fast

    return convert_to_fast(rtmo_t_ours, INPUT_SIZE)


@pytest.fixture(scope="session")
def fast_t_torch(rtmo_t_ours):
    """``convert_to_fast`` with standard torch kernels (the exportable variant)."""
    from rtmo_plugin.deploy import convert_to_fast

    return convert_to_fast(rtmo_t_ours, INPUT_SIZE, kernels="torch")


@pytest.fixture(scope="session")
def fast_t_out(fast_t, noise_batch):
    """Fast-mode outputs on ``noise_batch``."""
    with torch.no_grad():
        return fast_t(noise_batch)
