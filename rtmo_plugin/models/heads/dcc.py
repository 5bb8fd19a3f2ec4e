"""Dynamic Coordinate Classifier (DCC): RTMO's keypoint localisation from a per-grid pose vector.

For every selected grid cell (an assigned prior in training, a post-NMS detection at test time):

1. the pose vector ``v`` (N, Cv) becomes K keypoint tokens: ``Linear(Cv, K*C) + BatchNorm1d`` -> (N, K, C);
2. a gated attention unit mixes the tokens, with a learnable keypoint position embedding ``pos_enc`` (K, C);
3. **dynamic bins**: Bx (=192) x-bins and By (=256) y-bins spread uniformly over the predicted box enlarged by
   ``bbox_padding`` (1.25): ``bins_x = linspace(-0.5, 0.5, Bx) * S_x + c_x`` (pixels);
4. each bin is encoded by a 1-D sine encoding of its offset to the grid cell (``bins - g``), then ``x_fc``/``y_fc``;
5. 1-D heatmaps are dot products of keypoint tokens and bin encodings, (N, K, Bx) and (N, K, By), normalised with a
   softmax;
6. keypoints are the expectation of the absolute bin coordinates under these distributions;
7. in training, ``sigma_fc`` predicts the per-keypoint scale sigma (N, K) of the MLE loss' Laplace-like target.

Names of parameters and buffers follow the released checkpoints (``head.dcc.*``).
"""
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpose.utils.typing import ConfigType, OptMultiConfig
from torch import Tensor, nn

from ..utils.box_ops import bbox_xyxy_to_cs
from .gau import GatedAttentionUnit
from .sine_encoding import SineBinEncoding


class ScalarScale(nn.Module):
    """Multiply by one learnable scalar (checkpoint key ``scale``, shape ``[]``).

    Args:
        init (float): initial value. Defaults to 1.0.
    """

    def __init__(self, init: float = 1.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(init, dtype=torch.float32))

    def forward(self, x: Tensor) -> Tensor:
        """Return ``x * scale``."""
        return x * self.scale


def stable_softmax(logits: Tensor, clamp: float = 5e4, eps: float = 1e-8) -> Tensor:
    """Softmax over the last dim as RTMO computes it: clamp to ``[-clamp, clamp]``, subtract max, ``/ (sum + eps)``.

    Args:
        logits (Tensor): ``(..., B)``.
        clamp (float): clamp bound keeping fp16 finite. Defaults to 5e4.
        eps (float): added to the denominator. Defaults to 1e-8.

    Returns:
        Tensor: ``(..., B)`` probabilities (sum ``1 - O(eps)``).
    """
    logits = logits.clamp(min=-clamp, max=clamp)
    exp = (logits - logits.max(dim=-1, keepdim=True).values).exp()
    return exp / (exp.sum(dim=-1, keepdim=True) + eps)


class DCC(BaseModule):
    """Dynamic Coordinate Classifier.

    Args:
        in_channels (int): pose vector channels ``Cv``.
        num_keypoints (int): K.
        feat_channels (int): keypoint token size ``C``. Defaults to 128.
        num_bins (Tuple[int, int]): ``(Bx, By)``. Defaults to (192, 256).
        spe_channels (int): bin encoding size. Defaults to 128.
        spe_temperature (float): temperature of the sine bin encoding. Defaults to 300.
        gau_cfg (dict): GAU options ``s, expansion_factor, dropout_rate, drop_path, act_fn, pos_enc ('add'|'none'),
            bias``. Defaults to RTMO's.
        bbox_padding (float): box enlargement factor for the bins. Defaults to 1.25.
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 num_keypoints: int,
                 feat_channels: int = 128,
                 num_bins: Tuple[int, int] = (192, 256),
                 spe_channels: int = 128,
                 spe_temperature: float = 300.0,
                 gau_cfg: ConfigType = dict(s=128, expansion_factor=2, dropout_rate=0.0, drop_path=0.0,
                                            act_fn="SiLU", bias=False, pos_enc="add"),
                 bbox_padding: float = 1.25,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.num_keypoints = num_keypoints
        self.feat_channels = feat_channels
        self.num_bins = tuple(num_bins)
        self.bbox_padding = bbox_padding
        gau_cfg = dict(gau_cfg)
        pos_enc = gau_cfg.pop("pos_enc", "add")
        if pos_enc not in ("add", "none"):
            raise ValueError(f"DCC: gau_cfg.pos_enc must be 'add' or 'none', got {pos_enc!r}")
        self.use_pos_enc = pos_enc == "add"

        # normalised bin layout over the enlarged box, scaled per instance at run time
        self.register_buffer("x_bins", torch.linspace(-0.5, 0.5, self.num_bins[0]))
        self.register_buffer("y_bins", torch.linspace(-0.5, 0.5, self.num_bins[1]))

        self.pose_to_kpts = nn.Sequential(
            nn.Linear(in_channels, feat_channels * num_keypoints),
            nn.BatchNorm1d(feat_channels * num_keypoints))
        self.gau = GatedAttentionUnit(
            feat_channels, feat_channels,
            expansion_factor=gau_cfg.get("expansion_factor", 2), s=gau_cfg.get("s", 128),
            act=gau_cfg.get("act_fn", "SiLU"), bias=gau_cfg.get("bias", False),
            dropout_rate=gau_cfg.get("dropout_rate", 0.0), drop_path=gau_cfg.get("drop_path", 0.0))
        if self.use_pos_enc:
            self.pos_enc = nn.Parameter(torch.randn(num_keypoints, gau_cfg.get("s", 128)))
        self.spe = SineBinEncoding(spe_channels, spe_temperature)
        self.x_fc = nn.Linear(spe_channels, feat_channels)
        self.y_fc = nn.Linear(spe_channels, feat_channels)
        # sigma = 0.1-initialised learnable scale * sigmoid(W v): per-keypoint spread of the MLE target
        self.sigma_fc = nn.Sequential(nn.Linear(in_channels, num_keypoints), nn.Sigmoid(), ScalarScale(0.1))

    # --- building blocks -------------------------------------------------------------------------------------
    def keypoint_tokens(self, pose_vecs: Tensor) -> Tensor:
        """Pose vectors to attended keypoint tokens.

        In training mode a batch of a single instance cannot give batch statistics, so the BatchNorm then uses its
        running statistics (as in eval mode, without updating them) instead of failing like ``nn.BatchNorm1d``.

        Args:
            pose_vecs (Tensor): ``(N, Cv)``.

        Returns:
            Tensor: ``(N, K, C)``.
        """
        linear, bn = self.pose_to_kpts
        x = linear(pose_vecs)
        if self.training and x.shape[0] <= 1:
            x = F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)
        else:
            x = bn(x)
        x = x.reshape(-1, self.num_keypoints, self.feat_channels)
        return self.gau(x, self.pos_enc if self.use_pos_enc else None)

    def dynamic_bins(self, bboxes: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Bins over each box enlarged by ``bbox_padding``.

        Args:
            bboxes (Tensor): ``(N, 4)`` xyxy.

        Returns:
            tuple: absolute ``x_bins (N, Bx)``, ``y_bins (N, By)`` (pixels), and the box ``center (N, 2)`` and padded
            ``scale (N, 2)``.
        """
        center, scale = bbox_xyxy_to_cs(bboxes, self.bbox_padding)
        x_bins = self.x_bins[None] * scale[:, 0:1] + center[:, 0:1]
        y_bins = self.y_bins[None] * scale[:, 1:2] + center[:, 1:2]
        return x_bins, y_bins, center, scale

    def heatmaps(self, tokens: Tensor, center: Tensor, scale: Tensor, grids: Tensor) -> Tuple[Tensor, Tensor]:
        """1-D coordinate distributions.

        Args:
            tokens (Tensor): keypoint tokens ``(N, K, C)``.
            center (Tensor): ``(N, 2)`` box centres.
            scale (Tensor): ``(N, 2)`` padded box sizes.
            grids (Tensor): ``(N, 2)`` grid-cell centres (prior xy) the bins are encoded relative to.

        Returns:
            tuple: probabilities ``(N, K, Bx)`` and ``(N, K, By)``.
        """
        # bin positions relative to the grid cell: bins * S + (c - g)
        offset = center - grids
        x_rel = self.x_bins[None] * scale[:, 0:1] + offset[:, 0:1]
        y_rel = self.y_bins[None] * scale[:, 1:2] + offset[:, 1:2]
        x_enc = self.x_fc(self.spe(x_rel))  # (N, Bx, C)
        y_enc = self.y_fc(self.spe(y_rel))  # (N, By, C)
        x_logits = torch.matmul(tokens, x_enc.transpose(-1, -2))
        y_logits = torch.matmul(tokens, y_enc.transpose(-1, -2))
        return stable_softmax(x_logits), stable_softmax(y_logits)

    @staticmethod
    def decode(x_probs: Tensor, y_probs: Tensor, x_bins: Tensor, y_bins: Tensor) -> Tensor:
        """Expected coordinate under the 1-D distributions.

        Args:
            x_probs (Tensor): ``(N, K, Bx)``.
            y_probs (Tensor): ``(N, K, By)``.
            x_bins (Tensor): ``(N, Bx)``.
            y_bins (Tensor): ``(N, By)``.

        Returns:
            Tensor: keypoints ``(N, K, 2)`` in pixels.
        """
        x = (x_probs * x_bins[:, None]).sum(-1)
        y = (y_probs * y_bins[:, None]).sum(-1)
        return torch.stack([x, y], dim=-1)

    # --- entry points -------------------------------------------------------------------------------------
    def forward_train(self, pose_vecs: Tensor, bboxes: Tensor, grids: Tensor) -> Dict[str, Tensor]:
        """Everything the training losses need. Gradients flow into ``bboxes`` (through the bins).

        Args:
            pose_vecs (Tensor): ``(N, Cv)`` pose vectors of the positive priors.
            bboxes (Tensor): ``(N, 4)`` predicted boxes (xyxy, not detached).
            grids (Tensor): ``(N, 2)`` prior centres.

        Returns:
            dict: ``x_probs (N, K, Bx)``, ``y_probs (N, K, By)``, ``x_bins (N, Bx)``, ``y_bins (N, By)``,
            ``sigmas (N, K)``, ``keypoints (N, K, 2)``.
        """
        tokens = self.keypoint_tokens(pose_vecs)
        x_bins, y_bins, center, scale = self.dynamic_bins(bboxes)
        x_probs, y_probs = self.heatmaps(tokens, center, scale, grids)
        return dict(x_probs=x_probs, y_probs=y_probs, x_bins=x_bins, y_bins=y_bins,
                    sigmas=self.sigma_fc(pose_vecs), keypoints=self.decode(x_probs, y_probs, x_bins, y_bins))

    def forward_test(self, pose_vecs: Tensor, bboxes: Tensor, grids: Tensor) -> Tensor:
        """Keypoints of the kept detections.

        Args:
            pose_vecs (Tensor): ``(N, Cv)``.
            bboxes (Tensor): ``(N, 4)`` xyxy.
            grids (Tensor): ``(N, 2)``.

        Returns:
            Tensor: ``(N, K, 2)`` in input pixels.
        """
        tokens = self.keypoint_tokens(pose_vecs)
        x_bins, y_bins, center, scale = self.dynamic_bins(bboxes)
        x_probs, y_probs = self.heatmaps(tokens, center, scale, grids)
        return self.decode(x_probs, y_probs, x_bins, y_bins)

    def forward(self, pose_vecs: Tensor, bboxes: Tensor, grids: Tensor) -> Tensor:
        """Same as :meth:`forward_test`."""
        return self.forward_test(pose_vecs, bboxes, grids)
