"""SSTN top-down pose estimator of RMPE (§3.2): STN -> single-person pose net -> SDTN."""
from typing import Optional, Tuple

import torch
from mmengine.structures import PixelData
from torch import Tensor

from mmpose.evaluation.functional import pose_pck_accuracy
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import ConfigType, OptConfigType, OptMultiConfig, SampleList

from .parallel_sppe import FrozenPoseBranch, centred_heatmap_targets, stack_gt_keypoints
from .spatial_transform import sdtn_sample, stn_sample


@MODELS.register_module()
class SSTNTopdownEstimator(TopdownPoseEstimator):
    """Top-down estimator with RMPE's symmetric spatial transformer network.

    The input is the enlarged person proposal (e.g. ``GetBBoxCenterScale(padding=1.3)`` for
    AlphaPose's 30% enlargement, then ``TopdownAffine``). Steps:

    1. STN: ``θ = localization(x)`` ``(B, 2, 3)``; ``x' = grid_sample(x, θ)`` crops the
       high-quality region, ``[x_s, y_s]ᵀ = θ·[x_t, y_t, 1]ᵀ``.
    2. SPPE: ``backbone [+ neck] + head`` on ``x'``, any MMPose heatmap head (output
       ``(B, K, h, w)``; e.g. HeatmapHead, ViPNASHead).
    3. SDTN: the heatmaps are resampled with γ (``[γ1 γ2] = [θ1 θ2]⁻¹``, ``γ3 = −[γ1 γ2]θ3``)
       back into the proposal frame, where the usual targets / decoder / metric apply.
       Differentiable: gradients reach θ through x' and γ.
    4. Training only, optional: the parallel SPPE (:class:`FrozenPoseBranch`) on ``x'`` with
       centre-located GT heatmaps as labels; its loss trains only the STN.

    Args:
        backbone (dict): backbone config of the SPPE.
        localization (dict): config of the localisation network (θ regressor), e.g.
            ``dict(type='AffineLocalizationNet')``.
        neck (dict, optional): neck config.
        head (dict): heatmap head config (needs ``forward``, ``loss_module`` and ``decode``).
        parallel_sppe (dict, optional): :class:`FrozenPoseBranch` arguments (``backbone``,
            ``head``, ``neck``, ``checkpoint``); None disables the regulariser.
        parallel_loss (dict): loss of the parallel branch, called as
            ``loss(pred (B,K,h,w), target (B,K,h,w), weights (B,K))``.
        parallel_sigma (float): Gaussian std (heatmap pixels) of the centred targets.
        train_cfg, test_cfg, data_preprocessor, init_cfg, metainfo: as TopdownPoseEstimator.
    """

    def __init__(self,
                 backbone: ConfigType,
                 localization: ConfigType = dict(type='AffineLocalizationNet'),
                 neck: OptConfigType = None,
                 head: OptConfigType = None,
                 parallel_sppe: OptConfigType = None,
                 parallel_loss: ConfigType = dict(type='KeypointMSELoss',
                                                  use_target_weight=True),
                 parallel_sigma: float = 2.0,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 metainfo: Optional[dict] = None) -> None:
        if head is None:
            raise ValueError('SSTNTopdownEstimator: a heatmap `head` config is required')
        super().__init__(backbone=backbone, neck=neck, head=head, train_cfg=train_cfg,
                         test_cfg=test_cfg, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg, metainfo=metainfo)
        for attr in ('loss_module', 'decode'):
            if not hasattr(self.head, attr):
                raise TypeError(f'SSTNTopdownEstimator: head {type(self.head).__name__} has no '
                                f'`{attr}`; a heatmap head (e.g. HeatmapHead) is required')
        self.localization = MODELS.build(localization)
        self.parallel_sppe = FrozenPoseBranch(**parallel_sppe) if parallel_sppe else None
        self.parallel_loss = MODELS.build(parallel_loss) if parallel_sppe else None
        self.parallel_sigma = float(parallel_sigma)

    # ------------------------------------------------------------------ forward pieces
    def transform(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        """STN: ``(B, C, H, W)`` proposals -> (``(B, 2, 3)`` θ, ``(B, C, H, W)`` crops x')."""
        theta = self.localization(inputs)
        return theta, stn_sample(inputs, theta)

    def heatmaps_in_proposal_frame(self, inputs: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """STN -> SPPE -> SDTN.

        Args:
            inputs (Tensor): ``(B, C, H, W)``.

        Returns:
            tuple[Tensor, Tensor, Tensor]: heatmaps ``(B, K, h, w)`` in the proposal frame,
            θ ``(B, 2, 3)`` and the STN crops ``(B, C, H, W)``.
        """
        theta, crops = self.transform(inputs)
        heatmaps = self.head.forward(self.extract_feat(crops))
        if not (isinstance(heatmaps, Tensor) and heatmaps.dim() == 4):
            raise TypeError('SSTNTopdownEstimator: the head must output (B, K, h, w) heatmaps, '
                            f'got {type(heatmaps).__name__} '
                            f'{getattr(heatmaps, "shape", "")}')
        return sdtn_sample(heatmaps, theta), theta, crops

    def _forward(self, inputs: Tensor, data_samples: SampleList = None) -> Tensor:
        """Tensor mode: heatmaps ``(B, K, h, w)`` in the proposal frame."""
        return self.heatmaps_in_proposal_frame(inputs)[0]

    # ------------------------------------------------------------------ train / test
    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Heatmap loss after the SDTN (+ the parallel SPPE loss when configured).

        Args:
            inputs (Tensor): ``(B, C, H, W)``.
            data_samples (list[PoseDataSample]): with ``gt_fields.heatmaps`` and
                ``gt_instance_labels.keypoint_weights`` (GenerateTarget).

        Returns:
            dict: ``loss_kpt``, ``acc_pose`` and, with the parallel branch, ``loss_parallel``.
        """
        heatmaps, _, crops = self.heatmaps_in_proposal_frame(inputs)
        gt = torch.stack([torch.as_tensor(d.gt_fields.heatmaps)
                          for d in data_samples]).to(heatmaps)
        weights = torch.cat([torch.as_tensor(d.gt_instance_labels.keypoint_weights)
                             for d in data_samples]).to(heatmaps)
        if gt.shape != heatmaps.shape:
            raise ValueError(f'SSTNTopdownEstimator: target heatmaps {tuple(gt.shape)} do not '
                             f'match the head output {tuple(heatmaps.shape)}; check the '
                             'codec heatmap_size against the head')
        losses = dict(loss_kpt=self.head.loss_module(heatmaps, gt, weights))
        if self.train_cfg.get('compute_acc', True):
            _, acc, _ = pose_pck_accuracy(to_numpy(heatmaps), to_numpy(gt),
                                          to_numpy(weights) > 0)
            losses['acc_pose'] = heatmaps.new_tensor(acc)
        if self.parallel_sppe is not None:
            pred = self.parallel_sppe(crops)
            kpts, vis = stack_gt_keypoints(data_samples)
            h, w = pred.shape[-2:]
            target = centred_heatmap_targets(kpts.to(pred), vis.to(pred),
                                             tuple(inputs.shape[-1:-3:-1]), (w, h),
                                             self.parallel_sigma)
            losses['loss_parallel'] = self.parallel_loss(pred, target, (vis > 0).to(pred))
        return losses

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """Decode the SDTN heatmaps; flip test averages with the flipped input's heatmaps."""
        heatmaps = self.heatmaps_in_proposal_frame(inputs)[0]
        if self.test_cfg.get('flip_test', False):
            flipped = self.heatmaps_in_proposal_frame(inputs.flip(-1))[0]
            flipped = flip_heatmaps(flipped, flip_mode=self.test_cfg.get('flip_mode', 'heatmap'),
                                    flip_indices=data_samples[0].metainfo['flip_indices'],
                                    shift_heatmap=self.test_cfg.get('shift_heatmap', False))
            heatmaps = (heatmaps + flipped) * 0.5
        preds = self.head.decode(heatmaps)
        fields = None
        if self.test_cfg.get('output_heatmaps', False):
            fields = [PixelData(heatmaps=hm) for hm in heatmaps.detach()]
        return self.add_pred_to_datasample(preds, fields, data_samples)
