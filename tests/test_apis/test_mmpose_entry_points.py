"""MMPose's own inference entry points run the plugin's configs and agree with RTMOInferencer.

A user who only adds the plugin (its configs carry ``custom_imports``) calls ``MMPoseInferencer``
or ``init_model`` + ``inference_bottomup`` as for any MMPose model. With the same config and
checkpoint (random weights rescaled to detect) and the same photos, all three give the same
instances: MMPose's path runs the config's test pipeline (``PoseLetterboxResize``) and the model's
``test_cfg``, :class:`~rtmo_plugin.apis.RTMOInferencer` letterboxes by itself.
"""
from pathlib import Path
from typing import List

import numpy as np
import pytest
import torch

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "rtmo-t_8xb32-600e_coco.py"
ATOL = 1e-3  # pixels and scores


@pytest.fixture(scope="module")
def photos(shared_data: Path) -> List[Path]:
    files = sorted((shared_data / "coco_mini").glob("*.jpg"))
    assert len(files) == 4, files
    return files


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random RTMO-t weights (input 416) rescaled to detect, saved as a runner would (no meta)."""
    from rtmo_plugin.deploy import make_detecting
    from rtmo_plugin.testing.reference import build_plugin_model

    torch.manual_seed(0)
    model = make_detecting(build_plugin_model("t"), (416, 416), seed=3, positive_fraction=0.03)
    path = tmp_path_factory.mktemp("entry_points") / "rtmo_t_detecting.pth"
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


@pytest.fixture(scope="module")
def ours(checkpoint: Path, photos: List[Path]) -> list:
    import cv2

    from rtmo_plugin.apis import RTMOInferencer

    inferencer = RTMOInferencer(config=CONFIG, checkpoint=checkpoint, device="cpu", mode="eval",
                                batch_size=1)
    preds = inferencer([cv2.imread(str(p)) for p in photos])
    assert sum(len(p) for p in preds) > 0, "the synthetic weights should detect someone"
    return preds


def _assert_same(pred, instances, what: str) -> None:
    scores = np.asarray(instances.bbox_scores)
    order = np.argsort(-scores, kind="stable")
    assert len(order) == len(pred), f"{what}: {len(order)} instances, RTMOInferencer {len(pred)}"
    pairs = ((scores, pred.bbox_scores), (np.asarray(instances.bboxes).reshape(-1, 4), pred.bboxes),
             (np.asarray(instances.keypoints), pred.keypoints),
             (np.asarray(instances.keypoint_scores), pred.keypoint_scores))
    for theirs, mine in pairs:
        np.testing.assert_allclose(theirs[order], mine, atol=ATOL, err_msg=what)


def test_init_model_and_inference_bottomup(checkpoint: Path, photos: List[Path],
                                           ours: list) -> None:
    from mmpose.apis import inference_bottomup, init_model

    model = init_model(str(CONFIG), str(checkpoint), device="cpu")
    assert model.dataset_meta["num_keypoints"] == 17
    for path, pred in zip(photos, ours):
        instances = inference_bottomup(model, str(path))[0].pred_instances
        _assert_same(pred, instances, f"inference_bottomup on {path.name}")


def test_mmpose_inferencer_with_the_configs_thresholds(checkpoint: Path, photos: List[Path],
                                                       ours: list) -> None:
    """``bbox_thr``/``nms_thr`` set to the config's ``test_cfg`` (RTMO: 0.1 / 0.65)."""
    from mmpose.apis import MMPoseInferencer

    inferencer = MMPoseInferencer(pose2d=str(CONFIG), pose2d_weights=str(checkpoint),
                                  device="cpu")
    for path, pred in zip(photos, ours):
        result = next(inferencer(str(path), return_datasamples=True, bbox_thr=0.1, nms_thr=0.65))
        instances = result["predictions"][0].pred_instances
        _assert_same(pred, instances, f"MMPoseInferencer on {path.name}")


def test_mmpose_inferencer_defaults(checkpoint: Path, photos: List[Path]) -> None:
    """MMPoseInferencer's own defaults (score 0.3, NMS IoU 0.3) are RTMOInferencer's with those."""
    import cv2
    from mmpose.apis import MMPoseInferencer

    from rtmo_plugin.apis import RTMOInferencer

    ours = RTMOInferencer(config=CONFIG, checkpoint=checkpoint, device="cpu", mode="eval",
                          batch_size=1, score_thr=0.3, nms_thr=0.3)
    inferencer = MMPoseInferencer(pose2d=str(CONFIG), pose2d_weights=str(checkpoint),
                                  device="cpu")
    for path in photos:
        pred = ours([cv2.imread(str(path))])[0]
        result = next(inferencer(str(path), return_datasamples=True))
        instances = result["predictions"][0].pred_instances
        _assert_same(pred, instances, f"MMPoseInferencer (defaults) on {path.name}")
