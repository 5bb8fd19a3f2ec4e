"""Property-based fuzzing (hypothesis) of the codec, the RTMO transforms, the pose NMS and the DCC decode.

``make test``: 100 deterministic examples per property. ``make test-slow``: >= 10,000 examples in total.
The properties and invariants are in fuzz_properties.py.
"""
import math
import time

import numpy as np
import pytest

from .fuzz_properties import PROPERTIES, prop_mixup, prop_mosaic, run_property

FAST_EXAMPLES = 100
SLOW_TOTAL = 10_000


@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_fuzz(name):
    assert run_property(name, FAST_EXAMPLES) >= FAST_EXAMPLES * 0.9  # a few may be rejected as duplicates


@pytest.mark.slow
def test_fuzz_10k():
    # margin: codec_bad_shapes has only 341 distinct inputs, hypothesis stops when it has tried them all
    per_property = math.ceil(SLOW_TOTAL / len(PROPERTIES)) + 100
    executed, start = {}, time.perf_counter()
    for name in sorted(PROPERTIES):
        executed[name] = run_property(name, per_property)
    total = sum(executed.values())
    print(f"\nfuzz: {total} examples over {len(executed)} properties in {time.perf_counter() - start:.0f} s: "
          + ", ".join(f"{k}={v}" for k, v in executed.items()))
    assert total >= SLOW_TOTAL, executed


def _narrow_sample(w: int, h: int) -> dict:
    return dict(img=np.zeros((h, w, 3), np.uint8), img_shape=(h, w), ori_shape=(h, w),
                keypoints=np.zeros((0, 17, 2), np.float32), keypoints_visible=np.zeros((0, 17), np.float32),
                bbox=np.zeros((0, 4), np.float32), bbox_score=np.zeros(0, np.float32),
                category_id=np.zeros(0, np.int64), area=np.zeros(0, np.float32), flip_indices=list(range(17)))


@pytest.mark.parametrize("w,h", [(1, 25), (25, 1), (1, 1)])
def test_mosaic_and_mixup_very_narrow_images(w, h):
    """Regression (found by this fuzzer, fixed in 99a5d29): a tile resized to int(w * ratio) = 0 px made
    cv2.resize assert (a 1x25 image at img_scale (32, 24) is like a 10x7000 panorama at 640)."""
    prop_mosaic(_narrow_sample(w, h), [_narrow_sample(w, h)], seed=0)
    sample = _narrow_sample(w, h)
    sample.update(keypoints=np.zeros((1, 17, 2), np.float32), keypoints_visible=np.ones((1, 17), np.float32),
                  bbox=np.zeros((1, 4), np.float32), bbox_score=np.ones(1, np.float32),
                  category_id=np.ones(1, np.int64), area=np.ones(1, np.float32))
    for seed in range(4):
        prop_mixup(_narrow_sample(w, h), [sample], seed=seed)
