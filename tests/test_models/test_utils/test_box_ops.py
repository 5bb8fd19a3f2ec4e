"""Box/keypoint decoding, IoU, NMS and score filtering helpers."""
import torch

from rtmo_plugin.models.utils import (
    bbox_xyxy_to_cs,
    decode_bboxes,
    decode_keypoints,
    encode_bboxes,
    filter_by_score,
    greedy_nms,
    pairwise_iou,
)


def _priors(n=6):
    return torch.cat([torch.rand(n, 2) * 300, torch.full((n, 2), 16.0)], dim=1)


def test_decode_encode_roundtrip():
    priors = _priors()
    pred = torch.randn(6, 4) * 0.5
    boxes = decode_bboxes(pred, priors)
    torch.testing.assert_close(encode_bboxes(boxes, priors, eps=0.0), pred, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close((boxes[:, :2] + boxes[:, 2:]) / 2, pred[:, :2] * 16 + priors[:, :2])


def test_decode_keypoints_and_cs():
    priors = _priors(2)
    kpts = decode_keypoints(torch.ones(2, 3, 2), priors)
    torch.testing.assert_close(kpts, (priors[:, None, :2] + 16).expand(2, 3, 2))
    c, s = bbox_xyxy_to_cs(torch.tensor([[0.0, 10.0, 40.0, 30.0]]), 1.25)
    torch.testing.assert_close(c, torch.tensor([[20.0, 20.0]]))
    torch.testing.assert_close(s, torch.tensor([[50.0, 25.0]]))


def test_iou_and_nms_against_brute_force():
    torch.manual_seed(3)
    xy = torch.rand(60, 2) * 100
    boxes = torch.cat([xy, xy + 10 + torch.rand(60, 2) * 40], 1)
    scores = torch.rand(60)
    iou = pairwise_iou(boxes, boxes)
    torch.testing.assert_close(iou.diagonal(), torch.ones(60))
    keep = greedy_nms(boxes, scores, 0.5)
    # brute force: visit by score, keep if no kept box overlaps > 0.5
    expected = []
    for i in scores.argsort(descending=True).tolist():
        if all(iou[i, j] <= 0.5 for j in expected):
            expected.append(i)
    assert keep.tolist() == expected
    assert greedy_nms(boxes[:0], scores[:0], 0.5).numel() == 0


def test_filter_by_score():
    scores = torch.tensor([0.05, 0.9, 0.2, 0.5, 0.1])
    kept, idx = filter_by_score(scores, 0.1, 2)
    assert idx.tolist() == [1, 3]
    torch.testing.assert_close(kept, torch.tensor([0.9, 0.5]))
    kept, idx = filter_by_score(scores, 0.1, 100)
    assert idx.tolist() == [1, 3, 2]
