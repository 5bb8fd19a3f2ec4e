"""Dense part of the RTMO head for inference: BN-folded conv branches and precomputed priors.

Shape shorthand: B images, C head input channels per level, N = sum_l H_l * W_l grid cells (priors) over the
levels (stride 16 first), K keypoints, Cv pose-vector channels (DCC input).

The module is built from a trained head by reading its sub-modules by their state-dict names
(``head_module.conv_cls.{level}.{j}.conv/bn``, ``out_cls``, ``conv_pose``, ``out_bbox``, ``out_kpt_vis``,
``out_pose``), which are the names an official RTMO checkpoint has, so it works for MMPose's ``RTMOHead`` and for
our ``RTMODCCHead`` alike. The training-only keypoint-regression output (``out_kpt_reg``) is dropped, and the three
1x1 outputs of the pose branch are stacked into one convolution.
"""
from typing import List, Sequence, Tuple

import torch
from torch import Tensor, nn

from .fuse import fuse_conv_bn
from .fused_tree import ConvAct


def _conv_bn_act(head: nn.Module, prefix: str) -> ConvAct:
    """Fold ``{prefix}.conv`` + ``{prefix}.bn`` (+ SiLU) of ``head`` into a :class:`ConvAct`."""
    conv = head.get_submodule(f"{prefix}.conv")
    bn = head.get_submodule(f"{prefix}.bn")
    container = head.get_submodule(prefix)
    act = getattr(container, "activate", None)
    if act is not None and not (isinstance(act, nn.SiLU) or type(act).__name__ == "Swish"):
        raise ValueError(f"{prefix}: expected a SiLU activation (RTMO), found {type(act).__name__}")
    return ConvAct(fuse_conv_bn(conv, bn), nn.SiLU())


def make_priors(input_size: Tuple[int, int], strides: Sequence[int]) -> Tuple[Tensor, Tensor]:
    """Grid-cell centres of all levels, row-major per level, levels concatenated in ``strides`` order.

    A cell ``(i, j)`` at stride ``s`` has centre ``(j * s + (s - 1) / 2, i * s + (s - 1) / 2)`` in input pixels
    (MMPose ``MlvlPointGenerator`` with ``centralize_points=True``).

    Args:
        input_size (tuple[int, int]): model input ``(W, H)``, multiples of every stride.
        strides (Sequence[int]): level strides, e.g. ``(16, 32)``.

    Returns:
        tuple[Tensor, Tensor]: priors ``(N, 2)`` (x, y) and per-prior stride ``(N,)``.
    """
    width, height = input_size
    priors, prior_strides = [], []
    for stride in strides:
        if width % stride or height % stride:
            raise ValueError(f"input size {input_size} is not a multiple of stride {stride}")
        ys, xs = torch.meshgrid(torch.arange(height // stride, dtype=torch.float32),
                                torch.arange(width // stride, dtype=torch.float32), indexing="ij")
        centre = torch.stack((xs.flatten(), ys.flatten()), dim=1) * stride + (stride - 1) / 2.0
        priors.append(centre)
        prior_strides.append(torch.full((centre.shape[0],), float(stride)))
    return torch.cat(priors), torch.cat(prior_strides)


class FastDenseHead(nn.Module):
    """Per-level conv branches of RTMO with BN folded; outputs flattened, decoded dense predictions.

    Args:
        head (nn.Module): a trained RTMO head (eval semantics are used: BN running statistics).
        input_size (tuple[int, int]): model input ``(W, H)`` for which priors are precomputed.
        strides (Sequence[int]): level strides (``featmap_strides``), e.g. ``(16, 32)``.
    """

    def __init__(self, head: nn.Module, input_size: Tuple[int, int], strides: Sequence[int]) -> None:
        super().__init__()
        self.num_levels = len(strides)
        self.num_keypoints = head.get_submodule("head_module.out_kpt_vis.0").out_channels
        self.cls_convs = nn.ModuleList()
        self.cls_outs = nn.ModuleList()
        self.pose_convs = nn.ModuleList()
        self.pose_outs = nn.ModuleList()
        for level in range(self.num_levels):
            self.cls_convs.append(nn.Sequential(*[
                _conv_bn_act(head, f"head_module.conv_cls.{level}.{j}")
                for j in range(len(head.get_submodule(f"head_module.conv_cls.{level}")))]))
            self.cls_outs.append(ConvAct(fuse_conv_bn(head.get_submodule(f"head_module.out_cls.{level}"), None), None))
            self.pose_convs.append(nn.Sequential(*[
                _conv_bn_act(head, f"head_module.conv_pose.{level}.{j}")
                for j in range(len(head.get_submodule(f"head_module.conv_pose.{level}")))]))
            self.pose_outs.append(ConvAct(self._stack_outputs(head, level), None))
        self.pose_vec_channels = self.pose_outs[0].conv.out_channels - 4 - self.num_keypoints
        priors, prior_strides = make_priors(input_size, strides)
        # precomputed per input size: cell centres g and strides s used by the box decoding and the DCC
        self.register_buffer("priors", priors, persistent=False)
        self.register_buffer("prior_strides", prior_strides, persistent=False)
        self.input_size = tuple(input_size)
        self.strides = tuple(strides)

    @staticmethod
    @torch.no_grad()
    def _stack_outputs(head: nn.Module, level: int) -> nn.Conv2d:
        """One 1x1 conv computing [bbox (4), keypoint visibility (K), pose vector (Cv)] of a level."""
        parts = [head.get_submodule(f"head_module.{name}.{level}") for name in ("out_bbox", "out_kpt_vis", "out_pose")]
        out_channels = sum(p.out_channels for p in parts)
        stacked = nn.Conv2d(parts[0].in_channels, out_channels, 1).to(parts[0].weight.device)
        stacked.weight.copy_(torch.cat([p.weight for p in parts]))
        stacked.bias.copy_(torch.cat([p.bias if p.bias is not None else torch.zeros(p.out_channels) for p in parts]))
        return stacked

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Run the branches and decode boxes.

        Args:
            feats (Sequence[Tensor]): neck outputs, level ``l`` of shape ``(B, C, H_l, W_l)``.

        Returns:
            tuple: scores ``(B, N)`` (sigmoid of the class logit), boxes ``(B, N, 4)`` xyxy in input pixels,
            keypoint visibilities ``(B, N, K)`` (sigmoid), pose vectors ``(B, N, Cv)``.
        """
        if len(feats) != self.num_levels:
            raise ValueError(f"expected {self.num_levels} feature levels, got {len(feats)}")
        cls_flat: List[Tensor] = []
        pose_flat: List[Tensor] = []
        for level, feat in enumerate(feats):
            cls_in, pose_in = feat.chunk(2, dim=1)  # first half of the channels -> cls branch, second -> pose
            cls_flat.append(self.cls_outs[level](self.cls_convs[level](cls_in)).flatten(2))
            pose_flat.append(self.pose_outs[level](self.pose_convs[level](pose_in)).flatten(2))
        scores = torch.cat(cls_flat, dim=2)[:, 0].sigmoid()
        pose_out = torch.cat(pose_flat, dim=2).transpose(1, 2)  # (B, N, 4 + K + Cv)
        k = self.num_keypoints
        box_raw, vis_logits, pose_vecs = pose_out.split([4, k, self.pose_vec_channels], dim=2)
        centre = box_raw[..., :2] * self.prior_strides[:, None] + self.priors
        half = box_raw[..., 2:].exp() * self.prior_strides[:, None] * 0.5
        boxes = torch.cat((centre - half, centre + half), dim=-1)
        return scores, boxes, vis_logits.sigmoid(), pose_vecs
