"""Batched NMS: same kept set and order as a straightforward per-image greedy NMS."""
import torch

from rtmo_plugin.deploy.nms import batched_nms


def _greedy(boxes: torch.Tensor, scores: torch.Tensor, iou_thr: float, score_thr: float) -> list:
    idx = [i for i in scores.argsort(descending=True).tolist() if scores[i] > score_thr]
    keep = []
    for i in idx:
        ok = True
        for j in keep:
            lt = torch.maximum(boxes[i, :2], boxes[j, :2])
            rb = torch.minimum(boxes[i, 2:], boxes[j, 2:])
            inter = (rb - lt).clamp(min=0).prod()
            union = (boxes[i, 2:] - boxes[i, :2]).prod() + (boxes[j, 2:] - boxes[j, :2]).prod() - inter
            if inter / union > iou_thr:
                ok = False
                break
        if ok:
            keep.append(i)
    return keep


def test_batched_nms_matches_greedy_per_image() -> None:
    gen = torch.Generator().manual_seed(3)
    xy = torch.rand(3, 60, 2, generator=gen) * 100
    boxes = torch.cat([xy, xy + 10 + torch.rand(3, 60, 2, generator=gen) * 30], dim=2)
    scores = torch.rand(3, 1, 60, generator=gen)
    keep = batched_nms(boxes, scores, 1000, 0.5, 0.2)
    assert keep.shape[1] == 3 and keep.dtype == torch.long
    for b in range(3):
        got = keep[keep[:, 0] == b, 2].tolist()
        assert got == _greedy(boxes[b], scores[b, 0], 0.5, 0.2), f"image {b}"
    assert torch.all(keep[:-1, 0] <= keep[1:, 0]), "rows must be grouped by image"


def test_batched_nms_cap_and_empty() -> None:
    boxes = torch.tensor([[[0, 0, 10, 10], [50, 50, 60, 60], [100, 100, 110, 110]]], dtype=torch.float32)
    scores = torch.tensor([[[0.9, 0.8, 0.7]]])
    assert batched_nms(boxes, scores, 2, 0.5, 0.1)[:, 2].tolist() == [0, 1]
    assert batched_nms(boxes, scores, 10, 0.5, 0.95).shape == (0, 3)
