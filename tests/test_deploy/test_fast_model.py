"""Fast mode (``convert_to_fast``) returns what eval mode returns: same instances, same order, tight tolerances.

Tolerances: boxes/scores are BN-folding rounding (float32). Keypoints are softmax expectations over ~200 bins and
amplify rounding; float32 eval mode itself differs from a float64 run by up to ~0.03 px on these inputs, so
0.1 px is the float32 noise floor with margin, not slack for a different algorithm.
"""
import numpy as np
import pytest
import torch

from rtmo_plugin.deploy import FastRTMO, convert_to_fast

from .conftest import INPUT_SIZE

INPUT_META = dict(input_size=INPUT_SIZE, input_center=(160.0, 160.0), input_scale=(320.0, 320.0),
                  ori_shape=(320, 320), img_shape=(320, 320))


def _eval_predict(model, images: torch.Tensor):
    from mmpose.structures import PoseDataSample

    samples = []
    for _ in range(images.shape[0]):
        sample = PoseDataSample()
        sample.set_metainfo(INPUT_META)
        samples.append(sample)
    with torch.no_grad():
        return model.head.predict(model.extract_feat(images), samples, test_cfg=dict(model.test_cfg,
                                                                                    input_size=INPUT_SIZE))


def _assert_same(ref_list, out) -> int:
    total = 0
    for i, ref in enumerate(ref_list):
        sel = (out.batch_index == i).numpy()
        assert int(sel.sum()) == len(ref.bbox_scores), f"image {i}: instance count differs"
        np.testing.assert_allclose(out.scores.numpy()[sel], ref.bbox_scores, atol=1e-5, err_msg=f"scores {i}")
        np.testing.assert_allclose(out.bboxes.numpy()[sel], ref.bboxes, atol=2e-3, err_msg=f"boxes {i}")
        np.testing.assert_allclose(out.keypoints.numpy()[sel], ref.keypoints, atol=0.1, err_msg=f"keypoints {i}")
        np.testing.assert_allclose(out.keypoint_scores.numpy()[sel], ref.keypoint_scores, atol=1e-5,
                                   err_msg=f"keypoint scores {i}")
        total += len(ref.bbox_scores)
    return total


def test_fast_equals_eval_ours(rtmo_t_ours, fast_t, fast_t_out, noise_batch) -> None:
    assert isinstance(fast_t, FastRTMO) and not fast_t.training
    assert _assert_same(_eval_predict(rtmo_t_ours, noise_batch), fast_t_out) >= 10, "test needs detections"


def test_torch_kernels_equal_eval_too(rtmo_t_ours, fast_t_torch, noise_batch) -> None:
    assert fast_t_torch.kernels == "torch"
    with torch.no_grad():
        out = fast_t_torch(noise_batch[:2])
    assert _assert_same(_eval_predict(rtmo_t_ours, noise_batch[:2]), out) >= 5


def test_convert_leaves_source_model_unchanged(rtmo_t_ours) -> None:
    before = {k: v.clone() for k, v in rtmo_t_ours.state_dict().items()}
    convert_to_fast(rtmo_t_ours, INPUT_SIZE)
    after = rtmo_t_ours.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before), "convert_to_fast modified the source model"
    assert not rtmo_t_ours.training


def test_fast_equals_mmpose_reference(rtmo_t_reference, noise_batch) -> None:
    with torch.no_grad():
        out = convert_to_fast(rtmo_t_reference, INPUT_SIZE)(noise_batch[:2])
    assert _assert_same(_eval_predict(rtmo_t_reference, noise_batch[:2]), out) >= 5


def test_fast_no_detections_gives_empty_outputs(rtmo_t_ours, noise_batch) -> None:
    fast = convert_to_fast(rtmo_t_ours, INPUT_SIZE, score_thr=0.999999)
    with torch.no_grad():
        out = fast(noise_batch[:1])
    k = fast.num_keypoints
    assert out.batch_index.shape == (0,) and out.bboxes.shape == (0, 4)
    assert out.keypoints.shape == (0, k, 2) and out.keypoint_scores.shape == (0, k)


def test_fast_rejects_wrong_input_size(fast_t) -> None:
    with pytest.raises(ValueError, match="320"):
        fast_t(torch.zeros(1, 3, 416, 416))


def test_fast_is_batch_consistent(fast_t, fast_t_out, noise_batch) -> None:
    """Image i gives the same poses alone and inside a batch (no cross-image leakage in batched decoding)."""
    batched = fast_t_out
    with torch.no_grad():
        single = fast_t(noise_batch[1:2])
    sel = batched.batch_index == 1
    torch.testing.assert_close(batched.keypoints[sel], single.keypoints, atol=0.1, rtol=0)
    torch.testing.assert_close(batched.scores[sel], single.scores, atol=1e-5, rtol=0)


def test_unsupported_test_cfg_options_are_refused(rtmo_t_ours) -> None:
    saved = rtmo_t_ours.test_cfg
    for option, value in (("pose_nms", dict(type="ParametricPoseNMS")), ("flip_test", True)):
        rtmo_t_ours.test_cfg = dict(saved, **{option: value})
        try:
            with pytest.raises(ValueError, match=option):
                convert_to_fast(rtmo_t_ours, INPUT_SIZE)
        finally:
            rtmo_t_ours.test_cfg = saved
