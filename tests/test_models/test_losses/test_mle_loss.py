"""MLECoordClsLoss: formula, sigma's gradient, signs, reductions, errors."""
import math

import pytest
import torch
from mmpose.registry import MODELS

from rtmo_plugin.models.losses import MLECoordClsLoss


def _case(n=3, k=4, bx=20, by=24):
    x_probs = torch.softmax(torch.randn(n, k, bx), -1)
    y_probs = torch.softmax(torch.randn(n, k, by), -1)
    x_bins = torch.linspace(0, 100, bx).expand(n, bx)
    y_bins = torch.linspace(0, 120, by).expand(n, by)
    target = torch.rand(n, k, 2) * 100
    sigmas = torch.rand(n, k) * 0.1 + 0.01
    areas = torch.rand(n) * 5000 + 100
    return x_probs, y_probs, x_bins, y_bins, target, sigmas, areas


def test_matches_the_formula():
    x_probs, y_probs, x_bins, y_bins, target, sigmas, areas = _case()
    weight = torch.ones(3, 4)
    weight[0, 1] = 0
    loss = MLECoordClsLoss(reduction="none")(x_probs, y_probs, x_bins, y_bins, target, sigmas, areas, weight)
    n, k = 2, 3
    s = math.sqrt(areas[n].item())
    hx = torch.exp(-(x_bins[n] - target[n, k, 0]).abs() / (sigmas[n, k] * s) / 2) / sigmas[n, k]
    hy = torch.exp(-(y_bins[n] - target[n, k, 1]).abs() / (sigmas[n, k] * s) / 2) / sigmas[n, k]
    expected = -torch.log((x_probs[n, k] * hx).sum() * (y_probs[n, k] * hy).sum() + 1e-4)
    torch.testing.assert_close(loss[n, k], expected)
    assert loss[0, 1] == 0


def test_can_be_negative_but_finite_and_sigma_learns():
    # a sharp, correct prediction with a small sigma: P > 1, so the loss is negative
    x_bins = torch.linspace(0, 100, 101)[None]
    y_bins = torch.linspace(0, 100, 101)[None]
    x_probs = torch.zeros(1, 1, 101)
    x_probs[..., 40] = 1
    y_probs = torch.zeros(1, 1, 101)
    y_probs[..., 60] = 1
    sigmas = torch.full((1, 1), 0.05, requires_grad=True)
    loss = MLECoordClsLoss()(x_probs, y_probs, x_bins, y_bins, torch.tensor([[[40.0, 60.0]]]), sigmas,
                             torch.tensor([400.0]), torch.ones(1, 1))
    assert loss.shape == (1,)
    assert torch.isfinite(loss).all() and loss.item() < 0
    loss.sum().backward()
    assert sigmas.grad is not None and sigmas.grad.item() > 0  # a perfect hit pushes sigma down


def test_reductions_and_weight():
    args = _case()
    w = torch.ones(3, 4)
    none = MLECoordClsLoss(reduction="none")(*args, w)
    torch.testing.assert_close(MLECoordClsLoss()(*args, w), none.mean(-1))
    torch.testing.assert_close(MLECoordClsLoss(reduction="mean")(*args, w), none.mean())
    torch.testing.assert_close(MLECoordClsLoss(reduction="sum", loss_weight=5.0)(*args, w), none.sum() * 5)


def test_nan_is_zeroed():
    x_probs, y_probs, x_bins, y_bins, target, sigmas, areas = _case()
    target[0, 0, 0] = float("nan")
    loss = MLECoordClsLoss(reduction="none")(x_probs, y_probs, x_bins, y_bins, target, sigmas, areas, torch.ones(3, 4))
    assert loss[0, 0] == 0 and torch.isfinite(loss).all()


def test_errors_and_registry():
    loss = MODELS.build(dict(type="MLECoordClsLoss", use_target_weight=True, loss_weight=1.0))
    assert isinstance(loss, MLECoordClsLoss)
    args = _case()
    with pytest.raises(ValueError, match="target_weight"):
        loss(*args)
    with pytest.raises(ValueError, match="reduction"):
        MLECoordClsLoss(reduction="avg")
    x_probs, y_probs, x_bins, y_bins, target, sigmas, areas = args
    with pytest.raises(ValueError, match="do not match"):
        loss(x_probs[:2], y_probs, x_bins, y_bins, target, sigmas, areas, torch.ones(3, 4))
