"""The keypoint vote of RTMODCCHead's ``test_cfg.keypoint_vote`` (median / score-weighted mean of overlapping cells)."""
import numpy as np
import pytest
import torch

from rtmo_plugin.models.utils.keypoint_vote import check_vote_cfg, overlap_members, vote_keypoints


def test_members_are_the_cells_overlapping_above_the_threshold():
    kept = torch.tensor([[0.0, 0.0, 10.0, 10.0], [50.0, 50.0, 60.0, 60.0]])
    cells = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 9.5], [0.0, 0.0, 10.0, 5.0],
                          [50.0, 50.0, 60.0, 60.0]])
    members = overlap_members(kept, cells, iou_thr=0.9)
    assert members.tolist() == [[True, True, False, False], [False, False, False, True]]


def test_median_matches_numpy_for_odd_and_even_counts_and_ignores_an_outlier():
    torch.manual_seed(0)
    cell_kpts = torch.rand(5, 3, 2) * 100
    cell_kpts[4] = 1000.0  # one bad cell
    members = torch.tensor([[True, True, True, False, True], [True, True, False, True, False]])
    kept = torch.zeros(2, 3, 2)
    voted = vote_keypoints(kept, members, cell_kpts, torch.ones(5), "median")
    np.testing.assert_allclose(voted[0], np.median(cell_kpts[[0, 1, 2, 4]].numpy(), axis=0), rtol=1e-6)
    np.testing.assert_allclose(voted[1], np.median(cell_kpts[[0, 1, 3]].numpy(), axis=0), rtol=1e-6)
    assert voted[1].max() < 1000.0


def test_mean_is_weighted_by_the_cell_scores():
    cell_kpts = torch.tensor([[[0.0, 0.0]], [[10.0, 20.0]]])
    voted = vote_keypoints(torch.zeros(1, 1, 2), torch.tensor([[True, True]]), cell_kpts,
                           torch.tensor([1.0, 3.0]), "mean")
    torch.testing.assert_close(voted, torch.tensor([[[7.5, 15.0]]]))


def test_a_detection_without_member_cells_keeps_its_keypoints_and_nothing_kept_is_empty():
    kept = torch.full((1, 2, 2), 7.0)
    voted = vote_keypoints(kept, torch.zeros(1, 3, dtype=torch.bool), torch.zeros(3, 2, 2), torch.ones(3))
    torch.testing.assert_close(voted, kept)
    assert vote_keypoints(torch.zeros(0, 2, 2), torch.zeros(0, 3, dtype=torch.bool), torch.zeros(3, 2, 2),
                          torch.ones(3)).shape == (0, 2, 2)


def test_config_defaults_and_errors_name_the_field():
    assert check_vote_cfg({}) == (0.9, "median")
    assert check_vote_cfg(dict(iou_thr=0.5, method="mean")) == (0.5, "mean")
    with pytest.raises(ValueError, match="keypoint_vote.method"):
        check_vote_cfg(dict(method="mode"))
    with pytest.raises(ValueError, match="keypoint_vote.iou_thr"):
        check_vote_cfg(dict(iou_thr=1.0))
    with pytest.raises(ValueError, match="unknown keys.*iou"):
        check_vote_cfg(dict(iou=0.9))
