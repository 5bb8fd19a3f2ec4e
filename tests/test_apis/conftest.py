"""Fixtures: a small RTMO-t that produces detections, and the coco_mini images."""
from pathlib import Path
from typing import List

import cv2
import numpy as np
import pytest
import torch

API_INPUT_SIZE = (320, 320)


@pytest.fixture(scope="session")
def detecting_model():
    """Our RTMO-t, eval mode, weights rescaled to produce detections, test input size 320."""
    from rtmo_plugin.deploy import make_detecting
    from rtmo_plugin.testing.reference import build_plugin_model

    torch.manual_seed(0)
    model = make_detecting(build_plugin_model("t"), API_INPUT_SIZE, seed=1, positive_fraction=0.03)
    model.test_cfg = dict(model.test_cfg, input_size=API_INPUT_SIZE)
    return model


@pytest.fixture(scope="session")
def coco_images(shared_data) -> List[np.ndarray]:
    """The four coco_mini photos as BGR uint8 arrays."""
    files = sorted((shared_data / "coco_mini").glob("*.jpg"))
    assert len(files) == 4, f"expected 4 coco_mini images, found {files}"
    return [cv2.imread(str(f)) for f in files]


@pytest.fixture(scope="session")
def detecting_checkpoint(detecting_model, tmp_path_factory) -> Path:
    """The detecting model saved like an mmengine runner checkpoint (state_dict + meta)."""
    path = tmp_path_factory.mktemp("ckpt") / "rtmo_t_random.pth"
    torch.save(dict(state_dict=detecting_model.state_dict(),
                    meta=dict(dataset_meta=dict(dataset_name="coco", num_keypoints=17))), path)
    return path
