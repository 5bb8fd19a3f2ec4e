"""The training-only parallel SPPE of RMPE: a frozen pose network and its centred targets."""
from typing import Optional

import numpy as np
import torch
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from torch import Tensor


class FrozenPoseBranch(BaseModule):
    """Frozen single-person pose network (backbone [+ neck] + heatmap head), always in eval mode.

    RMPE attaches it to the STN output during training only: it has no SDTN, its labels are the
    centre-located ground-truth poses, and all its layers are frozen, so the "centre-located
    pose error" it sees is back-propagated only into the STN (a regulariser for θ).

    Args:
        backbone (dict): backbone config.
        head (dict): head config; its ``forward`` must return ``(B, K, h, w)`` heatmaps.
        neck (dict, optional): neck config.
        checkpoint (str, optional): weights of a trained single-person model (keys
            ``backbone.*``, ``neck.*``, ``head.*`` as saved by a TopdownPoseEstimator); loaded by
            ``init_weights``. Without it the branch stays randomly initialised (only sensible for
            tests).
    """

    def __init__(self, backbone: dict, head: dict, neck: Optional[dict] = None,
                 checkpoint: Optional[str] = None) -> None:
        init_cfg = dict(type='Pretrained', checkpoint=checkpoint) if checkpoint else None
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.head = MODELS.build(head)
        self.requires_grad_(False)
        self.eval()

    def init_weights(self) -> None:
        """Load ``checkpoint`` if given; otherwise keep the construction-time weights, so the
        frozen branch never changes after the model is built."""
        if self.init_cfg is not None:
            super().init_weights()
        self._is_init = True

    def train(self, mode: bool = True) -> 'FrozenPoseBranch':
        """Stay in eval mode (frozen BN statistics) whatever the parent's mode."""
        return super().train(False)

    def forward(self, images: Tensor) -> Tensor:
        """``(B, C, H, W)`` images -> ``(B, K, h, w)`` heatmaps (gradients reach ``images``)."""
        feats = self.backbone(images)
        if self.neck is not None:
            feats = self.neck(feats)
        return self.head.forward(feats)


def centred_heatmap_targets(keypoints: Tensor, visible: Tensor, input_size: tuple,
                            heatmap_size: tuple, sigma: float = 2.0) -> Tensor:
    """Gaussian heatmaps of the ground-truth poses translated so their centre is the image centre.

    The pose centre is the centre of the box spanned by the visible keypoints.

    Args:
        keypoints (Tensor): ``(B, K, 2)`` keypoints in input-image pixels.
        visible (Tensor): ``(B, K)`` visibility (> 0 = labelled).
        input_size (tuple): ``(W, H)`` of the input image.
        heatmap_size (tuple): ``(w, h)`` of the heatmaps.
        sigma (float): Gaussian std in heatmap pixels.

    Returns:
        Tensor: ``(B, K, h, w)`` targets (zero maps for unlabelled keypoints).
    """
    vis = visible > 0
    big = torch.finfo(keypoints.dtype).max
    lo = torch.where(vis[..., None], keypoints, keypoints.new_tensor(big)).amin(dim=1)
    hi = torch.where(vis[..., None], keypoints, keypoints.new_tensor(-big)).amax(dim=1)
    centre = torch.where(vis.any(dim=1, keepdim=True), (lo + hi) / 2, keypoints.new_zeros(1))
    image_centre = keypoints.new_tensor(input_size) / 2
    centred = keypoints - centre[:, None] + image_centre
    stride = keypoints.new_tensor(input_size) / keypoints.new_tensor(heatmap_size)
    mu = centred / stride  # (B, K, 2) in heatmap pixels
    w, h = heatmap_size
    xs = torch.arange(w, dtype=keypoints.dtype, device=keypoints.device)
    ys = torch.arange(h, dtype=keypoints.dtype, device=keypoints.device)
    gx = torch.exp(-(xs[None, None] - mu[..., :1])**2 / (2 * sigma**2))  # (B, K, w)
    gy = torch.exp(-(ys[None, None] - mu[..., 1:])**2 / (2 * sigma**2))  # (B, K, h)
    return gy[..., :, None] * gx[..., None, :] * vis[..., None, None].to(keypoints.dtype)


def stack_gt_keypoints(batch_data_samples: list) -> tuple:
    """Collect ``transformed_keypoints`` / ``keypoints_visible`` of a top-down batch.

    Returns:
        tuple[Tensor, Tensor]: ``(B, K, 2)`` keypoints and ``(B, K)`` visibility.
    """
    kpts, vis = [], []
    for i, sample in enumerate(batch_data_samples):
        gt = sample.gt_instances
        if 'transformed_keypoints' not in gt:
            raise KeyError(
                f'data sample {i}: gt_instances has no "transformed_keypoints"; the parallel '
                'SPPE branch needs PackPoseInputs(pack_transformed=True) in the train pipeline')
        k = np.asarray(gt.transformed_keypoints, dtype=np.float32)
        v = np.asarray(gt.keypoints_visible, dtype=np.float32)
        kpts.append(torch.from_numpy(k[0, :, :2]))
        vis.append(torch.from_numpy(v[0].reshape(-1)))
    return torch.stack(kpts), torch.stack(vis)
