"""Parity of our RTMO (RTMODCCHead) with MMPose 1.3.2's reference RTMOHead: same weights, same input.

Heavy comparisons use RTMO-t at 320x320 on two real coco_mini images. The reference is an oracle only.
"""
from typing import Dict, Tuple

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData

from rtmo_plugin.testing.reference import (
    as_numpy,
    build_plugin_model,
    build_reference_model,
    calibrate_classifier,
    coco_mini_batch,
)

INPUT = (320, 320)
PRED_FIELDS = ("bboxes", "bbox_scores", "keypoints", "keypoint_scores", "keypoints_visible")
STAGE2_ATTRS = {"proxy_target_cc": True, "loss_mle.loss_weight": 5.0, "loss_oks.loss_weight": 10.0,
                "use_aux_loss": True, "overlaps_power": 1.0, "loss_cls.loss_weight": 2.0}


@pytest.fixture(scope="module")
def models_and_batch(shared_data):
    """Reference and plugin RTMO-t with identical weights that detect people-sized boxes on the batch."""
    torch.manual_seed(0)
    ref = build_reference_model("t")
    ours = build_plugin_model("t")
    inputs, samples = coco_mini_batch(shared_data, INPUT, num_images=2)
    calibrate_classifier(ref, inputs, num_detections=20)
    ours.load_state_dict(ref.state_dict(), strict=True)
    # the backbone and neck are the same (registry-built) modules in both models: compute the training-mode
    # neck features once and compare the heads on them (keeps the loss/gradient tests fast)
    state = {k: v.clone() for k, v in ref.state_dict().items()}
    ref.train()
    with torch.no_grad():
        feats = tuple(f.detach() for f in ref.extract_feat(inputs))
    ref.load_state_dict(state)  # undo the BatchNorm running-stat update of that pass
    return ref, ours, inputs, samples, feats


def _set_attrs(head: torch.nn.Module, attrs: Dict) -> None:
    for dotted, value in attrs.items():
        obj = head
        *parents, name = dotted.split(".")
        for p in parents:
            obj = getattr(obj, p)
        setattr(obj, name, value)


def _loss_and_grads(model, feats, samples, attrs) -> Tuple[Dict, Dict]:
    """Head losses on fixed neck features, and the gradients of the head's parameters."""
    model.train()
    model.zero_grad()
    _set_attrs(model.head, attrs)
    losses = model.head.loss(feats, [s.clone() for s in samples])
    sum(v.mean() for k, v in losses.items() if "loss" in k).backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()
             if n.startswith("head.") and p.grad is not None}
    _set_attrs(model.head, {"proxy_target_cc": False, "loss_mle.loss_weight": 1.0, "loss_oks.loss_weight": 30.0,
                            "use_aux_loss": False, "overlaps_power": 0.5, "loss_cls.loss_weight": 1.0})
    return losses, grads


def test_predict_matches_reference(models_and_batch):
    ref, ours, inputs, samples, feats = models_and_batch
    ref.eval()
    ours.eval()
    with torch.no_grad():
        res_ref = ref.predict(inputs, [s.clone() for s in samples])
        res_ours = ours.predict(inputs, [s.clone() for s in samples])
    total = 0
    for a, b in zip(res_ref, res_ours):
        a, b = a.pred_instances, b.pred_instances
        assert len(a.bboxes) == len(b.bboxes)
        total += len(b.bboxes)
        for field in PRED_FIELDS:
            assert as_numpy(b[field]).shape == as_numpy(a[field]).shape, field
        # image-space (after BottomupPoseEstimator's mapping) coordinates
        np.testing.assert_allclose(as_numpy(b.bboxes), as_numpy(a.bboxes), atol=1e-3, rtol=0)
        np.testing.assert_allclose(as_numpy(b.bbox_scores), as_numpy(a.bbox_scores), atol=1e-6, rtol=0)
        np.testing.assert_allclose(as_numpy(b.keypoints), as_numpy(a.keypoints), atol=1e-3, rtol=0)
        np.testing.assert_allclose(as_numpy(b.keypoint_scores), as_numpy(a.keypoint_scores), atol=1e-5, rtol=0)
        np.testing.assert_allclose(as_numpy(b.keypoints_visible), as_numpy(a.keypoints_visible), atol=1e-5, rtol=0)
    assert total > 0, "the calibrated model must detect something, else the comparison proves nothing"
    # NMS had work to do: fewer kept than the 20 priors above the threshold
    assert total < 20


def _with_partial_visibility(samples):
    """Hide some keypoints and give per-keypoint weights (``keypoints_visible_weights``)."""
    gen = torch.Generator().manual_seed(0)
    out = []
    for s in samples:
        s = s.clone()
        gt = s.gt_instance_labels
        gt.keypoints_visible = gt.keypoints_visible.clone()
        gt.keypoints_visible[:, :3] = 0
        gt.keypoints_visible_weights = torch.rand(gt.keypoints_visible.shape, generator=gen)
        out.append(s)
    return out


@pytest.mark.parametrize("stage", ["stage1", "stage2", "stage2_weighted"])
def test_losses_and_head_gradients_match_reference(models_and_batch, stage):
    ref, ours, inputs, samples, feats = models_and_batch
    attrs = {} if stage == "stage1" else STAGE2_ATTRS
    if stage == "stage2_weighted":
        samples = _with_partial_visibility(samples)
    loss_ref, grad_ref = _loss_and_grads(ref, feats, samples, attrs)
    loss_ours, grad_ours = _loss_and_grads(ours, feats, samples, attrs)
    ref_terms = {k for k in loss_ref if "loss" in k}
    assert ref_terms == {k for k in loss_ours if "loss" in k}
    if stage == "stage2":
        assert "loss_bbox_aux" in ref_terms
    assert loss_ours["num_samples"].item() == pytest.approx(float(loss_ref["num_samples"]))
    assert loss_ours["num_samples"].item() >= 2
    for key in ref_terms:
        a, b = loss_ref[key].detach(), loss_ours[key].detach()
        assert a.shape == b.shape, key
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-7, msg=key)
    assert set(grad_ref) == set(grad_ours)
    scale = max(g.abs().max().item() for g in grad_ref.values())
    for name, g in grad_ref.items():
        # absolute floor relative to the largest head gradient: some biases (before BatchNorm / inside a softmax)
        # have a true gradient of 0 and carry only rounding noise in both implementations
        torch.testing.assert_close(grad_ours[name], g, rtol=1e-4, atol=1e-5 * scale, msg=name)


def test_stage2_invalid_region_mask_matches_reference(models_and_batch):
    ref, ours, inputs, samples, feats = models_and_batch
    masked = []
    for s in samples:
        s = s.clone()
        mask = torch.zeros(*INPUT)
        mask[40:220, 60:260] = 1.0
        mask[220:, :100] = 0.5
        s.gt_fields = PixelData(heatmap_mask=mask[None])
        masked.append(s)
    loss_ref, _ = _loss_and_grads(ref, feats, masked, {})
    loss_ours, _ = _loss_and_grads(ours, feats, masked, {})
    loss_plain, _ = _loss_and_grads(ours, feats, samples, {})
    torch.testing.assert_close(loss_ours["loss_cls"], loss_ref["loss_cls"], rtol=1e-5, atol=1e-7)
    assert not torch.isclose(loss_ours["loss_cls"], loss_plain["loss_cls"])  # the mask changed something


def _empty_gt() -> InstanceData:
    return InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long),
                        keypoints=torch.zeros(0, 17, 2), keypoints_visible=torch.zeros(0, 17), areas=torch.zeros(0))


def test_empty_ground_truth(models_and_batch):
    ref, ours, inputs, samples, feats = models_and_batch
    empty = []
    for s in samples:
        s = s.clone()
        s.gt_instance_labels = _empty_gt()
        empty.append(s)
    loss_ref, _ = _loss_and_grads(ref, feats, empty, {})
    loss_ours, _ = _loss_and_grads(ours, feats, empty, {})
    torch.testing.assert_close(loss_ours["loss_cls"], loss_ref["loss_cls"], rtol=1e-5, atol=1e-7)
    for key, value in loss_ours.items():
        assert torch.isfinite(value).all(), key
        if key.startswith("loss") and key != "loss_cls":
            assert value.abs().sum().item() == 0.0, key
    assert loss_ours["loss_cls"].item() > 0


def test_single_positive_trains_where_reference_batchnorm_fails(models_and_batch):
    """One image with one person: SimOTA gives exactly one positive (dynamic k = 1 for an untrained model)."""
    ref, ours, inputs, samples, feats = models_and_batch
    one = samples[0].clone()
    gt = one.gt_instance_labels
    one.gt_instance_labels = gt[:1]
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        _loss_and_grads(ref, tuple(f[:1] for f in feats), [one], {})
    losses, grads = _loss_and_grads(ours, tuple(f[:1] for f in feats), [one], {})
    assert losses["num_samples"].item() == 1.0
    for key, value in losses.items():
        assert torch.isfinite(value).all(), key
    assert all(torch.isfinite(g).all() for g in grads.values())
