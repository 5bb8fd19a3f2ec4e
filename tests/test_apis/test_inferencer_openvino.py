"""The inferencer's OpenVINO modes: 'openvino' equals 'onnx' within float tolerance; 'int8' says how to get one."""
import numpy as np
import pytest

from rtmo_plugin.apis import RTMOInferencer

pytest.importorskip("openvino", reason="the 'openvino' package is not installed (pip install openvino)")


def test_openvino_mode_matches_onnx_mode(detecting_model, coco_images) -> None:
    onnx = RTMOInferencer(detecting_model, mode="onnx", batch_size=4, num_threads=1)(coco_images)
    ov = RTMOInferencer(detecting_model, mode="openvino", batch_size=3, num_threads=1)(coco_images)
    assert sum(len(p) for p in onnx) > 0
    for a, b in zip(onnx, ov):
        assert len(a) == len(b)
        np.testing.assert_allclose(b.bbox_scores, a.bbox_scores, atol=1e-4)
        np.testing.assert_allclose(b.keypoint_scores, a.keypoint_scores, atol=1e-4)
        np.testing.assert_allclose(b.bboxes, a.bboxes, atol=0.05)
        np.testing.assert_allclose(b.keypoints, a.keypoints, atol=0.5)  # image pixels, photos up to 640 wide


def test_int8_mode_without_a_model_says_how_to_make_one(detecting_model, tmp_path) -> None:
    with pytest.raises(ValueError, match="tools/quantize.py"):
        RTMOInferencer(detecting_model, mode="int8")
    with pytest.raises(FileNotFoundError, match="missing.xml"):
        RTMOInferencer(detecting_model, mode="int8", int8_path=tmp_path / "missing.xml")
