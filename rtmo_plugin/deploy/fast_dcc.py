"""Dynamic Coordinate Classifier (DCC) for inference, with every constant folded ahead of time.

Shape shorthand: M selected instances (all images of a batch together), K keypoints, Cv pose-vector channels,
D = 128 keypoint-feature channels, Bx / By x / y bins (192 / 256), F = 64 sinusoid frequencies.

What is folded, relative to the training-time DCC (RTMO paper Sec. 3.3; MMPose numerics):

* ``pose_to_kpts`` = Linear + BatchNorm1d -> one Linear;
* GAU: the learnable keypoint position encoding is added to both query/key offsets (``beta``), so
  ``q = base * gamma_0 + (beta_0 + pos)``;
* the dynamic bin encodings are ``fc(SPE(bins - g))`` with a linear ``fc``; the logits are
  ``f . fc(e) = (f W) . e + f . b``. ``f . b`` is constant over the bins of a row and cancels in the softmax, so the
  fc layers are folded into the keypoint features (``K x D`` work per instance instead of ``(Bx + By) x D``);
* per input size: the unit bin grids ``linspace(-0.5, 0.5, B)`` and the inverse SPE frequencies ``1 / dim_t``.

Everything is batched over all instances of all images; there is no loop over instances.
"""
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .fuse import fuse_linear_bn

#: RTMO's softmax guards: logits are clamped to +-5e4, the normaliser gets +1e-8.
_LOGIT_CLAMP = 5e4
_SOFTMAX_EPS = 1e-8


class FastDCC(nn.Module):
    """Inference DCC built from a trained ``head.dcc``.

    Args:
        dcc (nn.Module): the trained DCC with sub-modules ``pose_to_kpts.{0: Linear, 1: BatchNorm1d}``,
            ``gau.{ln.g, uv, gamma, beta, o, res_scale.scale}``, ``pos_enc``, ``x_fc``, ``y_fc`` and buffers
            ``x_bins``, ``y_bins``, ``spe.dim_t`` (the state-dict layout of an official RTMO checkpoint).
        bbox_padding (float): box-to-DCC-region expansion (1.25 in RTMO).
    """

    def __init__(self, dcc: nn.Module, bbox_padding: float = 1.25) -> None:
        super().__init__()
        linear = dcc.pose_to_kpts[0]
        gau = dcc.gau
        self.num_keypoints = linear.out_features // dcc.x_fc.out_features  # K
        self.feat_channels = dcc.x_fc.out_features  # D
        self.bbox_padding = float(bbox_padding)
        self.pose_to_kpts = fuse_linear_bn(dcc.pose_to_kpts[0], dcc.pose_to_kpts[1])
        self.s = gau.gamma.shape[1]  # GAU attention width s
        self.e = (gau.uv.out_features - self.s) // 2  # GAU expansion width e
        act = getattr(gau, "act", None) or getattr(gau, "act_fn", None)
        self.gau_act = nn.ReLU() if isinstance(act, nn.ReLU) else nn.SiLU()
        self.norm_scale = self.feat_channels ** -0.5
        self.norm_eps = float(getattr(gau.ln, "eps", 1e-5))
        with torch.no_grad():
            self.register_buffer("norm_gain", gau.ln.g.detach().clone())
            self.uv = nn.Linear(gau.uv.in_features, gau.uv.out_features, bias=gau.uv.bias is not None)
            self.uv.load_state_dict(gau.uv.state_dict())
            self.o = nn.Linear(gau.o.in_features, gau.o.out_features, bias=gau.o.bias is not None)
            self.o.load_state_dict(gau.o.state_dict())
            self.register_buffer("qk_gamma", gau.gamma.detach().clone())  # (2, s)
            pos_enc = getattr(dcc, "pos_enc", None)  # learnable keypoint position encoding (K, s), optional
            if pos_enc is None:
                pos_enc = torch.zeros(self.num_keypoints, self.s)
            self.register_buffer("qk_beta", gau.beta.detach()[:, None, :] + pos_enc.detach()[None])  # (2, K, s)
            res_scale = getattr(gau, "res_scale", None)  # residual branch exists when in == out token size
            self.register_buffer("res_scale", res_scale.scale.detach().clone() if res_scale is not None
                                 else torch.zeros(self.feat_channels))  # (D,)
            # folded bin-encoding adapters: logits = (f @ W) . SPE(p)
            self.register_buffer("x_fc_weight", dcc.x_fc.weight.detach().clone())  # (D, 2F)
            self.register_buffer("y_fc_weight", dcc.y_fc.weight.detach().clone())
            self.register_buffer("x_unit_bins", dcc.x_bins.detach().clone())  # (Bx,) in [-0.5, 0.5]
            self.register_buffer("y_unit_bins", dcc.y_bins.detach().clone())
            self.register_buffer("inv_freq", 1.0 / dcc.spe.dim_t.detach().clone())  # (F,)

    def _gau(self, x: Tensor) -> Tensor:
        """Gated attention unit over the K keypoint tokens of every instance.

        Args:
            x (Tensor): ``(M, K, D)`` keypoint features.

        Returns:
            Tensor: ``(M, K, D)``.
        """
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True) * self.norm_scale
        y = x / norm.clamp(min=self.norm_eps) * self.norm_gain
        u, v, base = self.gau_act(self.uv(y)).split([self.e, self.e, self.s], dim=-1)
        q = base * self.qk_gamma[0] + self.qk_beta[0]
        k = base * self.qk_gamma[1] + self.qk_beta[1]
        kernel = F.relu(torch.matmul(q, k.transpose(1, 2)) / math.sqrt(self.s)).square()  # (M, K, K)
        return x * self.res_scale + self.o(u * torch.matmul(kernel, v))

    def _axis(self, feats: Tensor, fc_weight: Tensor, unit_bins: Tensor, centre: Tensor, size: Tensor,
              grid: Tensor) -> Tensor:
        """Classify one coordinate axis over dynamic bins and return the expected coordinate.

        Args:
            feats (Tensor): ``(M, K, D)`` keypoint features.
            fc_weight (Tensor): ``(D, 2F)`` bin-encoding adapter weight.
            unit_bins (Tensor): ``(B,)`` bin positions relative to the box, in [-0.5, 0.5].
            centre (Tensor): ``(M, 1)`` box-centre coordinate.
            size (Tensor): ``(M, 1)`` padded box size along this axis.
            grid (Tensor): ``(M, 1)`` grid-cell coordinate g (the encoding sees positions relative to it).

        Returns:
            Tensor: ``(M, K)`` expected coordinate in input pixels.
        """
        rel_bins = unit_bins * size + (centre - grid)  # (M, B) positions relative to the grid cell
        phase = rel_bins[..., None] * self.inv_freq  # (M, B, F)
        enc = torch.cat((phase.cos(), phase.sin()), dim=-1)  # (M, B, 2F)
        logits = torch.matmul(torch.matmul(feats, fc_weight), enc.transpose(1, 2))  # (M, K, B)
        logits = logits.clamp(-_LOGIT_CLAMP, _LOGIT_CLAMP)
        expo = (logits - logits.amax(dim=-1, keepdim=True)).exp()
        prob = expo / (expo.sum(dim=-1, keepdim=True) + _SOFTMAX_EPS)
        abs_bins = unit_bins * size + centre  # (M, B) absolute input-pixel positions
        return torch.matmul(prob, abs_bins[..., None])[..., 0]

    def forward(self, pose_vecs: Tensor, boxes: Tensor, grids: Tensor) -> Tensor:
        """Decode keypoints of M instances.

        Args:
            pose_vecs (Tensor): ``(M, Cv)`` pose vectors of the selected grid cells.
            boxes (Tensor): ``(M, 4)`` xyxy boxes predicted at those cells (before clamping).
            grids (Tensor): ``(M, 2)`` cell centres g.

        Returns:
            Tensor: ``(M, K, 2)`` keypoints in input pixels.
        """
        feats = self.pose_to_kpts(pose_vecs).reshape(-1, self.num_keypoints, self.feat_channels)
        feats = self._gau(feats)
        centre = (boxes[:, :2] + boxes[:, 2:]) * 0.5
        size = (boxes[:, 2:] - boxes[:, :2]) * self.bbox_padding
        x = self._axis(feats, self.x_fc_weight, self.x_unit_bins, centre[:, :1], size[:, :1], grids[:, :1])
        y = self._axis(feats, self.y_fc_weight, self.y_unit_bins, centre[:, 1:], size[:, 1:], grids[:, 1:])
        return torch.stack((x, y), dim=-1)

    def extra_repr(self) -> str:
        return f"K={self.num_keypoints}, D={self.feat_channels}, s={self.s}, e={self.e}"

