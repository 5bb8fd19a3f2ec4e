"""Tests of the RMPE parametric pose NMS (hand-computed cases, invariances, edge cases)."""
import math

import numpy as np
import pytest
import torch
from mmpose.registry import TASK_UTILS

from rtmo_plugin.models.rmpe import ParametricPoseNMS

K = 17


def _pose(offset=(0.0, 0.0), k: int = K) -> torch.Tensor:
    """A fixed ``(k, 2)`` pose spread over a ~200 px box, shifted by ``offset``."""
    g = torch.arange(k, dtype=torch.float32)
    pose = torch.stack([100 + 10 * (g % 5), 100 + 12 * g], dim=1)
    return pose + torch.tensor(offset)


def _box(pose: torch.Tensor) -> torch.Tensor:
    return torch.cat([pose.min(0).values - 10, pose.max(0).values + 10])


def test_registered_and_presets():
    nms = TASK_UTILS.build(dict(type='ParametricPoseNMS'))
    assert isinstance(nms, ParametricPoseNMS)
    assert (nms.sigma1, nms.lambda_, nms.sigma2, nms.eta) == (1.0, 1.7, 2.65, 22.48)
    assert (nms.match_thr, nms.alpha, nms.score_thr) == (5, 0.1, 0.3)
    mpii = ParametricPoseNMS(preset='mpii')
    assert (mpii.sigma1, mpii.lambda_, mpii.sigma2, mpii.match_thr) == (0.01, 2.08, 2.08, None)
    assert mpii.merge_score == 'max'
    assert (mpii.merge_max_px, mpii.output_filter, mpii.min_joints) == (None, 'count', 3)
    assert (nms.merge_max_px, nms.output_filter) == (15.0, 'max')


def test_two_identical_poses_one_kept_with_merged_score():
    pose = _pose()
    kpts = torch.stack([pose, pose])
    scores = torch.stack([torch.full((K, ), 0.9), torch.full((K, ), 0.6)])
    for norm in ('box', 'pixel'):
        res = ParametricPoseNMS(normalisation=norm)(kpts, scores, torch.stack([_box(pose)] * 2))
        assert res.keep.tolist() == [0]
        # w = s / Σs; merged score Σ w·s = (0.81 + 0.36) / 1.5
        torch.testing.assert_close(res.keypoint_scores[0], torch.full((K, ), 1.17 / 1.5))
        torch.testing.assert_close(res.keypoints[0], pose)


def test_far_apart_poses_both_kept_unchanged():
    a, b = _pose(), _pose((1000.0, 0.0))
    scores = torch.stack([torch.full((K, ), 0.8), torch.full((K, ), 0.7)])
    res = ParametricPoseNMS()(torch.stack([a, b]), scores, torch.stack([_box(a), _box(b)]))
    assert res.keep.tolist() == [0, 1]
    torch.testing.assert_close(res.keypoints, torch.stack([a, b]))
    torch.testing.assert_close(res.keypoint_scores, scores)


def test_pck_criterion_alone_triggers():
    a = _pose()
    b = a.clone()
    b[5:] += 1000.0  # only 5 keypoints coincide
    kpts = torch.stack([a, b])
    scores = torch.stack([torch.full((K, ), 0.9), torch.full((K, ), 0.8)])
    boxes = torch.stack([_box(a), _box(a)])
    nms = ParametricPoseNMS()
    sim = nms.similarity(kpts, scores, torch.full((2, ), 20.0))[0, 1]
    # K_sim = 5 tanh(.9) tanh(.8), H_sim ≈ 5 (coinciding joints) -> far below η = 22.48
    expected = 5 * math.tanh(0.9) * math.tanh(0.8) + 1.7 * 5
    assert abs(float(sim) - expected) < 1e-4 and expected < nms.eta
    assert nms(kpts, scores, boxes).keep.tolist() == [0]  # 5 PCK matches >= matchThreds
    assert ParametricPoseNMS(match_thr=6)(kpts, scores, boxes).keep.tolist() == [0, 1]
    assert ParametricPoseNMS(match_thr=None)(kpts, scores, boxes).keep.tolist() == [0, 1]


def test_similarity_box_vs_pixel_normalisation():
    a = _pose(k=2)
    kpts = torch.stack([a, a + torch.tensor([3.0, 4.0])])  # every joint 5 px away
    scores = torch.full((2, 2), 0.5)
    ref = torch.full((2, ), 10.0)  # α·max(w, h) = 10 px -> normalised distance 0.5
    t = math.tanh(0.5)**2
    box_sim = ParametricPoseNMS(normalisation='box').similarity(kpts, scores, ref)[0, 1]
    pix_sim = ParametricPoseNMS(normalisation='pixel').similarity(kpts, scores, ref)[0, 1]
    assert abs(float(box_sim) - (2 * t + 1.7 * 2 * math.exp(-0.5 / 2.65))) < 1e-5
    assert abs(float(pix_sim) - (1.7 * 2 * math.exp(-5 / 2.65))) < 1e-5  # 5 px > 1 px box


def test_merge_weights_and_merge_radius():
    a = _pose()
    b = a + 2.0  # every joint 2√2 px away: inside PCK radius 7 -> eliminated, merged
    b[3] = a[3] + torch.tensor([20.0, 0.0])  # outside the 15 px merge radius
    scores = torch.stack([torch.full((K, ), 0.8), torch.full((K, ), 0.4)])
    box = torch.tensor([0.0, 0.0, 200.0, 300.0])  # ref_dist 30 -> radii min(30,7), min(30,15)
    res = ParametricPoseNMS()(torch.stack([a, b]), scores, torch.stack([box, box]))
    assert res.keep.tolist() == [0]
    exp_k = (0.8 * a + 0.4 * b) / 1.2
    exp_k[3] = a[3]
    exp_s = torch.full((K, ), (0.64 + 0.16) / 1.2)
    exp_s[3] = 0.8
    torch.testing.assert_close(res.keypoints[0], exp_k)
    torch.testing.assert_close(res.keypoint_scores[0], exp_s)
    mpii = ParametricPoseNMS(merge_score='max')(torch.stack([a, b]), scores,
                                                 torch.stack([box, box]))
    torch.testing.assert_close(mpii.keypoint_scores[0], torch.full((K, ), 0.8))


def test_low_score_reference_suppresses_but_is_not_output():
    a = _pose()
    kpts = torch.stack([a, a + 1.0, a + 1000.0])
    scores = torch.stack([torch.full((K, ), 0.25), torch.full((K, ), 0.2),
                          torch.full((K, ), 0.9)])
    res = ParametricPoseNMS()(kpts, scores)
    assert res.keep.tolist() == [2]
    res = ParametricPoseNMS(score_thr=0.0)(kpts, scores)
    assert res.keep.tolist() == [2, 0]


def test_rank_by_score_and_passthrough_scores():
    a = _pose()
    kpts = torch.stack([a, a])
    kscores = torch.stack([torch.full((K, ), 0.9), torch.full((K, ), 0.5)])
    inst = torch.tensor([0.1, 0.7])
    assert ParametricPoseNMS()(kpts, kscores, None, inst).keep.tolist() == [0]
    res = ParametricPoseNMS(rank_by='score')(kpts, kscores, None, inst)
    assert res.keep.tolist() == [1]
    torch.testing.assert_close(res.scores, torch.tensor([0.7]))


def _random_crowd(seed: int, n: int = 30):
    g = torch.Generator().manual_seed(seed)
    centres = torch.rand(6, 1, 2, generator=g) * 400
    base = centres + torch.randn(6, K, 2, generator=g) * 40
    idx = torch.randint(0, 6, (n, ), generator=g)
    kpts = base[idx] + torch.randn(n, K, 2, generator=g) * 4
    scores = torch.rand(n, K, generator=g) * 0.8 + 0.2
    return kpts, scores, torch.cat([kpts.amin(1), kpts.amax(1)], dim=1)


@pytest.mark.parametrize('norm', ['box', 'pixel'])
def test_permutation_invariance(norm):
    kpts, scores, boxes = _random_crowd(1)
    nms = ParametricPoseNMS(normalisation=norm)
    ref = nms(kpts, scores, boxes)
    assert 0 < len(ref.keep) < len(kpts)
    perm = torch.randperm(len(kpts), generator=torch.Generator().manual_seed(2))
    out = nms(kpts[perm], scores[perm], boxes[perm])
    assert perm[out.keep].tolist() == ref.keep.tolist()
    torch.testing.assert_close(out.keypoints, ref.keypoints)
    torch.testing.assert_close(out.keypoint_scores, ref.keypoint_scores)


def test_empty_input_and_numpy_input():
    res = ParametricPoseNMS()(torch.zeros(0, K, 2), torch.zeros(0, K), torch.zeros(0, 4),
                              torch.zeros(0))
    assert res.keep.shape == (0, ) and res.keypoints.shape == (0, K, 2)
    assert res.keypoint_scores.shape == (0, K) and res.scores.shape == (0, )
    kpts, scores, boxes = _random_crowd(3, n=8)
    a = ParametricPoseNMS()(kpts.numpy(), scores.numpy(), boxes.numpy())
    b = ParametricPoseNMS()(kpts, scores, boxes)
    assert a.keep.tolist() == b.keep.tolist()
    assert not torch.isnan(a.keypoints).any()


def test_bad_input_raises_clear_errors():
    nms = ParametricPoseNMS()
    with pytest.raises(ValueError, match='keypoints must have shape'):
        nms(torch.zeros(2, K, 3), torch.zeros(2, K))
    with pytest.raises(ValueError, match='keypoint_scores'):
        nms(torch.zeros(2, K, 2), torch.zeros(2, K - 1))
    with pytest.raises(ValueError, match='bboxes'):
        nms(torch.zeros(2, K, 2), torch.zeros(2, K), torch.zeros(3, 4))
    with pytest.raises(ValueError, match='NaN'):
        nms(torch.full((1, K, 2), float('nan')), torch.zeros(1, K))
    with pytest.raises(ValueError, match='normalisation'):
        ParametricPoseNMS(normalisation='meters')
    with pytest.raises(ValueError, match='preset'):
        ParametricPoseNMS(preset='crowdpose')


def test_zero_scores_give_finite_merge():
    kpts = torch.stack([_pose(), _pose()])
    res = ParametricPoseNMS(score_thr=0.0)(kpts, torch.zeros(2, K))
    assert res.keep.tolist() == [0]
    assert np.isfinite(res.keypoints.numpy()).all() and np.isfinite(res.keypoint_scores.numpy()).all()


@pytest.mark.parametrize('as_numpy', [False, True])
def test_filter_instances_for_heads(as_numpy):
    from mmengine.structures import InstanceData
    kpts, scores, boxes = _random_crowd(4, n=12)
    inst = InstanceData(keypoints=kpts, keypoint_scores=scores, keypoints_visible=scores.clone(),
                        bboxes=boxes, scores=torch.linspace(0.9, 0.1, 12),
                        labels=torch.zeros(12, dtype=torch.long))
    if as_numpy:
        inst = InstanceData(**{k: v.numpy() for k, v in inst.items()})
    nms = ParametricPoseNMS(rank_by='score')
    out = nms.filter_instances(inst)
    ref = nms(kpts, scores, boxes, torch.linspace(0.9, 0.1, 12))
    assert len(out) == len(ref.keep) and 0 < len(out) < 12
    as_t = torch.as_tensor
    torch.testing.assert_close(as_t(out.keypoints), ref.keypoints)
    torch.testing.assert_close(as_t(out.keypoint_scores), ref.keypoint_scores)
    torch.testing.assert_close(as_t(out.keypoints_visible), ref.keypoint_scores)
    torch.testing.assert_close(as_t(out.scores), ref.scores)
    torch.testing.assert_close(as_t(out.bboxes), boxes[ref.keep])
    assert isinstance(out.keypoints, np.ndarray) == as_numpy
    empty = nms.filter_instances(inst[torch.zeros(12, dtype=torch.bool)])
    assert len(empty) == 0


@pytest.mark.parametrize('norm', ['box', 'pixel'])
def test_vectorised_terms_match_a_scalar_loop(norm):
    kpts, scores, boxes = _random_crowd(5, n=7)
    nms = ParametricPoseNMS(normalisation=norm, chunk_size=3)
    ref_dist = 0.1 * (boxes[:, 2:] - boxes[:, :2]).max(dim=1).values
    sim, pck = nms.similarity(kpts, scores, ref_dist), nms.pck_matches(kpts, ref_dist)
    for i in range(7):
        for j in range(7):
            s, m = 0.0, 0
            for n in range(K):
                d_px = math.dist(kpts[i, n].tolist(), kpts[j, n].tolist())
                d = d_px / float(ref_dist[i]) if norm == 'box' else d_px
                if d <= 1:
                    s += math.tanh(float(scores[i, n])) * math.tanh(float(scores[j, n]))
                s += 1.7 * math.exp(-d / 2.65)
                m += d_px <= min(float(ref_dist[i]), 7.0)
            assert abs(float(sim[i, j]) - s) < 1e-3 and int(pck[i, j]) == m
    a = ParametricPoseNMS(normalisation=norm, chunk_size=2)(kpts, scores, boxes)
    b = ParametricPoseNMS(normalisation=norm)(kpts, scores, boxes)
    assert a.keep.tolist() == b.keep.tolist()
    torch.testing.assert_close(a.keypoints, b.keypoints)
