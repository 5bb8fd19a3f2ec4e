"""DCC, GAU and the sine bin encoding."""
import math

import pytest
import torch

from rtmo_plugin.models.heads.dcc import DCC, stable_softmax
from rtmo_plugin.models.heads.gau import GatedAttentionUnit, ScaleNorm
from rtmo_plugin.models.heads.sine_encoding import SineBinEncoding

K = 5


def _dcc() -> DCC:
    return DCC(in_channels=32, num_keypoints=K, feat_channels=16, num_bins=(24, 32), spe_channels=16,
               gau_cfg=dict(s=16, expansion_factor=2, act_fn="SiLU", pos_enc="add"))


def _inputs(n: int = 4):
    xy = torch.rand(n, 2) * 100
    boxes = torch.cat([xy, xy + 20 + torch.rand(n, 2) * 80], dim=1)
    grids = (boxes[:, :2] + boxes[:, 2:]) / 2
    return torch.randn(n, 32), boxes, grids


def test_checkpoint_names_and_buffers():
    keys = set(_dcc().state_dict())
    for key in ("pos_enc", "x_bins", "y_bins", "spe.dim_t", "gau.gamma", "gau.beta", "gau.uv.weight", "gau.o.weight",
                "gau.ln.g", "gau.res_scale.scale", "pose_to_kpts.0.weight", "pose_to_kpts.1.running_var",
                "x_fc.weight", "y_fc.bias", "sigma_fc.0.weight", "sigma_fc.2.scale"):
        assert key in keys, key


def test_keypoints_are_expectations_inside_the_enlarged_box():
    dcc = _dcc().eval()
    vecs, boxes, grids = _inputs()
    kpts = dcc.forward_test(vecs, boxes, grids)
    assert kpts.shape == (4, K, 2)
    center = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) * 1.25 / 2
    assert torch.all((kpts - center[:, None]).abs() <= half[:, None] + 1e-3)


def test_train_outputs_and_sigma_range():
    dcc = _dcc().train()
    vecs, boxes, grids = _inputs()
    out = dcc.forward_train(vecs, boxes, grids)
    assert out["x_probs"].shape == (4, K, 24) and out["y_probs"].shape == (4, K, 32)
    assert out["x_bins"].shape == (4, 24) and out["y_bins"].shape == (4, 32)
    torch.testing.assert_close(out["x_probs"].sum(-1), torch.ones(4, K))
    assert torch.all(out["sigmas"] > 0) and torch.all(out["sigmas"] < 0.1 + 1e-6)  # sigmoid * Scale(0.1)
    torch.testing.assert_close(out["x_bins"][:, 0], boxes[:, 0] - (boxes[:, 2] - boxes[:, 0]) * 0.125)


def test_single_instance_in_training_uses_running_statistics():
    """nn.BatchNorm1d cannot normalise one sample in train mode; the DCC falls back to running statistics."""
    dcc = _dcc()
    dcc.train()
    vecs, boxes, grids = _inputs(3)
    dcc.forward_train(vecs, boxes, grids)  # updates running stats
    running = dcc.pose_to_kpts[1].running_mean.clone()
    one = dcc.forward_train(vecs[:1], boxes[:1], grids[:1])["keypoints"]
    assert torch.equal(dcc.pose_to_kpts[1].running_mean, running)  # not updated by the single sample
    dcc.eval()
    torch.testing.assert_close(one, dcc.forward_test(vecs[:1], boxes[:1], grids[:1]))


def test_softmax_is_stable():
    logits = torch.tensor([[1e6, 0.0, -1e6], [float("-inf"), 0.0, 0.0]])
    probs = stable_softmax(logits)
    assert torch.isfinite(probs).all()
    torch.testing.assert_close(probs[0], torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(probs[1], torch.tensor([0.0, 0.5, 0.5]))


def test_sine_encoding_values():
    enc = SineBinEncoding(8, temperature=300.0)
    out = enc(torch.tensor([0.0, 3.0]))
    assert out.shape == (2, 8)
    torch.testing.assert_close(out[0], torch.tensor([1.0] * 4 + [0.0] * 4))
    dim_t = 300.0 ** (torch.arange(4) / 4)
    torch.testing.assert_close(out[1, :4], torch.cos(3.0 / dim_t))
    with pytest.raises(ValueError, match="even"):
        SineBinEncoding(7)


def test_gau_shapes_and_scale_norm():
    gau = GatedAttentionUnit(16, 16, s=8)
    x = torch.randn(3, K, 16)
    assert gau(x).shape == (3, K, 16)
    assert gau(x, torch.randn(K, 8)).shape == (3, K, 16)
    y = ScaleNorm(16)(x)
    torch.testing.assert_close(torch.linalg.vector_norm(y, dim=-1), torch.full((3, K), math.sqrt(16)))
    with pytest.raises(ValueError, match="act"):
        GatedAttentionUnit(16, 16, act="GELU")


def test_gradients_reach_every_dcc_parameter_and_the_boxes():
    dcc = _dcc().train()
    vecs, boxes, grids = _inputs()
    boxes.requires_grad_(True)
    out = dcc.forward_train(vecs, boxes, grids)
    (out["keypoints"].sum() + out["sigmas"].sum()).backward()
    assert boxes.grad is not None and torch.isfinite(boxes.grad).all()
    assert all(p.grad is not None for p in dcc.parameters())
