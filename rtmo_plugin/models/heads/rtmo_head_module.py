"""Dense convolution branches of the RTMO head (one set per feature level).

Each level's feature map ``(B, C, H, W)`` is split along channels: the first ``C/2`` channels feed the
classification branch, the second ``C/2`` the pose branch (paper Fig. 2, "dual branch"). Module and attribute names
follow the released checkpoints' ``head.head_module.*`` layout so official weights load with ``strict=True``.
"""
import math
from typing import List, Sequence, Tuple

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmpose.utils.typing import ConfigType, OptMultiConfig
from torch import Tensor, nn


class RTMOHeadModule(BaseModule):
    """Per-level conv branches producing class score, box, keypoint visibility, pose vector and proxy keypoints.

    Channel arithmetic (all ``int(x * widen_factor)``): branch input ``in_channels``, class features
    ``cls_feat_channels``, pose features ``num_groups * channels_per_group``. ``pose_vec_channels`` is NOT widened.

    Args:
        num_keypoints (int): K.
        num_classes (int): number of instance classes (1, person). Defaults to 1.
        in_channels (int): per-branch input channels before widening (half of the neck output). Defaults to 256.
        cls_feat_channels (int): class branch width before widening. Defaults to 256.
        channels_per_group (int): pose branch channels per group before widening. Defaults to 36.
        pose_vec_channels (int): channels of the per-grid pose vector fed to the DCC. Defaults to 256.
        widen_factor (float): width multiplier of the variant. Defaults to 1.0.
        stacked_convs (int): convs of the class branch (the pose branch has twice as many). Defaults to 2.
        num_groups (int): groups of the grouped pose convs. Defaults to 8.
        featmap_strides (Sequence[int]): strides of the input levels. Defaults to (16, 32).
        norm_cfg (dict): norm layer config. Defaults to BN(momentum=0.03, eps=0.001).
        act_cfg (dict): activation config. Defaults to Swish.
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 num_keypoints: int,
                 num_classes: int = 1,
                 in_channels: int = 256,
                 cls_feat_channels: int = 256,
                 channels_per_group: int = 36,
                 pose_vec_channels: int = 256,
                 widen_factor: float = 1.0,
                 stacked_convs: int = 2,
                 num_groups: int = 8,
                 featmap_strides: Sequence[int] = (16, 32),
                 norm_cfg: ConfigType = dict(type="BN", momentum=0.03, eps=0.001),
                 act_cfg: ConfigType = dict(type="Swish"),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_keypoints = num_keypoints
        self.num_classes = num_classes
        self.num_levels = len(featmap_strides)
        self.in_channels = int(in_channels * widen_factor)
        self.cls_feat_channels = int(cls_feat_channels * widen_factor)
        self.num_groups = num_groups
        self.pose_feat_channels = num_groups * int(channels_per_group * widen_factor)
        self.pose_vec_channels = pose_vec_channels
        self.stacked_convs = stacked_convs
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self._build_cls_branch()
        self._build_pose_branch()

    def _conv(self, in_ch: int, out_ch: int, groups: int = 1) -> ConvModule:
        return ConvModule(in_ch, out_ch, 3, padding=1, groups=groups, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)

    def _build_cls_branch(self) -> None:
        self.conv_cls = nn.ModuleList()
        self.out_cls = nn.ModuleList()
        for _ in range(self.num_levels):
            convs = [self._conv(self.in_channels if i == 0 else self.cls_feat_channels, self.cls_feat_channels)
                     for i in range(self.stacked_convs)]
            self.conv_cls.append(nn.Sequential(*convs))
            self.out_cls.append(nn.Conv2d(self.cls_feat_channels, self.num_classes, 1))

    def _build_pose_branch(self) -> None:
        self.conv_pose = nn.ModuleList()
        c = self.pose_feat_channels
        for _ in range(self.num_levels):
            # first conv is dense (mixes all input channels), the rest are grouped
            convs = [self._conv(self.in_channels if i == 0 else c, c, groups=1 if i == 0 else self.num_groups)
                     for i in range(self.stacked_convs * 2)]
            self.conv_pose.append(nn.Sequential(*convs))
        self.out_bbox = nn.ModuleList(nn.Conv2d(c, 4, 1) for _ in range(self.num_levels))
        self.out_kpt_reg = nn.ModuleList(nn.Conv2d(c, self.num_keypoints * 2, 1) for _ in range(self.num_levels))
        self.out_kpt_vis = nn.ModuleList(nn.Conv2d(c, self.num_keypoints, 1) for _ in range(self.num_levels))
        self.out_pose = nn.ModuleList(nn.Conv2d(c, self.pose_vec_channels, 1) for _ in range(self.num_levels))

    def init_weights(self) -> None:
        """Default init, then the class-score bias set to the logit of a 0.01 prior (focal-loss style)."""
        super().init_weights()
        bias = -math.log((1 - 0.01) / 0.01)
        for conv in self.out_cls:
            nn.init.constant_(conv.bias, bias)

    def forward(self, feats: Sequence[Tensor]) -> Tuple[List[Tensor], ...]:
        """Run the branches on every level.

        Args:
            feats (Sequence[Tensor]): per level ``(B, C, H_l, W_l)``, C even.

        Returns:
            tuple of per-level lists: ``cls_scores (B, num_classes, H, W)``, ``bbox_preds (B, 4, H, W)``,
            ``kpt_offsets (B, 2K, H, W)`` (empty list in eval mode; only the training losses use them),
            ``kpt_vis (B, K, H, W)``, ``pose_vecs (B, pose_vec_channels, H, W)``.
        """
        if len(feats) != self.num_levels:
            raise ValueError(f"RTMOHeadModule: expected {self.num_levels} feature levels, got {len(feats)}")
        cls_scores, bbox_preds, kpt_offsets, kpt_vis, pose_vecs = [], [], [], [], []
        for i, x in enumerate(feats):
            if x.shape[1] % 2:
                raise ValueError(f"RTMOHeadModule: level {i} has an odd channel count {x.shape[1]}")
            cls_in, pose_in = x.split(x.shape[1] // 2, dim=1)
            cls_scores.append(self.out_cls[i](self.conv_cls[i](cls_in)))
            pose_feat = self.conv_pose[i](pose_in)
            bbox_preds.append(self.out_bbox[i](pose_feat))
            if self.training:
                kpt_offsets.append(self.out_kpt_reg[i](pose_feat))
            kpt_vis.append(self.out_kpt_vis[i](pose_feat))
            pose_vecs.append(self.out_pose[i](pose_feat))
        return cls_scores, bbox_preds, kpt_offsets, kpt_vis, pose_vecs


def flatten_levels(maps: Sequence[Tensor]) -> Tensor:
    """Concatenate per-level maps into per-prior rows, level order first, then row-major.

    Args:
        maps (Sequence[Tensor]): per level ``(B, C, H_l, W_l)``.

    Returns:
        Tensor: ``(B, sum_l H_l * W_l, C)``.
    """
    return torch.cat([m.permute(0, 2, 3, 1).flatten(1, 2) for m in maps], dim=1)
