"""SSTN top-down pose estimator of RMPE (§3.2): STN -> single-person pose net -> SDTN."""
from typing import Optional, Tuple

import numpy as np
import torch
from mmengine.structures import PixelData
from mmpose.evaluation.functional import keypoint_pck_accuracy, pose_pck_accuracy
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.models.utils.tta import flip_coordinates, flip_heatmaps
from mmpose.registry import MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import ConfigType, OptConfigType, OptMultiConfig, SampleList
from torch import Tensor

from .parallel_sppe import FrozenPoseBranch, centred_heatmap_targets, stack_gt_keypoints
from .spatial_transform import apply_affine, sdtn_sample, stn_sample


@MODELS.register_module()
class SSTNTopdownEstimator(TopdownPoseEstimator):
    """Top-down estimator with RMPE's symmetric spatial transformer network.

    The input is the enlarged person proposal (e.g. ``GetBBoxCenterScale(padding=1.3)`` for
    AlphaPose's 30% enlargement, then ``TopdownAffine``). Steps:

    1. STN: ``θ = localization(x)`` ``(B, 2, 3)``; ``x' = grid_sample(x, θ)`` crops the
       high-quality region, ``[x_s, y_s]ᵀ = θ·[x_t, y_t, 1]ᵀ``.
    2. SPPE: ``backbone [+ neck] + head`` on ``x'``: an MMPose heatmap head (output
       ``(B, K, h, w)``; e.g. HeatmapHead, ViPNASHead) or coordinate-regression head (output
       ``(B, K, 2)`` in ``[0, 1]``; RegressionHead). Heads with other outputs (SimCC, RLE)
       are rejected with a TypeError.
    3. SDTN: the heatmaps are resampled with γ (``[γ1 γ2] = [θ1 θ2]⁻¹``, ``γ3 = −[γ1 γ2]θ3``)
       back into the proposal frame (coordinates are mapped with θ = γ⁻¹), where the usual
       targets / decoder / metric apply. Differentiable: gradients reach θ through x' and γ.
    4. Training only, optional: the parallel SPPE (:class:`FrozenPoseBranch`) on ``x'`` with
       centre-located GT heatmaps as labels; its loss trains only the STN.

    Args:
        backbone (dict): backbone config of the SPPE.
        localization (dict): config of the localisation network (θ regressor), e.g.
            ``dict(type='AffineLocalizationNet')``.
        neck (dict, optional): neck config.
        head (dict): heatmap or regression head config (needs ``forward``, ``loss_module``
            called as ``loss(pred, target, weights)``, and ``decode``).
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
            raise ValueError('SSTNTopdownEstimator: a `head` config (heatmap or regression head) '
                             'is required')
        super().__init__(backbone=backbone, neck=neck, head=head, train_cfg=train_cfg,
                         test_cfg=test_cfg, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg, metainfo=metainfo)
        for attr in ('loss_module', 'decode'):
            if not hasattr(self.head, attr):
                raise TypeError(f'SSTNTopdownEstimator: head {type(self.head).__name__} has no '
                                f'`{attr}`; a heatmap or regression head (e.g. HeatmapHead, '
                                'RegressionHead) is required')
        self.localization = MODELS.build(localization)
        self.parallel_sppe = FrozenPoseBranch(**parallel_sppe) if parallel_sppe else None
        self.parallel_loss = MODELS.build(parallel_loss) if parallel_sppe else None
        self.parallel_sigma = float(parallel_sigma)

    # ------------------------------------------------------------------ forward pieces
    def transform(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        """STN: ``(B, C, H, W)`` proposals -> (``(B, 2, 3)`` θ, ``(B, C, H, W)`` crops x')."""
        theta = self.localization(inputs)
        return theta, stn_sample(inputs, theta)

    def outputs_in_proposal_frame(self, inputs: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """STN -> SPPE -> SDTN.

        Heatmap heads (output ``(B, K, h, w)``) are resampled with γ (the paper's SDTN).
        Coordinate heads (output ``(B, K, 2)`` in ``[0, 1]`` of the input, e.g. RegressionHead)
        are mapped point-wise with θ = γ⁻¹, the same de-transformation for points.

        Args:
            inputs (Tensor): ``(B, C, H, W)``.

        Returns:
            tuple[Tensor, Tensor, Tensor]: head outputs in the proposal frame, θ ``(B, 2, 3)``
            and the STN crops ``(B, C, H, W)``.
        """
        theta, crops = self.transform(inputs)
        out = self.head.forward(self.extract_feat(crops))
        if isinstance(out, Tensor) and out.dim() == 4:
            return sdtn_sample(out, theta), theta, crops
        if isinstance(out, Tensor) and out.dim() == 3 and out.shape[-1] == 2:
            return self._coords_to_proposal(out, theta, inputs.shape[-1], inputs.shape[-2]), \
                theta, crops
        raise TypeError('SSTNTopdownEstimator: the head must output (B, K, h, w) heatmaps or '
                        f'(B, K, 2) coordinates, got {type(out).__name__} '
                        f'{tuple(getattr(out, "shape", ()))}')

    @staticmethod
    def _coords_to_proposal(coords: Tensor, theta: Tensor, width: int, height: int) -> Tensor:
        """``(B, K, 2)`` crop coordinates in ``[0, 1]`` (pixel / size) -> proposal frame."""
        size = coords.new_tensor([width, height])
        grid = (coords * size + 0.5) / size * 2 - 1  # pixel centres -> affine_grid coordinates
        mapped = apply_affine(grid, theta)  # [x_s, y_s] = θ·[x_t, y_t, 1]
        return ((mapped + 1) / 2 * size - 0.5) / size

    def _forward(self, inputs: Tensor, data_samples: SampleList = None) -> Tensor:
        """Tensor mode: head outputs (heatmaps or coordinates) in the proposal frame."""
        return self.outputs_in_proposal_frame(inputs)[0]

    # ------------------------------------------------------------------ train / test
    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Head loss after the SDTN (+ the parallel SPPE loss when configured).

        Args:
            inputs (Tensor): ``(B, C, H, W)``.
            data_samples (list[PoseDataSample]): heatmap heads need ``gt_fields.heatmaps``,
                coordinate heads ``gt_instance_labels.keypoint_labels``; both
                ``gt_instance_labels.keypoint_weights`` (GenerateTarget).

        Returns:
            dict: ``loss_kpt``, ``acc_pose`` and, with the parallel branch, ``loss_parallel``.
        """
        outputs, _, crops = self.outputs_in_proposal_frame(inputs)
        weights = torch.cat([torch.as_tensor(d.gt_instance_labels.keypoint_weights)
                             for d in data_samples]).to(outputs)
        if outputs.dim() == 4:
            gt = torch.stack([torch.as_tensor(d.gt_fields.heatmaps)
                              for d in data_samples]).to(outputs)
            if gt.shape != outputs.shape:
                raise ValueError(f'SSTNTopdownEstimator: target heatmaps {tuple(gt.shape)} do '
                                 f'not match the head output {tuple(outputs.shape)}; check the '
                                 'codec heatmap_size against the head')
            losses = dict(loss_kpt=self.head.loss_module(outputs, gt, weights))
            _, acc, _ = pose_pck_accuracy(to_numpy(outputs), to_numpy(gt), to_numpy(weights) > 0)
        else:
            gt = torch.cat([torch.as_tensor(d.gt_instance_labels.keypoint_labels)
                            for d in data_samples]).to(outputs)
            losses = dict(loss_kpt=self.head.loss_module(outputs, gt, weights[..., None]))
            _, acc, _ = keypoint_pck_accuracy(to_numpy(outputs), to_numpy(gt),
                                              to_numpy(weights) > 0, 0.05,
                                              np.ones((len(outputs), 2), dtype=np.float32))
        if self.train_cfg.get('compute_acc', True):
            losses['acc_pose'] = outputs.new_tensor(acc)
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
        """Decode the de-transformed outputs; flip test averages with the flipped input."""
        outputs = self.outputs_in_proposal_frame(inputs)[0]
        if self.test_cfg.get('flip_test', False):
            flipped = self.outputs_in_proposal_frame(inputs.flip(-1))[0]
            flip_indices = data_samples[0].metainfo['flip_indices']
            if outputs.dim() == 4:
                flipped = flip_heatmaps(flipped, flip_mode=self.test_cfg.get('flip_mode',
                                                                             'heatmap'),
                                        flip_indices=flip_indices,
                                        shift_heatmap=self.test_cfg.get('shift_heatmap', False))
            else:
                flipped = flip_coordinates(flipped, flip_indices=flip_indices,
                                           shift_coords=self.test_cfg.get('shift_coords', True),
                                           input_size=tuple(inputs.shape[-1:-3:-1]))
            outputs = (outputs + flipped) * 0.5
        # coordinate decoders take (B, N=1, K, 2), as in RegressionHead.predict
        preds = self.head.decode(outputs if outputs.dim() == 4 else outputs[:, None])
        fields = None
        if outputs.dim() == 4 and self.test_cfg.get('output_heatmaps', False):
            fields = [PixelData(heatmaps=hm) for hm in outputs.detach()]
        return self.add_pred_to_datasample(preds, fields, data_samples)
