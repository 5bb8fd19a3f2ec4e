"""End-to-end ONNX export of RTMO-t: runs in onnxruntime on the CPU and matches PyTorch fast mode."""
import onnx
import pytest
import torch

from rtmo_plugin.deploy import compare_with_torch, export_onnx, onnx_session


@pytest.fixture(scope="module")
def exported(fast_t_torch, tmp_path_factory):
    path = export_onnx(fast_t_torch, tmp_path_factory.mktemp("onnx") / "rtmo_t.onnx", opset=17)
    return fast_t_torch, path


def test_graph_has_nms_dynamic_batch_and_opset(exported) -> None:
    _, path = exported
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert max(op.version for op in model.opset_import if op.domain in ("", "ai.onnx")) >= 17
    ops = {node.op_type for node in model.graph.node}
    assert "NonMaxSuppression" in ops, "score threshold + NMS must be inside the graph"
    batch_dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param, "batch dimension must be dynamic"
    assert [o.name for o in model.graph.output] == ["batch_index", "bboxes", "scores", "keypoints",
                                                    "keypoint_scores"]


@pytest.mark.parametrize("batch", [1, 2])
def test_onnxruntime_matches_pytorch(exported, noise_batch, batch: int) -> None:
    fast, path = exported
    report = compare_with_torch(fast, onnx_session(path, num_threads=1), noise_batch[:batch])
    assert report["num_instances_torch"] >= 3, "test needs detections"
    assert report["scores"] < 1e-4 and report["keypoint_scores"] < 1e-4
    assert report["bboxes"] < 1e-2
    assert report["keypoints"] < 0.15  # float32 softmax-expectation noise floor, see test_fast_model


def test_export_rejects_old_opset_and_onednn_kernels(exported, fast_t) -> None:
    fast, path = exported
    if fast_t.kernels == "onednn":
        with pytest.raises(ValueError, match="kernels='torch'"):
            export_onnx(fast_t, path.parent / "onednn.onnx")
    with pytest.raises(ValueError, match="opset"):
        export_onnx(fast, path.parent / "old.onnx", opset=13)
    with pytest.raises(TypeError, match="convert_to_fast"):
        export_onnx(torch.nn.Identity(), path.parent / "x.onnx")
