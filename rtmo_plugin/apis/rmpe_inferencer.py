"""RMPE inference on numpy images: person boxes -> SSTN top-down pose estimation -> parametric pose NMS.

Example::

    from rtmo_plugin.apis import DetectionFileBoxes, RMPEInferencer
    boxes = DetectionFileBoxes('coco_mini/test_coco_det_AP_H_56.json', ann_file='coco_mini/test_coco.json')
    inferencer = RMPEInferencer(boxes, config='configs/rmpe/sstn_tiny_coco-mini.py', checkpoint='sstn.pth')
    predictions = inferencer([cv2.imread('000000000785.jpg')], names=['000000000785.jpg'])
    predictions[0].keypoints        # (N, 17, 2) float32, image pixels
    predictions[0].keypoint_scores  # (N, 17)
    predictions[0].bboxes           # (N, 4) xyxy: the person boxes the poses came from
    predictions[0].bbox_scores      # (N,) person scores (AlphaPose's; score_mode='box': detection scores)

Per person box, MMPose's top-down data flow: ``GetBBoxCenterScale(padding=1.3)`` (AlphaPose's 30% enlargement),
``TopdownAffine`` to the model input and ``PackPoseInputs``; the model's ``test_step`` (for the SSTN: STN, SPPE,
SDTN, decoding, flip test as in its ``test_cfg``) maps the keypoints back to image pixels. The poses of an image
then go through :class:`~rtmo_plugin.models.rmpe.ParametricPoseNMS` (``pose_nms=None`` keeps them all).
"""
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from ..models.utils.box_ops import greedy_nms
from .box_sources import PersonBoxes
from .image_inputs import to_bgr_uint8
from .inferencer import PosePrediction, image_labels
from .model_loading import load_model, resolve_device

#: AlphaPose's proposal enlargement (``scaleRate = 0.3``)
RMPE_PADDING = 1.3
#: how an output pose is scored (see :class:`RMPEInferencer`)
SCORE_MODES = ("alphapose", "box")


def alphapose_score(keypoint_scores: np.ndarray, box_scores: np.ndarray) -> np.ndarray:
    """AlphaPose's person score ``mean(s) + box + 1.25·max(s)``, divided by its maximum 3.25.

    Args:
        keypoint_scores (np.ndarray): ``(N, K)`` keypoint scores in [0, 1].
        box_scores (np.ndarray): ``(N,)`` detection scores in [0, 1].

    Returns:
        np.ndarray: ``(N,)`` float32 scores in [0, 1].
    """
    if len(keypoint_scores) == 0:
        return np.zeros((0,), np.float32)
    total = keypoint_scores.mean(axis=1) + box_scores + 1.25 * keypoint_scores.max(axis=1)
    return (total / 3.25).astype(np.float32)


def _dataset_meta(model: nn.Module) -> Dict:
    """The model's keypoint meta (flip indices for the flip test): checkpoint, config, else COCO-17."""
    from mmpose.apis.inference import dataset_meta_from_config
    from mmpose.datasets.datasets.utils import parse_pose_metainfo

    meta = getattr(model, "dataset_meta", None)
    if not meta and getattr(model, "cfg", None) is not None:
        meta = dataset_meta_from_config(model.cfg, dataset_mode="test")
    if not meta or "flip_indices" not in meta:
        meta = parse_pose_metainfo(dict(from_file="configs/_base_/datasets/coco.py"))
    return dict(meta)


def _input_size(model: nn.Module, input_size: Optional[Tuple[int, int]]) -> Tuple[int, int]:
    """The model input ``(w, h)``: given, else the head decoder's ``input_size``."""
    if input_size is None:
        input_size = getattr(getattr(model.head, "decoder", None), "input_size", None)
    if input_size is None:
        raise ValueError("RMPEInferencer: the model's head has no decoder with an input_size; pass input_size=(w, h)")
    return int(input_size[0]), int(input_size[1])


class RMPEInferencer:
    """Two-stage RMPE inference: a box source proposes people, a top-down model estimates each pose.

    Args:
        box_source: callable ``(images, names) -> list[PersonBoxes]``, e.g. a
            :class:`~rtmo_plugin.apis.box_sources.DetectionFileBoxes`, ``GroundTruthBoxes`` or ``RTMOBoxes``.
        model (nn.Module | None): a built top-down estimator (``SSTNTopdownEstimator`` or any MMPose
            ``TopdownPoseEstimator``); or give ``config``.
        config (str | Path | None): config file, used when ``model`` is None.
        checkpoint (str | Path | None): weights for ``config`` (None: random weights, for tests).
        device (str): 'cpu' or 'cuda[:N]'.
        batch_size (int): images per call in ``run_demo`` (and per call of the box source there).
        crop_batch_size (int): person crops per forward pass.
        padding (float): box enlargement of ``GetBBoxCenterScale``. Defaults to 1.3.
        input_size (tuple[int, int], optional): model input ``(w, h)``; default the head decoder's.
        box_score_thr (float): boxes scoring below this are not used. Defaults to 0.
        proposal_nms_thr (float, optional): IoU threshold of a box NMS on each image's proposals before pose
            estimation (what a detector's own NMS does; AlphaPose's detector uses 0.6). None (default) keeps all
            proposals for the pose NMS, as RMPE does.
        pose_nms (dict | nn.Module | None): config (or instance) of the pose NMS; default
            ``ParametricPoseNMS`` with its COCO preset; None keeps every pose.
        flip_test (bool, optional): override the model's ``test_cfg.flip_test``.
        score_mode (str): the person score of an output pose. ``'alphapose'`` (default): AlphaPose's proposal
            score ``mean(s) + box_score + 1.25·max(s)`` of the (merged) keypoint scores ``s``, divided by its
            maximum 3.25 so that it stays in [0, 1] (the ranking COCO AP uses is unchanged); ``'box'``: the
            detection score of the pose's box.
    """

    def __init__(self, box_source: Any, model: Optional[nn.Module] = None, *,
                 config: Optional[Union[str, Path]] = None, checkpoint: Optional[Union[str, Path]] = None,
                 device: str = "cpu", batch_size: int = 4, crop_batch_size: int = 32,
                 padding: float = RMPE_PADDING, input_size: Optional[Tuple[int, int]] = None,
                 box_score_thr: float = 0.0, proposal_nms_thr: Optional[float] = None,
                 pose_nms: Optional[Union[dict, Any]] = dict(type="ParametricPoseNMS"),
                 flip_test: Optional[bool] = None, score_mode: str = "alphapose") -> None:
        from mmengine.dataset import Compose
        from mmpose.models.pose_estimators import TopdownPoseEstimator
        from mmpose.registry import TASK_UTILS, TRANSFORMS

        if score_mode not in SCORE_MODES:
            raise ValueError(f"score_mode must be one of {SCORE_MODES}, got {score_mode!r}")
        if batch_size < 1 or crop_batch_size < 1:
            raise ValueError(f"batch_size and crop_batch_size must be >= 1, got {batch_size}, {crop_batch_size}")
        if model is None:
            if config is None:
                raise ValueError("RMPEInferencer needs a model or a config")
            model = load_model(config, checkpoint, device=device)
        if not isinstance(model, TopdownPoseEstimator):
            raise TypeError(f"RMPEInferencer needs a top-down estimator (e.g. SSTNTopdownEstimator), got "
                            f"{type(model).__name__}")
        self.box_source = box_source
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.batch_size = int(batch_size)
        self.crop_batch_size = int(crop_batch_size)
        self.box_score_thr = float(box_score_thr)
        self.score_mode = score_mode
        if proposal_nms_thr is not None and not 0.0 <= proposal_nms_thr <= 1.0:
            raise ValueError(f"proposal_nms_thr must be an IoU in [0, 1] or None, got {proposal_nms_thr}")
        self.proposal_nms_thr = proposal_nms_thr
        self.input_size = _input_size(model, input_size)
        self.meta = _dataset_meta(model)
        self.num_keypoints = int(self.meta["num_keypoints"])
        self.test_cfg = dict(getattr(model, "test_cfg", None) or {})
        if flip_test is not None:
            self.test_cfg["flip_test"] = bool(flip_test)
        self.pipeline = Compose([TRANSFORMS.build(dict(type="GetBBoxCenterScale", padding=float(padding))),
                                 TRANSFORMS.build(dict(type="TopdownAffine", input_size=self.input_size)),
                                 TRANSFORMS.build(dict(type="PackPoseInputs"))])
        self.pose_nms = TASK_UTILS.build(pose_nms) if isinstance(pose_nms, dict) else pose_nms

    @property
    def dataset_meta(self) -> dict:
        """Keypoint names/skeleton/flip indices used for the model."""
        return dict(self.meta)

    def _checked_boxes(self, boxes: PersonBoxes, label: str) -> PersonBoxes:
        """Boxes at or above ``box_score_thr`` (after the proposal NMS, if set); non-finite or empty boxes are an
        error naming the image."""
        bboxes = np.asarray(boxes.bboxes, np.float32).reshape(-1, 4)
        scores = np.asarray(boxes.scores, np.float32).reshape(-1)
        if len(bboxes) != len(scores):
            raise ValueError(f"{label}: {len(bboxes)} boxes but {len(scores)} box scores")
        keep = scores >= self.box_score_thr
        bboxes, scores = bboxes[keep], scores[keep]
        bad = ~(np.isfinite(bboxes).all(1) & np.isfinite(scores) & (bboxes[:, 2] > bboxes[:, 0])
                & (bboxes[:, 3] > bboxes[:, 1]))
        if bad.any():
            raise ValueError(f"{label}: person box {bboxes[bad][0].tolist()} is not finite or has no area")
        if self.proposal_nms_thr is not None and len(scores):
            keep = greedy_nms(torch.from_numpy(bboxes), torch.from_numpy(scores), self.proposal_nms_thr).numpy()
            bboxes, scores = bboxes[keep], scores[keep]
        return PersonBoxes(bboxes, scores)

    def __call__(self, images: Sequence[np.ndarray], names: Optional[Sequence[str]] = None
                 ) -> List[PosePrediction]:
        """Predict poses for a list of images.

        Args:
            images (Sequence[np.ndarray]): BGR images (as :class:`~rtmo_plugin.apis.RTMOInferencer` accepts).
            names (Sequence[str], optional): the images' file names; box sources read from files need them to
                find an image's boxes.

        Returns:
            list[PosePrediction]: one per image, in order; poses in image pixels, best first after the pose NMS,
            with the person box each pose came from and its
            score (``score_mode``).
        """
        if isinstance(images, np.ndarray):
            raise TypeError("pass a list of images, e.g. [img] (got a single numpy array)")
        labels = image_labels(len(images), names)
        images = [to_bgr_uint8(img, label) for img, label in zip(images, labels)]
        proposals = self.box_source(images, names=names)
        if len(proposals) != len(images):
            raise ValueError(f"the box source gave {len(proposals)} box lists for {len(images)} images")
        proposals = [self._checked_boxes(p, label) for p, label in zip(proposals, labels)]
        crops = [(i, box, score) for i, p in enumerate(proposals) for box, score in zip(p.bboxes, p.scores)]
        instances = self._estimate(images, crops)
        results = []
        for i in range(len(images)):
            mine = [inst for (owner, _, _), inst in zip(crops, instances) if owner == i]
            results.append(self._merge(mine))
        return results

    @torch.no_grad()
    def _estimate(self, images: List[np.ndarray], crops: List[Tuple[int, np.ndarray, float]]) -> List[Any]:
        """Top-down estimation of every crop: ``pred_instances`` (one pose each) in image pixels."""
        from mmengine.dataset import pseudo_collate

        out = []
        saved = getattr(self.model, "test_cfg", None)
        self.model.test_cfg = self.test_cfg
        try:
            for start in range(0, len(crops), self.crop_batch_size):
                data = []
                for index, box, score in crops[start:start + self.crop_batch_size]:
                    img = images[index]
                    info = dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], img_id=index,
                                bbox=box[None].astype(np.float32), bbox_score=np.array([score], np.float32),
                                **self.meta)
                    data.append(self.pipeline(info))
                out.extend(sample.pred_instances for sample in self.model.test_step(pseudo_collate(data)))
        finally:
            self.model.test_cfg = saved
        return out

    def _merge(self, instances: List[Any]) -> PosePrediction:
        """One image's single-pose instances -> pose NMS -> :class:`PosePrediction`."""
        from mmengine.structures import InstanceData

        if not instances:
            return PosePrediction.empty(self.num_keypoints)
        def field(name: str) -> np.ndarray:
            return np.concatenate([np.asarray(inst.get(name), np.float32) for inst in instances])

        merged = InstanceData(keypoints=field("keypoints")[..., :2], keypoint_scores=field("keypoint_scores"),
                              bboxes=field("bboxes").reshape(-1, 4), scores=field("bbox_scores").reshape(-1))
        if self.pose_nms is not None:
            merged = self.pose_nms.filter_instances(merged)
        if len(merged) == 0:  # the pose NMS drops poses whose best keypoint score is too low
            return PosePrediction.empty(self.num_keypoints)
        keypoint_scores = np.asarray(merged.keypoint_scores, np.float32).reshape(len(merged), -1)
        scores = np.asarray(merged.scores, np.float32).reshape(-1)
        if self.score_mode == "alphapose":
            scores = alphapose_score(keypoint_scores, scores)
        order = np.argsort(-scores, kind="stable")
        return PosePrediction(np.asarray(merged.keypoints, np.float32)[order], keypoint_scores[order],
                              np.asarray(merged.bboxes, np.float32).reshape(-1, 4)[order], scores[order])
