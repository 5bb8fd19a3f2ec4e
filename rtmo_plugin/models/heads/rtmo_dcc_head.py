"""RTMO head: dense conv branches + SimOTA targets + losses + DCC keypoint decoding (registered ``RTMODCCHead``)."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from mmpose.registry import MODELS, TASK_UTILS
from mmpose.utils.typing import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from ..utils.box_ops import decode_bboxes, decode_keypoints, encode_bboxes, filter_by_score, greedy_nms
from .dcc import DCC
from .rtmo_head_module import RTMOHeadModule, flatten_levels
from .rtmo_targets import RTMOTargets, build_targets, reduce_mean


@MODELS.register_module()
class RTMODCCHead(BaseModule):
    """One-stage multi-person pose head of RTMO (Lu et al., CVPR 2024).

    Constructor arguments mirror MMPose's ``RTMOHead`` so configs port 1:1, and the sub-module names
    (``head_module``, ``dcc``, ``loss_oks``) keep the released checkpoints' layout.

    Attributes the stage-switch hook changes by dotted name: ``proxy_target_cc`` (OKS-loss / class targets from the
    DCC keypoints), ``use_aux_loss`` (L1 box loss on raw regressions), ``overlaps_power``, ``loss_mle.loss_weight``,
    ``loss_oks.loss_weight``, ``loss_cls.loss_weight``.

    Args:
        num_keypoints (int): K.
        head_module_cfg (dict): arguments of :class:`RTMOHeadModule` (``num_keypoints`` and ``featmap_strides`` are
            filled in).
        featmap_strides (Sequence[int]): strides of the input levels. Defaults to (16, 32).
        num_classes (int): instance classes. Defaults to 1.
        use_aux_loss (bool): add ``loss_bbox_aux``. Defaults to False.
        proxy_target_cc (bool): use the (detached) DCC keypoints as targets of the proxy branch. Defaults to False.
        assigner (dict): ``SimOTAAssigner`` config (TASK_UTILS).
        prior_generator (dict): ``MlvlPointGenerator`` config (TASK_UTILS).
        bbox_padding (float): box enlargement of the DCC bins. Defaults to 1.25.
        overlaps_power (float): exponent on the assigned OKS used as classification target. Defaults to 1.0.
        dcc_cfg (dict): arguments of :class:`DCC` (``num_keypoints`` and ``bbox_padding`` are filled in).
        loss_cls, loss_bbox, loss_oks, loss_vis, loss_mle, loss_bbox_aux (dict): loss configs (MODELS).
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 num_keypoints: int,
                 head_module_cfg: ConfigType,
                 featmap_strides: Sequence[int] = (16, 32),
                 num_classes: int = 1,
                 use_aux_loss: bool = False,
                 proxy_target_cc: bool = False,
                 assigner: OptConfigType = None,
                 prior_generator: OptConfigType = None,
                 bbox_padding: float = 1.25,
                 overlaps_power: float = 1.0,
                 dcc_cfg: OptConfigType = None,
                 loss_cls: OptConfigType = None,
                 loss_bbox: OptConfigType = None,
                 loss_oks: OptConfigType = None,
                 loss_vis: OptConfigType = None,
                 loss_mle: OptConfigType = None,
                 loss_bbox_aux: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_keypoints = num_keypoints
        self.featmap_strides = tuple(featmap_strides)
        self.num_classes = num_classes
        self.use_aux_loss = use_aux_loss
        self.proxy_target_cc = proxy_target_cc
        self.bbox_padding = bbox_padding
        self.overlaps_power = overlaps_power

        head_module_cfg = dict(head_module_cfg)
        head_module_cfg.update(num_keypoints=num_keypoints, featmap_strides=self.featmap_strides)
        head_module_cfg.setdefault("num_classes", num_classes)
        self.head_module = RTMOHeadModule(**head_module_cfg)

        prior_generator = prior_generator or dict(type="MlvlPointGenerator", centralize_points=True,
                                                  strides=list(self.featmap_strides))
        self.prior_generator = TASK_UTILS.build(prior_generator)
        self.assigner = TASK_UTILS.build(assigner) if assigner is not None else None

        if dcc_cfg is None:
            raise ValueError("RTMODCCHead: dcc_cfg is required (at least in_channels = pose_vec_channels)")
        dcc_cfg = dict(dcc_cfg)
        dcc_cfg.update(num_keypoints=num_keypoints, bbox_padding=bbox_padding)
        self.dcc = DCC(**dcc_cfg)

        for name, cfg in (("loss_cls", loss_cls), ("loss_bbox", loss_bbox), ("loss_oks", loss_oks),
                          ("loss_vis", loss_vis), ("loss_mle", loss_mle), ("loss_bbox_aux", loss_bbox_aux)):
            setattr(self, name, MODELS.build(cfg) if cfg is not None else None)

    # ------------------------------------------------------------------------------------------------------
    def forward(self, feats: Sequence[Tensor]) -> Tuple[List[Tensor], ...]:
        """Dense per-level outputs; see :meth:`RTMOHeadModule.forward`."""
        return self.head_module(feats)

    def _flatten(self, outs: Tuple[List[Tensor], ...]) -> Dict[str, Tensor]:
        """Flatten the dense outputs into per-prior tensors and decode boxes (and proxy keypoints if present)."""
        cls_scores, bbox_preds, kpt_offsets, kpt_vis, pose_vecs = outs
        ref = cls_scores[0]
        sizes = [c.shape[2:] for c in cls_scores]
        priors = torch.cat(self.prior_generator.grid_priors(sizes, dtype=ref.dtype, device=ref.device,
                                                            with_stride=True))
        num_imgs = ref.shape[0]
        flat = dict(priors=priors, cls=flatten_levels(cls_scores), bbox_raw=flatten_levels(bbox_preds),
                    vis=flatten_levels(kpt_vis), pose_vecs=flatten_levels(pose_vecs))
        flat["bboxes"] = decode_bboxes(flat["bbox_raw"], priors)
        if kpt_offsets:
            offsets = flatten_levels(kpt_offsets).reshape(num_imgs, priors.shape[0], self.num_keypoints, 2)
            flat["keypoints"] = decode_keypoints(offsets, priors)
        return flat

    # ------------------------------------------------------------------------------------------------------
    def loss(self, feats: Sequence[Tensor], batch_data_samples: Sequence, train_cfg: ConfigType = {}) -> dict:
        """Assign targets with SimOTA and compute the losses.

        Args:
            feats (Sequence[Tensor]): neck outputs per level ``(B, C, H_l, W_l)``.
            batch_data_samples (Sequence[PoseDataSample]): with ``gt_instance_labels`` (bboxes, labels, keypoints,
                keypoints_visible, areas) and, in stage 2, ``gt_fields.heatmap_mask``.
            train_cfg (dict): unused.

        Returns:
            dict: ``loss_bbox``, ``loss_vis``, ``loss_mle`` (per-positive vector, absent if its weight is 0),
            ``loss_oks`` (per-positive vector), ``loss_cls``, ``loss_bbox_aux`` (if ``use_aux_loss``), and the logged
            values ``num_samples``, ``overlaps``.
        """
        if self.assigner is None:
            raise RuntimeError("RTMODCCHead.loss: the head was built without an assigner config")
        missing = [n for n in ("loss_cls", "loss_bbox", "loss_oks", "loss_vis") if getattr(self, n) is None]
        if missing:
            raise RuntimeError(f"RTMODCCHead.loss: no config given for {missing}")
        flat = self._flatten(self.forward(feats))
        if "keypoints" not in flat:
            raise RuntimeError("RTMODCCHead.loss: the proxy keypoint branch runs only in training mode; call "
                               "model.train() before computing losses")
        num_imgs, num_priors = flat["cls"].shape[:2]
        masks = [self._heatmap_mask(ds) for ds in batch_data_samples]
        targets = build_targets(self.assigner, flat["priors"], flat["cls"].detach(), flat["bboxes"].detach(),
                                flat["keypoints"].detach(), flat["vis"].detach(),
                                [ds.gt_instance_labels for ds in batch_data_samples], masks)
        num_total = max(reduce_mean(flat["cls"].new_tensor(float(targets.num_pos))).item(), 1.0)

        losses: Dict[str, Tensor] = {}
        cls_targets = targets.cls_targets
        if targets.num_pos > 0:
            cls_targets = self._positive_losses(flat, targets, num_total, losses)
        else:
            # keep every parameter in the graph with exact zeros
            zero = sum(flat[k].sum() for k in ("bbox_raw", "vis", "pose_vecs", "keypoints")) * 0.0
            losses.update(loss_bbox=zero, loss_vis=zero, loss_oks=zero)
            if self.loss_mle is not None and self.loss_mle.loss_weight > 0:
                losses["loss_mle"] = zero
            if self.use_aux_loss:
                losses["loss_bbox_aux"] = zero

        cls_logits = flat["cls"].reshape(-1, self.num_classes)
        cls_all = cls_logits.new_zeros(cls_logits.shape)
        cls_all[targets.pos_mask] = cls_targets.pow(self.overlaps_power).unsqueeze(-1).to(cls_all)
        losses["loss_cls"] = self.loss_cls(cls_logits, cls_all, targets.obj_weights) / num_total
        losses["num_samples"] = cls_logits.new_tensor(num_total)
        losses["overlaps"] = cls_targets.mean() if targets.num_pos > 0 else cls_logits.new_tensor(0.0)
        return losses

    def _positive_losses(self, flat: Dict[str, Tensor], targets: RTMOTargets, num_total: float,
                         losses: Dict[str, Tensor]) -> Tensor:
        """Losses on the positives (box, visibility, MLE, OKS, aux); returns the classification targets ``(Npos,)``."""
        k = self.num_keypoints
        pos = targets.pos_mask
        pos_bboxes = flat["bboxes"].reshape(-1, 4)[pos]
        losses["loss_bbox"] = self.loss_bbox(pos_bboxes, targets.bbox_targets) / num_total

        pos_vis = flat["vis"].reshape(-1, k)[pos]
        losses["loss_vis"] = self.loss_vis(pos_vis, targets.vis_targets, targets.vis_weights)

        # DCC on the positives: bins over the predicted (non-detached) boxes, encoded relative to the prior
        pos_vecs = flat["pose_vecs"].reshape(-1, flat["pose_vecs"].shape[-1])[pos]
        dcc_out = self.dcc.forward_train(pos_vecs, pos_bboxes, targets.pos_priors[:, :2])
        if self.loss_mle is not None and self.loss_mle.loss_weight > 0:
            losses["loss_mle"] = self.loss_mle(dcc_out["x_probs"], dcc_out["y_probs"], dcc_out["x_bins"],
                                               dcc_out["y_bins"], targets.kpt_targets, dcc_out["sigmas"],
                                               targets.areas, targets.vis_targets)

        pos_kpts = flat["keypoints"].reshape(-1, k, 2)[pos]
        cls_targets = targets.cls_targets
        if self.proxy_target_cc:
            # stage 2 of the loss schedule: the proxy branch imitates the DCC where the DCC is closer to the GT
            dcc_kpts = dcc_out["keypoints"].detach()
            err_reg = torch.linalg.vector_norm(pos_kpts.detach() - targets.kpt_targets, dim=-1)
            err_dcc = torch.linalg.vector_norm(dcc_kpts - targets.kpt_targets, dim=-1)
            oks_target, oks_weight = dcc_kpts, targets.vis_targets * (err_reg > err_dcc).to(dcc_kpts)
            cls_targets = self.assigner.oks_calculator(dcc_kpts, target=targets.kpt_targets,
                                                       target_weights=targets.vis_targets, areas=targets.areas)
        else:
            oks_target, oks_weight = targets.kpt_targets, targets.vis_targets
        losses["loss_oks"] = self.loss_oks(pos_kpts, oks_target, oks_weight, targets.areas)

        if self.use_aux_loss:
            if self.loss_bbox_aux is None:
                raise RuntimeError("RTMODCCHead: use_aux_loss=True but no loss_bbox_aux config was given")
            raw = flat["bbox_raw"].reshape(-1, 4)[pos]
            losses["loss_bbox_aux"] = self.loss_bbox_aux(
                raw, encode_bboxes(targets.bbox_targets, targets.pos_priors)) / num_total
        return cls_targets

    @staticmethod
    def _heatmap_mask(data_sample) -> Optional[Tensor]:
        fields = data_sample.get("gt_fields", None)
        if fields is None or "heatmap_mask" not in fields:
            return None
        return fields.heatmap_mask

    # ------------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, feats: Sequence[Tensor], batch_data_samples: Sequence, test_cfg: ConfigType = {}
                ) -> List[InstanceData]:
        """Detect people and decode their keypoints.

        Steps per image: class probability ``sigmoid(cls)``; keep ``> score_thr`` (at most ``nms_pre``, by score);
        greedy box NMS at ``nms_thr``; DCC keypoints of the kept grids; boxes clamped to the input size.

        Args:
            feats (Sequence[Tensor]): neck outputs per level ``(B, C, H_l, W_l)``.
            batch_data_samples (Sequence[PoseDataSample]): metainfo must hold ``input_size`` (w, h).
            test_cfg (dict): ``score_thr`` (0.01 default; RTMO configs 0.1), ``nms_thr`` (0.65), ``nms_pre`` (100000),
                ``pose_nms`` (optional TASK_UTILS config, e.g. ``dict(type='ParametricPoseNMS')``: RMPE's parametric
                pose NMS applied per image after the box NMS; with ``nms_thr=1.0`` it replaces the box NMS).

        Returns:
            List[InstanceData]: per image, in input pixels, highest score first: ``bboxes (N, 4)`` xyxy,
            ``bbox_scores (N,)``, ``keypoints (N, K, 2)``, ``keypoint_scores (N, K)``, ``keypoints_visible (N, K)``
            (numpy arrays, like the reference head, so ``BottomupPoseEstimator`` maps them to the image); also
            ``scores (N,)`` (= bbox_scores) and ``labels (N,)`` (zeros, one class) as the reference head returns.
        """
        if test_cfg.get("flip_test", False) or test_cfg.get("multiscale_test", False):
            raise NotImplementedError("RTMODCCHead.predict: flip_test / multiscale_test are not supported")
        score_thr = test_cfg.get("score_thr", 0.01)
        nms_thr = test_cfg.get("nms_thr", 0.65)
        nms_pre = test_cfg.get("nms_pre", 100000)
        pose_nms_cfg = test_cfg.get("pose_nms")
        pose_nms = TASK_UTILS.build(pose_nms_cfg) if pose_nms_cfg is not None else None
        flat = self._flatten(self.forward(feats))
        scores_all = flat["cls"].sigmoid()
        results = []
        for i, data_sample in enumerate(batch_data_samples):
            scores, idxs = filter_by_score(scores_all[i, :, 0], score_thr, nms_pre)
            bboxes = flat["bboxes"][i, idxs]
            keep = greedy_nms(bboxes, scores, nms_thr)
            idxs, scores, bboxes = idxs[keep], scores[keep], bboxes[keep]
            keypoints = self.dcc.forward_test(flat["pose_vecs"][i, idxs], bboxes, flat["priors"][idxs, :2])
            kpt_scores = flat["vis"][i, idxs].sigmoid()
            input_size = data_sample.metainfo.get("input_size", test_cfg.get("input_size"))
            bboxes = self._clamp(bboxes, input_size)
            instances = InstanceData(bboxes=bboxes.cpu().numpy(), bbox_scores=scores.cpu().numpy(),
                                     scores=scores.cpu().numpy(), labels=np.zeros(len(idxs), dtype=np.int64),
                                     keypoints=keypoints.cpu().numpy(), keypoint_scores=kpt_scores.cpu().numpy(),
                                     keypoints_visible=kpt_scores.cpu().numpy())
            results.append(pose_nms.filter_instances(instances) if pose_nms is not None else instances)
        return results

    @staticmethod
    def _clamp(bboxes: Tensor, input_size: Optional[Sequence[int]]) -> Tensor:
        """Boxes ``(N, 4)`` xyxy clamped to the input ``(w, h)`` (a copy; unchanged without an input size)."""
        bboxes = bboxes.clone()
        if input_size is not None:
            bboxes[:, 0::2].clamp_(0, input_size[0])
            bboxes[:, 1::2].clamp_(0, input_size[1])
        return bboxes
