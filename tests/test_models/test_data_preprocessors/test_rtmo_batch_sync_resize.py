"""RTMOBatchSyncResize: first batch native, then a shared random size; targets scale with the images."""
import random

import numpy as np
import torch
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

from rtmo_plugin.models.data_preprocessors import RTMOBatchSyncResize


def _batch(n=2, size=64):
    samples = []
    for _ in range(n):
        s = PoseDataSample(metainfo=dict(img_shape=(size, size), pad_shape=(size, size)))
        s.gt_instance_labels = InstanceData(bboxes=torch.tensor([[8.0, 16.0, 32.0, 48.0]]),
                                            keypoints=torch.tensor([[[10.0, 20.0], [30.0, 40.0]]]),
                                            areas=torch.tensor([100.0]))
        s.gt_fields = PixelData(heatmap_mask=torch.zeros(1, size, size, dtype=torch.bool))
        samples.append(s)
    return torch.rand(n, 3, size, size), samples


def test_first_batch_native_then_drawn_size_and_targets_scaled():
    random.seed(0)
    aug = RTMOBatchSyncResize(random_size_range=(480, 800), size_divisor=32, interval=1)
    inputs, samples = _batch()
    out, samples = aug(inputs, samples)
    assert out.shape[-2:] == (64, 64)  # native size on the first call
    random.seed(0)
    expected = 32 * random.randint(15, 25)
    assert aug.input_size == (expected, expected)
    inputs, samples = _batch()
    out, samples = aug(inputs, samples)
    assert out.shape[-2:] == (expected, expected)
    s = expected / 64
    labels = samples[0].gt_instance_labels
    torch.testing.assert_close(labels.bboxes, torch.tensor([[8.0, 16.0, 32.0, 48.0]]) * s)
    torch.testing.assert_close(labels.keypoints, torch.tensor([[[10.0, 20.0], [30.0, 40.0]]]) * s)
    torch.testing.assert_close(labels.areas, torch.tensor([100.0]) * s * s)
    assert samples[0].gt_fields.heatmap_mask.shape == (1, expected, expected)
    assert samples[0].img_shape == (expected, expected) and samples[0].batch_input_shape == (expected, expected)


def test_sizes_stay_in_range_and_interval():
    random.seed(1)
    aug = MODELS.build(dict(type="RTMOBatchSyncResize", random_size_range=(320, 640), size_divisor=32, interval=3))
    seen = set()
    for i in range(12):
        inputs, samples = _batch(1, 32)
        before = aug.input_size
        aug(inputs, samples)
        if (i + 1) % 3:
            assert aug.input_size == before or before is None
        seen.add(aug.input_size)
    for h, w in seen - {(32, 32)}:
        assert h == w and 320 <= h <= 640 and h % 32 == 0


def test_plugs_into_pose_data_preprocessor():
    pre = MODELS.build(dict(type="PoseDataPreprocessor", pad_size_divisor=32, mean=[0, 0, 0], std=[1, 1, 1],
                            batch_augments=[dict(type="RTMOBatchSyncResize", random_size_range=(64, 96),
                                                 size_divisor=32, interval=1)]))
    inputs, samples = _batch(2, 64)
    data = dict(inputs=[(x * 255).to(torch.uint8) for x in inputs], data_samples=samples)
    out = pre(data, training=True)
    assert out["inputs"].shape[-2:] == (64, 64)
    inputs, samples = _batch(2, 64)
    out = pre(dict(inputs=[(x * 255).to(torch.uint8) for x in inputs], data_samples=samples), training=True)
    assert out["inputs"].shape[-1] in (64, 96) and np.isfinite(out["inputs"].numpy()).all()


def test_non_zero_rank_takes_the_broadcast_size(monkeypatch):
    """Only rank 0 draws; other ranks use what rank 0 broadcasts (no local draw, same size everywhere)."""
    import rtmo_plugin.models.data_preprocessors.rtmo_batch_sync_resize as mod

    def fake_broadcast(tensor, src):
        assert src == 0
        tensor.copy_(torch.tensor([352, 352]))

    monkeypatch.setattr(mod, "get_dist_info", lambda: (1, 2))
    monkeypatch.setattr(mod, "broadcast", fake_broadcast)
    random.seed(5)
    state = random.getstate()
    aug = RTMOBatchSyncResize(random_size_range=(480, 800), interval=1)
    assert aug.draw_size(1.0, torch.device("cpu")) == (352, 352)
    assert random.getstate() == state, "a non-zero rank must not consume its own random stream"


def test_bad_arguments():
    import pytest

    with pytest.raises(ValueError, match="random_size_range"):
        RTMOBatchSyncResize(random_size_range=(800, 480))
    with pytest.raises(ValueError, match="interval"):
        RTMOBatchSyncResize(random_size_range=(480, 800), interval=0)
