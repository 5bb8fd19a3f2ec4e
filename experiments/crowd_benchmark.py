"""Latency against the number of people: one-stage RTMO vs a two-stage top-down pipeline.

The logic behind ``python -m experiments.benchmark_crowd``.

Random weights are used; the people count is imposed, so that both pipelines do exactly the work N people cause:

* RTMO: forward hooks on the class/box output layers of the first level make exactly N well-separated grid cells
  score 0.99 with small boxes (all other cells score ~0), so score filtering, NMS and the DCC run on N instances.
* RMPE: the RTMO-s above as person detector (the imposed people are its boxes), then :class:`RMPEInferencer`: an
  SSTN at RTMPose-s scale (STN, CSPNeXt-s, SimpleBaseline's heatmap head, 256x192, flip test off) on every box, and
  the parametric pose NMS.
* top-down: an MMDet detector (RTMDet-tiny, score threshold 0.3 as in MMPose's top-down demos) runs once on the
  image, then N person boxes are cropped and warped to the pose model input (``cv2.warpAffine``, as
  ``TopdownAffine`` does) and a top-down MMPose model (RTMPose-s, 256x192) runs on the N crops as one batch,
  including its decoding.

All pipelines are timed interleaved per people count (see :func:`~experiments.benchmarking.time_interleaved`).
"""
import math
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np
import torch
from torch import nn

DETECTOR_CONFIG = "rtmdet/rtmdet_tiny_8xb32-300e_coco.py"  # inside mmdet/.mim/configs
POSE_CONFIG = "body_2d_keypoint/rtmpose/coco/rtmpose-s_8xb256-420e_coco-256x192.py"  # inside mmpose/.mim/configs


def person_cells(num_people: int, grid: Tuple[int, int], spacing: int = 4) -> List[Tuple[int, int]]:
    """``num_people`` (row, col) grid cells on a lattice ``spacing`` cells apart (raises if they do not fit)."""
    rows, cols = grid
    per_row = max(1, (cols - 1) // spacing + 1)
    cells = [(r, c) for r in range(1, rows, spacing) for c in range(1, cols, spacing)][:num_people]
    if len(cells) < num_people:
        raise ValueError(f"{num_people} people do not fit a {grid} grid with spacing {spacing} ({per_row}/row)")
    return cells


class ImposedPeople:
    """Context manager: make an RTMO head report exactly the given cells of level 0 as people.

    Args:
        cls_layer (nn.Module): module whose output is the level-0 class logits ``(B, 1, H, W)``.
        box_layer (nn.Module): module whose output starts with the level-0 box regression ``(B, 4+, H, W)``.
        cells (list[tuple[int, int]]): (row, col) of the people.
    """

    def __init__(self, cls_layer: nn.Module, box_layer: nn.Module, cells: Sequence[Tuple[int, int]]) -> None:
        self.cls_layer, self.box_layer, self.cells = cls_layer, box_layer, list(cells)
        self.handles: List = []

    def _set_cls(self, _m, _i, out: torch.Tensor) -> torch.Tensor:
        out = torch.full_like(out, -12.0)
        for r, c in self.cells:
            out[:, 0, r, c] = math.log(0.99 / 0.01)
        return out

    def _set_box(self, _m, _i, out: torch.Tensor) -> torch.Tensor:
        out = out.clone()
        out[:, 0:2] = 0.0  # box centred on its cell
        out[:, 2:4] = 0.4  # exp(0.4) * 16 px ~ 24 px wide: no overlap at a 4-cell (64 px) spacing
        return out

    def __enter__(self) -> "ImposedPeople":
        self.handles = [self.cls_layer.register_forward_hook(self._set_cls),
                        self.box_layer.register_forward_hook(self._set_box)]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self.handles:
            handle.remove()


def build_topdown(device: str = "cpu") -> Tuple[nn.Module, nn.Module]:
    """RTMDet-tiny (MMDet) and RTMPose-s (MMPose) with random weights, eval mode."""
    import mmdet
    import mmpose
    from mmdet.registry import MODELS as DET_MODELS
    from mmdet.utils import register_all_modules as register_det
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS as POSE_MODELS

    register_det(init_default_scope=False)
    det_cfg = Config.fromfile(str(Path(mmdet.__file__).parent / ".mim" / "configs" / DETECTOR_CONFIG))
    det_cfg.model.backbone.init_cfg = None
    # a trained detector keeps a handful of confident boxes; random weights would send thousands of ~0.01-score
    # boxes into NMS at the config's 0.001 threshold, so use the person-detection threshold of MMPose's demos
    det_cfg.model.test_cfg.score_thr = 0.3
    init_default_scope("mmdet")
    detector = DET_MODELS.build(det_cfg.model).eval().to(device)
    pose_cfg = Config.fromfile(str(Path(mmpose.__file__).parent / ".mim" / "configs" / POSE_CONFIG))
    pose_cfg.model.backbone.init_cfg = None
    init_default_scope("mmpose")
    pose = POSE_MODELS.build(pose_cfg.model).eval().to(device)
    return detector, pose


def build_sstn(device: str = "cpu") -> nn.Module:
    """RMPE's SSTN at RTMPose-s scale (random weights, eval mode): the tiny SSTN config with RTMPose-s's backbone
    (CSPNeXt-s) and SimpleBaseline's head (3 deconvolutions of 256 channels) on 256x192 crops."""
    import mmpose
    from mmengine.config import Config

    from rtmo_plugin.apis.model_loading import load_model

    cfg = Config.fromfile("configs/rmpe/sstn_tiny_coco-mini.py")
    backbone = Config.fromfile(str(Path(mmpose.__file__).parent / ".mim" / "configs" / POSE_CONFIG)).model.backbone
    codec = dict(type="MSRAHeatmap", input_size=(192, 256), heatmap_size=(48, 64), sigma=2)
    cfg.model.update(backbone=backbone, parallel_sppe=None, test_cfg=dict(flip_test=False),
                     head=dict(type="HeatmapHead", in_channels=int(backbone.widen_factor * 1024), out_channels=17,
                               deconv_out_channels=(256, 256, 256), deconv_kernel_sizes=(4, 4, 4),
                               loss=dict(type="KeypointMSELoss", use_target_weight=True), decoder=codec))
    return load_model(cfg, device=device)


def rmpe_runner(sstn: nn.Module, rtmo_fast: Callable[[torch.Tensor], object], inputs: torch.Tensor,
                cls_layer: nn.Module, box_layer: nn.Module, cells: Sequence[Tuple[int, int]], image: np.ndarray,
                boxes: np.ndarray) -> Callable[[], None]:
    """One call = RTMO (fast) with the people imposed, then RMPE inference on its ``boxes`` (SSTN + pose NMS)."""
    from rtmo_plugin.apis import PersonBoxes, RMPEInferencer

    def rtmo_boxes(images: Sequence[np.ndarray], names: object = None) -> List[PersonBoxes]:
        with torch.no_grad(), ImposedPeople(cls_layer, box_layer, cells):
            rtmo_fast(inputs)
        return [PersonBoxes(boxes, np.full(len(boxes), 0.99, np.float32))]

    inferencer = RMPEInferencer(rtmo_boxes, sstn, crop_batch_size=64)

    def run() -> None:
        inferencer([image])

    return run


def topdown_runner(detector: nn.Module, pose: nn.Module, image: np.ndarray, boxes: np.ndarray,
                   det_size: Tuple[int, int] = (640, 640)) -> Callable[[], None]:
    """One call = detector on ``image`` + crop/warp of ``boxes`` + pose model on all crops.

    Args:
        detector (nn.Module): MMDet detector.
        pose (nn.Module): MMPose top-down estimator (input 192x256).
        image (np.ndarray): ``(H, W, 3)`` BGR, already ``det_size``.
        boxes (np.ndarray): ``(N, 4)`` xyxy person boxes in image pixels.

    Returns:
        Callable[[], None]
    """
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample

    h, w = image.shape[:2]
    det_sample = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0),
                                             pad_shape=(h, w)))
    det_input = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
    out_w, out_h = 192, 256

    def run() -> None:
        with torch.no_grad():
            detector.test_step(dict(inputs=[det_input], data_samples=[det_sample]))
            crops, samples = [], []
            for x1, y1, x2, y2 in boxes:  # per-person crop: the essence of top-down (work grows with N)
                cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
                bw, bh = (x2 - x1) * 1.25, (y2 - y1) * 1.25
                bw, bh = max(bw, bh * out_w / out_h), max(bh, bw * out_h / out_w)
                s = out_w / bw
                mat = np.array([[s, 0, out_w / 2 - s * cx], [0, s, out_h / 2 - s * cy]], np.float32)
                crops.append(torch.from_numpy(cv2.warpAffine(image, mat, (out_w, out_h)).transpose(2, 0, 1).copy()))
                sample = PoseDataSample()
                sample.set_metainfo(dict(input_size=(out_w, out_h), input_center=np.array([cx, cy], np.float32),
                                         input_scale=np.array([bw, bh], np.float32), flip_indices=list(range(17))))
                sample.gt_instances = InstanceData(bboxes=np.array([[x1, y1, x2, y2]], np.float32),
                                                   bbox_scores=np.ones(1, np.float32))
                samples.append(sample)
            if crops:
                pose.test_step(dict(inputs=crops, data_samples=samples))

    return run


def rtmo_runner(model: Callable[[torch.Tensor], object], inputs: torch.Tensor, cls_layer: nn.Module,
                box_layer: nn.Module, cells: Sequence[Tuple[int, int]]) -> Callable[[], None]:
    """One call = an RTMO pipeline on ``inputs`` with the people imposed at ``cells`` (see :class:`ImposedPeople`)."""

    def run() -> None:
        with torch.no_grad(), ImposedPeople(cls_layer, box_layer, cells):
            model(inputs)

    return run


def plot_latency(counts: Sequence[int], medians: Dict[str, List[float]], spreads: Dict[str, List[Tuple[float, float]]],
                 path: Path, title: str) -> Path:
    """Line plot of median latency (ms) against people, with 25-75 percentile bands; written as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    for name, values in medians.items():
        ax.plot(counts, values, marker="o", label=name)
        lo, hi = zip(*spreads[name])
        ax.fill_between(counts, lo, hi, alpha=0.2)
    ax.set_xlabel("people in the image")
    ax.set_ylabel("latency per image (ms)")
    ax.set_title(title, fontsize=9)
    ax.set_xticks(list(counts))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
