"""INT8 post-training quantisation (NNCF): the graph parts it keeps in float, its error messages, and an agreement
guard against float32 on ``make_detecting`` weights (random weights, so a loose guard: it catches a broken pipeline,
e.g. collapsed scores or lost instances, not a 0.01 AP change; the AP guard on trained models is in
docs/deploy_cpu.md, measured with experiments/int8_ablation.py)."""
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("openvino", reason="the 'openvino' package is not installed (pip install openvino)")
pytest.importorskip("nncf", reason="the 'nncf' package is not installed (pip install nncf)")

from rtmo_plugin.deploy import export_onnx  # noqa: E402
from rtmo_plugin.deploy.quantize import (  # noqa: E402
    DEFAULT_KEEP_FLOAT,
    PARTS,
    QuantizationError,
    list_images,
    matching_nodes,
    quantize_rtmo,
    read_rtmo_graph,
)

#: Convolution / MatMul nodes each part must match in the exported RTMO-t graph (2 levels, one encoder layer)
EXPECTED_NODES = {"score": 2, "score_branch": 4, "pose_branch": 8, "pose_outputs": 2, "decode": 0, "dcc_input": 1,
                  "dcc_gau": 4, "dcc_bins": 6, "neck": 33, "encoder": 8, "stem": 1, "backbone": 35}


@pytest.fixture(scope="module")
def exported(fast_t_torch, tmp_path_factory):
    return export_onnx(fast_t_torch, tmp_path_factory.mktemp("q") / "rtmo_t.onnx")


def test_parts_match_the_exported_graph(exported) -> None:
    model, size = read_rtmo_graph(exported)
    assert size == (320, 320)
    found = matching_nodes(model, list(PARTS))
    assert {part: len(names) for part, names in found.items()} == EXPECTED_NODES, found
    assert len(matching_nodes(model, ["decode"], op_types=())["decode"]) > 10  # element-wise decode ops


def test_calibration_folder_errors(tmp_path) -> None:
    with pytest.raises(QuantizationError, match="no images in it"):
        list_images([tmp_path])
    with pytest.raises(QuantizationError, match="not a folder"):
        list_images([tmp_path / "missing"])


def test_unreadable_image_is_named(exported, tmp_path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(QuantizationError, match="broken.jpg: unreadable"):
        quantize_rtmo(exported, list_images([tmp_path]), tmp_path / "out.xml", progress=False)


def test_model_it_cannot_quantise_is_named(tmp_path) -> None:
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00\x01 definitely not a model")
    img = tmp_path / "img.png"
    import cv2

    cv2.imwrite(str(img), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(QuantizationError, match="garbage.onnx: OpenVINO cannot read it"):
        quantize_rtmo(garbage, [img], tmp_path / "out.xml", progress=False)
    with pytest.raises(QuantizationError, match="file not found"):
        quantize_rtmo(tmp_path / "none.onnx", [img], tmp_path / "out.xml", progress=False)


@pytest.fixture(scope="module")
def int8_model(detecting_onnx, shared_data, tmp_path_factory):
    files = list_images([shared_data / "coco_mini"])
    return quantize_rtmo(detecting_onnx, files, tmp_path_factory.mktemp("int8") / "rtmo_t_int8.xml", progress=False)


@pytest.fixture(scope="module")
def detecting_onnx(fast_t_torch, tmp_path_factory):
    return export_onnx(fast_t_torch, tmp_path_factory.mktemp("det") / "rtmo_t.onnx")


def test_default_keeps_the_measured_parts_in_float(int8_model) -> None:
    import openvino as ov

    model = ov.Core().read_model(str(int8_model))
    kept = {n for names in matching_nodes(model, DEFAULT_KEEP_FLOAT, op_types=()).values() for n in names}
    assert kept, "the default parts must exist in the graph"
    quantised_inputs = set()
    for op in model.get_ordered_ops():
        if op.get_friendly_name() in kept:
            for port in op.inputs():
                if port.get_source_output().get_node().get_type_name() == "FakeQuantize":
                    quantised_inputs.add(op.get_friendly_name())
    assert not quantised_inputs, f"kept-float nodes with an INT8 input: {sorted(quantised_inputs)}"
    fq = sum(op.get_type_name() == "FakeQuantize" for op in model.get_ordered_ops())
    assert fq > 100, "the backbone and neck must be quantised"


def test_int8_agrees_with_float32(int8_model, detecting_onnx, noise_batch) -> None:
    from rtmo_plugin.deploy.openvino_runtime import openvino_compile, run_openvino

    images = noise_batch.numpy()
    ref = run_openvino(openvino_compile(detecting_onnx, 1), images)
    got = run_openvino(openvino_compile(int8_model, 1), images)
    ref_counts = np.bincount(ref["batch_index"], minlength=3)
    got_counts = np.bincount(got["batch_index"], minlength=3)
    assert ref_counts.sum() > 0
    for name in ("bboxes", "scores", "keypoints", "keypoint_scores"):  # INT8 softmax normalisers gave NaN keypoints
        assert np.isfinite(got[name]).all(), name
    assert np.all(np.abs(got_counts - ref_counts) <= np.maximum(2, 0.2 * ref_counts)), (ref_counts, got_counts)
    # the top instance score of every image survives (the users' INT8 RTMO report: near-zero confidences)
    for i in range(3):
        if ref_counts[i]:
            top_ref = ref["scores"][ref["batch_index"] == i].max()
            top_got = got["scores"][got["batch_index"] == i].max()
            assert abs(top_got - top_ref) < 0.25 * top_ref, (i, top_ref, top_got)


def _instances(outputs: dict, num_images: int) -> list:
    """The graph's flat outputs as one prediction per image (what ``instance_agreement`` compares)."""
    index = outputs["batch_index"]
    return [SimpleNamespace(keypoints=outputs["keypoints"][index == i], bboxes=outputs["bboxes"][index == i],
                            bbox_scores=outputs["scores"][index == i]) for i in range(num_images)]


def test_int8_poses_follow_float32_on_the_calibration_photos(int8_model, detecting_onnx, shared_data) -> None:
    """Per-instance OKS of INT8 against float32 on the calibration photos (the guard's agreement measure). On these
    random weights the keypoints are arbitrary, so the bound is loose (measured median 0.75 with the default mixed
    precision): it catches NaN or collapsed keypoints, not a 0.01 AP change (that is measured on trained
    checkpoints, docs/deploy_cpu.md)."""
    from rtmo_plugin.deploy.openvino_runtime import openvino_compile, run_openvino
    from rtmo_plugin.deploy.quantize import load_calibration_batch
    from rtmo_plugin.evaluation.prediction_agreement import instance_agreement

    files = list_images([shared_data / "coco_mini"])
    photos = np.concatenate([load_calibration_batch(f, (320, 320)) for f in files])
    ref = _instances(run_openvino(openvino_compile(detecting_onnx, 1), photos), len(files))
    got = _instances(run_openvino(openvino_compile(int8_model, 1), photos), len(files))
    agreement = instance_agreement(ref, got)
    assert agreement["instances"] >= 20, agreement
    assert agreement["oks_median"] >= 0.6 and agreement["score_abs_diff_median"] < 0.05, agreement
