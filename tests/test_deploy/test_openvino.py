"""OpenVINO float32 runtime of the exported graph: same outputs as onnxruntime; precision set, not guessed."""
import sys

import numpy as np
import pytest

pytest.importorskip("openvino", reason="the 'openvino' package is not installed (pip install openvino)")

from rtmo_plugin.deploy import export_onnx, onnx_session, run_onnx  # noqa: E402
from rtmo_plugin.deploy.openvino_runtime import (  # noqa: E402
    INSTALL_HINT,
    execution_precision,
    openvino_compile,
    require_openvino,
    run_openvino,
)


@pytest.fixture(scope="module")
def exported(fast_t_torch, tmp_path_factory):
    return export_onnx(fast_t_torch, tmp_path_factory.mktemp("ov") / "rtmo_t.onnx")


def test_openvino_matches_onnxruntime(exported, noise_batch) -> None:
    images = noise_batch.numpy()
    ref = run_onnx(onnx_session(exported, 1), images)
    compiled = openvino_compile(exported, num_threads=1, precision="f32")
    got = run_openvino(compiled, images)
    assert execution_precision(compiled) == "f32"
    assert ref["scores"].shape[0] > 0, "the test model must detect something"
    np.testing.assert_array_equal(got["batch_index"], ref["batch_index"])
    np.testing.assert_allclose(got["scores"], ref["scores"], atol=1e-4)
    np.testing.assert_allclose(got["keypoint_scores"], ref["keypoint_scores"], atol=1e-4)
    np.testing.assert_allclose(got["bboxes"], ref["bboxes"], atol=1e-2)
    np.testing.assert_allclose(got["keypoints"], ref["keypoints"], atol=0.1)  # px; softmax expectation over bins


def test_bad_precision_and_missing_file(tmp_path) -> None:
    with pytest.raises(ValueError, match="precision"):
        openvino_compile(tmp_path / "x.onnx", precision="fp8")
    with pytest.raises(FileNotFoundError, match="x.onnx"):
        openvino_compile(tmp_path / "x.onnx")


def test_missing_openvino_gives_the_install_hint(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino -> ImportError
    with pytest.raises(RuntimeError, match="pip install openvino") as info:
        require_openvino()
    assert str(info.value) == INSTALL_HINT
