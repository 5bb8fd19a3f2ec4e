"""Pose NMS presets against the original RMPE procedures, on hand-computed cases.

The expected numbers are reasoned out in the comments; no test runs the original code.
"""
import math

import numpy as np
import pytest
import torch

from rtmo_plugin.models.rmpe import COCO_PARAMS, MPII_PARAMS, ParametricPoseNMS

K_MPII, K_COCO = 16, 17
BOX_200x400 = torch.tensor([0.0, 0.0, 200.0, 400.0])  # α·max(w, h) = 0.1 · 400 = 40 px


def _pose(k: int) -> torch.Tensor:
    """A ``(k, 2)`` pose whose joint 3 is at (86, 32); joints are >= 12 px apart."""
    n = torch.arange(k, dtype=torch.float32)
    return torch.stack([50 + 12 * n, 20 + 4 * n], dim=1)


def test_presets_are_sets_of_values():
    coco, mpii = ParametricPoseNMS(preset='coco'), ParametricPoseNMS(preset='mpii')
    default = ParametricPoseNMS()
    for nms in (coco, default):
        assert (nms.merge_max_px, nms.output_filter, nms.match_thr) == (15.0, 'max', 5)
    assert (mpii.merge_max_px, mpii.output_filter, mpii.min_joints) == (None, 'count', 3)
    for params, nms in ((COCO_PARAMS, coco), (MPII_PARAMS, mpii)):
        assert {name: getattr(nms, name) for name in params} == params
    assert default.rank_dtype == torch.float32


def test_mpii_merge_radius_is_not_capped():
    """Issue 33 (a): box 200×400, a duplicate whose joint 3 lies 20 px away with score 0.95.

    Reference R: joint 3 at (86, 32) with score 0.8, the other 15 joints 0.9.
    Duplicate D: same joints except joint 3 at (106, 32) (20 px away) with 0.95; others 0.6.

    - Order: mean(R) = (15·0.9 + 0.8) / 16 = 0.89375 > mean(D) = (15·0.6 + 0.95) / 16
      = 0.621875, so R is the reference.
    - Elimination (MPII σ1 = 0.01, λ = 2.08, σ2 = 2.08, η = 22.48, box-normalised): the distances
      are 0 (15 joints) and 20 / 40 = 0.5 ≤ 1, so K_sim ≈ 16 · tanh(≥30)² ≈ 16 and
      H_sim = 15 + exp(−0.5 / 2.08); d ≈ 16 + 2.08 · 15.786 = 48.8 > η: D joins R's cluster.
    - Merge of joint 3, original MPII (radius 40 px, no cap): both are inside, so the location is
      (0.8 · 86 + 0.95 · 106) / 1.75 = 169.5 / 1.75 = 96.857…, y = 32, and the score is
      max(0.8, 0.95) = 0.95. The original writes int() coordinates: (96, 32) with 0.95.
    - With the COCO path's 15 px cap, D's joint (20 px) is outside: (86, 32) with 0.8.
    - Other joints coincide: location unchanged, score max(0.9, 0.6) = 0.9.
    """
    ref = _pose(K_MPII)
    assert ref[3].tolist() == [86.0, 32.0]
    dup = ref.clone()
    dup[3] = torch.tensor([106.0, 32.0])
    kpts = torch.stack([ref, dup])
    scores = torch.stack([torch.full((K_MPII, ), 0.9), torch.full((K_MPII, ), 0.6)])
    scores[0, 3], scores[1, 3] = 0.8, 0.95
    boxes = torch.stack([BOX_200x400, BOX_200x400])

    nms = ParametricPoseNMS(preset='mpii')
    d = nms.similarity(kpts, scores, torch.full((2, ), 40.0))[0, 1]
    h_sim = 15 + math.exp(-0.5 / 2.08)
    assert abs(float(d) - (16 + 2.08 * h_sim)) < 1e-3 and float(d) > 22.48

    res = nms(kpts, scores, boxes)
    assert res.keep.tolist() == [0]
    exp_k, exp_s = ref.clone(), torch.full((K_MPII, ), 0.9)
    exp_k[3], exp_s[3] = torch.tensor([169.5 / 1.75, 32.0]), 0.95
    torch.testing.assert_close(res.keypoints[0], exp_k)
    torch.testing.assert_close(res.keypoint_scores[0], exp_s)
    assert res.keypoints[0, 3].int().tolist() == [96, 32]  # what the original writes

    capped = ParametricPoseNMS(**{**MPII_PARAMS, 'merge_max_px': 15.0})(kpts, scores, boxes)
    assert capped.keep.tolist() == [0]
    assert capped.keypoints[0, 3].tolist() == [86.0, 32.0]
    assert abs(float(capped.keypoint_scores[0, 3]) - 0.8) < 1e-6


def test_mpii_output_filter_counts_joints_above_threshold():
    """Issue 33 (b): 2 joints at 0.9 and 14 at 0.1.

    The original MPII code outputs a pose only if #{n : c^n > 0.3} ≥ 3 (pre-merge scores);
    here 2 < 3, so it is dropped. The COCO filter (max score ≥ 0.3) keeps it: 0.9 ≥ 0.3.
    A third joint at exactly 0.3 does not count (strictly above); at 0.31 it does.
    """
    kpts = _pose(K_MPII)[None]
    scores = torch.full((1, K_MPII), 0.1)
    scores[0, :2] = 0.9
    mpii = ParametricPoseNMS(preset='mpii')
    assert mpii(kpts, scores).keep.tolist() == []
    max_filter = ParametricPoseNMS(**{**MPII_PARAMS, 'output_filter': 'max'})
    assert max_filter(kpts, scores).keep.tolist() == [0]
    scores[0, 2] = 0.3
    assert mpii(kpts, scores).keep.tolist() == []
    scores[0, 2] = 0.31
    assert mpii(kpts, scores).keep.tolist() == [0]
    assert ParametricPoseNMS(**{**MPII_PARAMS, 'min_joints': 4})(kpts, scores).keep.tolist() == []


def test_mpii_output_filter_uses_pre_merge_scores_and_still_suppresses():
    """A reference R with 2 joints at 0.9 and 14 at 0.3 (not above 0.3), mean 6.0 / 16 = 0.375,
    and a coinciding duplicate D with all 16 joints at 0.35 (mean 0.35 < 0.375): R is the
    reference and eliminates D (d ≈ 16 + 2.08 · 16 = 49.3 > η). After the max-merge 16 joints
    are above 0.3, but the original counts R's pre-merge scores (2 < 3): R is not output, and D
    stays suppressed, so nothing is output.
    """
    pose = _pose(K_MPII)
    kpts = torch.stack([pose, pose])
    scores = torch.stack([torch.full((K_MPII, ), 0.3), torch.full((K_MPII, ), 0.35)])
    scores[0, :2] = 0.9
    assert ParametricPoseNMS(preset='mpii')(kpts, scores).keep.tolist() == []
    # the same with no merge and no suppression (η beyond reach): D alone passes (16 > 0.3)
    lone = ParametricPoseNMS(**{**MPII_PARAMS, 'eta': 1e9})(kpts, scores)
    assert lone.keep.tolist() == [1]


def _near_tie():
    """Two coinciding COCO poses whose mean keypoint scores differ by 5e-9 (< 1e-8).

    A (index 0): 17 joints at 0.5, mean 0.5.
    B (index 1): joint 0 at 0.5 + 17 · 5e-9 = 0.500000085, the rest 0.5; float64 mean 0.5 + 5e-9.
    """
    kpts = np.stack([_pose(K_COCO).numpy()] * 2).astype(np.float64)
    scores = np.full((2, K_COCO), 0.5)
    scores[1, 0] = 0.5 + K_COCO * 5e-9
    boxes = np.stack([BOX_200x400.numpy()] * 2).astype(np.float64)
    return kpts, scores, boxes


def test_box_mode_near_tie_float32_and_float64_ranking():
    """Which pose is the reference of a near-tie.

    - The original RMPE COCO code takes np.argmax of the float64 means: B (index 1) is larger by
      5e-9 and wins. ``rank_dtype='float64'`` agrees: keep [1].
    - In float32, B's joint 0 rounds to 0.5 + 2⁻²⁴ and B's sum 8.5 + 2⁻²⁴ rounds to 8.5 (the
      float32 spacing at 8.5 is 2⁻²⁰), so both means are exactly 0.5: a tie, which the stable
      order resolves to the lower input index, A: keep [0].
    - B also wins in float64 from float32 inputs: mean 0.5 + 2⁻²⁴ / 17 ≈ 0.5 + 3.5e-9.
    Either way the two poses coincide, so the merged pose is the same.
    """
    kpts, scores, boxes = _near_tie()
    assert 0 < scores[1].mean() - scores[0].mean() < 1e-8
    scores32 = torch.as_tensor(scores, dtype=torch.float32)
    assert float(scores32[1].mean()) == float(scores32[0].mean()) == 0.5

    f32 = ParametricPoseNMS(normalisation='box')(kpts, scores, boxes)
    f64 = ParametricPoseNMS(normalisation='box', rank_dtype='float64')(kpts, scores, boxes)
    assert f32.keep.tolist() == [0]
    assert f64.keep.tolist() == [1]
    torch.testing.assert_close(f32.keypoints, f64.keypoints)
    from_f32 = ParametricPoseNMS(rank_dtype=torch.float64)(kpts, scores32, boxes)
    assert from_f32.keep.tolist() == [1]


def test_float64_ranking_uses_the_originals_mean():
    """Means equal in exact arithmetic: A = (0.05, 0.10, …, 0.85) and B, a permutation of A.

    Both means are 0.45, but numpy's float64 summation (the original code's np.mean) rounds B's
    to 0.45 + 1 ulp, so the original picks B. ``rank_dtype='float64'`` takes numpy's mean and
    picks B too, whatever order torch would sum in (torch's float64 mean gives a tie here on
    some CPUs, and the tie would go to A). The float32 default is not asserted: which way its
    rounding goes depends on torch's summation order.
    """
    a = np.arange(1, 18) / 20
    b = a[[1, 11, 16, 6, 7, 5, 0, 4, 9, 13, 3, 14, 8, 12, 10, 15, 2]]
    scores = np.stack([a, b])
    assert sorted(b) == sorted(a) and scores.mean(axis=1)[1] > scores.mean(axis=1)[0]
    kpts = np.stack([_pose(K_COCO).numpy()] * 2)
    assert ParametricPoseNMS(rank_dtype='float64')(kpts, scores).keep.tolist() == [1]


def test_float64_ranking_by_score_and_default_results_unchanged():
    kpts, _, boxes = _near_tie()
    kscores = np.full((2, K_COCO), 0.5)
    inst = np.array([0.7, 0.7 + 1e-9])  # equal in float32 (spacing 6e-8 at 0.7)
    f32 = ParametricPoseNMS(rank_by='score')(kpts, kscores, boxes, inst)
    f64 = ParametricPoseNMS(rank_by='score', rank_dtype='float64')(kpts, kscores, boxes, inst)
    assert (f32.keep.tolist(), f64.keep.tolist()) == ([0], [1])
    # away from near-ties float64 ranking changes nothing
    g = torch.Generator().manual_seed(7)
    people = torch.rand(5, 1, 2, generator=g) * 400 + torch.randn(5, K_COCO, 2, generator=g) * 40
    idx = torch.randint(0, 5, (30, ), generator=g)
    crowd = people[idx] + torch.randn(30, K_COCO, 2, generator=g) * 3  # 30 jittered duplicates
    cscores = torch.rand(30, K_COCO, generator=g)
    for preset in ('coco', 'mpii'):
        a = ParametricPoseNMS(preset=preset)(crowd, cscores)
        b = ParametricPoseNMS(preset=preset, rank_dtype='float64')(crowd, cscores)
        assert a.keep.tolist() == b.keep.tolist() and 0 < len(a.keep) < 30
        torch.testing.assert_close(a.keypoints, b.keypoints)


def test_new_options_are_validated():
    with pytest.raises(ValueError, match='output_filter'):
        ParametricPoseNMS(output_filter='mean')
    with pytest.raises(ValueError, match='min_joints'):
        ParametricPoseNMS(output_filter='count', min_joints=0)
    with pytest.raises(ValueError, match='merge_max_px'):
        ParametricPoseNMS(merge_max_px=0.0)
    with pytest.raises(ValueError, match='rank_dtype'):
        ParametricPoseNMS(rank_dtype='float16')
