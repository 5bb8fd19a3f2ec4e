"""The grid-cell vote (``experiments.cell_vote``) on hand-made COCO results and on both RTMO heads."""
import numpy as np
import pytest

from experiments.cell_vote import vote_keypoints


def _result(image_id: int, box, xy, score: float = 0.9) -> dict:
    xy = np.asarray(xy, dtype=float)
    keypoints = np.concatenate([xy, np.full((len(xy), 1), 0.5)], axis=1)
    return dict(image_id=image_id, category_id=1, bbox=list(box), score=score, keypoints=keypoints.reshape(-1).tolist())


BOX = (10.0, 10.0, 100.0, 200.0)


def test_the_median_ignores_one_bad_cell_and_the_mean_follows_the_scores() -> None:
    kept = _result(1, BOX, [[50, 50], [60, 70]])
    cells = [kept,
             _result(1, (11, 10, 100, 200), [[52, 50], [62, 70]]),
             _result(1, (10, 11, 100, 200), [[150, 250], [160, 270]])]  # a cell whose pose is wrong as a whole
    (median,) = vote_keypoints([kept], cells, vote="median")
    assert np.reshape(median["keypoints"], (-1, 3))[:, :2].tolist() == [[52, 50], [62, 70]]
    (mean,) = vote_keypoints([kept], cells, vote="mean")
    assert np.allclose(np.reshape(mean["keypoints"], (-1, 3))[:, :2], [[84, 116.6666667], [94, 136.6666667]])
    # box, score and keypoint scores stay the kept detection's; the input is not modified
    assert median["bbox"] == list(BOX) and median["score"] == 0.9
    assert np.reshape(median["keypoints"], (-1, 3))[:, 2].tolist() == [0.5, 0.5]
    assert kept["keypoints"][:2] == [50.0, 50.0]


def test_only_overlapping_cells_of_the_same_image_vote() -> None:
    kept = _result(1, BOX, [[50, 50]])
    cells = [kept,
             _result(2, BOX, [[500, 500]]),  # another image
             _result(1, (60, 10, 100, 200), [[500, 500]]),  # IoU 1/3 with the kept box
             _result(1, (10, 10, 100, 200), [[54, 50]])]
    (voted,) = vote_keypoints([kept], cells, iou_thr=0.9)
    assert np.reshape(voted["keypoints"], (-1, 3))[0, :2].tolist() == [52, 50]  # median of 50 and 54
    (alone,) = vote_keypoints([kept], [])  # no cells: unchanged
    assert alone["keypoints"] == kept["keypoints"]


def test_an_unknown_vote_is_refused() -> None:
    with pytest.raises(ValueError, match="vote must be one of"):
        vote_keypoints([], [], vote="mode")


def test_our_head_and_the_vote_on_the_references_results_agree(shared_data, tmp_path) -> None:
    """Same weights, same coco_mini images: the vote on our results == the vote on MMPose's RTMO's results."""
    import torch
    from mmengine.runner import Runner

    from experiments.cell_vote import NO_NMS_THR, median_vote_results
    from experiments.overfit import build_overfit_config
    from rtmo_plugin.deploy import make_detecting
    from rtmo_plugin.testing.reference import build_plugin_model, build_reference_model

    torch.manual_seed(0)
    ours = make_detecting(build_plugin_model("t"), (320, 320), seed=0)
    reference = build_reference_model("t").eval()
    reference.load_state_dict(ours.state_dict(), strict=True)
    cfg = build_overfit_config("ours", tmp_path, shared_data / "coco_mini", input_size=320)
    loader = Runner.build_dataloader(cfg.val_dataloader)
    for model in (ours, reference):
        model.test_cfg = dict(cfg.model.test_cfg, score_thr=0.1, nms_thr=0.65)
    saved = dict(ours.test_cfg)

    voted_ours = median_vote_results(ours, loader, iou_thr=0.5)
    voted_reference = median_vote_results(reference, loader, iou_thr=0.5)  # predicts with nms_thr=NO_NMS_THR too
    assert ours.test_cfg == saved and reference.test_cfg == saved
    assert NO_NMS_THR < 1.0 and len(voted_ours) == len(voted_reference) > 0
    from rtmo_plugin.evaluation import predict_dataloader
    plain = predict_dataloader(ours, loader)
    assert not np.allclose([r["keypoints"] for r in plain], [r["keypoints"] for r in voted_ours], atol=0.5)
    for a, b in zip(voted_ours, voted_reference):
        assert a["image_id"] == b["image_id"]
        np.testing.assert_allclose(a["bbox"], b["bbox"], atol=1e-2)
        np.testing.assert_allclose(a["keypoints"], b["keypoints"], atol=1e-2)
