"""Build the MMPose reference RTMO and our plugin RTMO side by side (test oracle helpers).

The reference (MMPose 1.3.2's ``RTMOHead`` model, built from the configs shipped inside the installed mmpose
package) is used only to compare outputs: same weights, same input -> same results. Nothing here runs at import.
"""
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from ..utils.init_weights import quiet_init_weights

VARIANTS = ("t", "s", "m", "l")
DATASETS = ("coco", "crowdpose")

#: our configs (in <repo>/configs) by (variant, dataset)
PLUGIN_CONFIGS: Dict[Tuple[str, str], str] = {
    ("t", "coco"): "rtmo-t_8xb32-600e_coco.py",
    ("s", "coco"): "rtmo-s_8xb32-600e_coco.py",
    ("m", "coco"): "rtmo-m_16xb16-600e_coco.py",
    ("l", "coco"): "rtmo-l_16xb16-600e_coco.py",
    ("s", "crowdpose"): "rtmo-s_8xb32-700e_crowdpose.py",
    ("m", "crowdpose"): "rtmo-m_16xb16-700e_crowdpose.py",
    ("l", "crowdpose"): "rtmo-l_16xb16-700e_crowdpose.py",
}

#: MMPose's configs (relative to mmpose/.mim/configs/body_2d_keypoint/rtmo). MMPose has no COCO-only RTMO-t; its
#: body7 RTMO-t has the identical model (17 COCO keypoints), so it is the reference for ('t', 'coco').
REFERENCE_CONFIGS: Dict[Tuple[str, str], str] = {
    ("t", "coco"): "body7/rtmo-t_8xb32-600e_body7-416x416.py",
    ("s", "coco"): "coco/rtmo-s_8xb32-600e_coco-640x640.py",
    ("m", "coco"): "coco/rtmo-m_16xb16-600e_coco-640x640.py",
    ("l", "coco"): "coco/rtmo-l_16xb16-600e_coco-640x640.py",
    ("s", "crowdpose"): "crowdpose/rtmo-s_8xb32-700e_crowdpose-640x640.py",
    ("m", "crowdpose"): "crowdpose/rtmo-m_16xb16-700e_crowdpose-640x640.py",
    ("l", "crowdpose"): "crowdpose/rtmo-l_16xb16-700e_crowdpose-640x640.py",
}


def repo_root() -> Path:
    """Root of the rtmo-plugin repository (parent of the package)."""
    return Path(__file__).resolve().parents[2]


def plugin_config_path(variant: str, dataset: str = "coco") -> Path:
    """Path of our config for a variant/dataset (raises ``KeyError`` naming the valid pairs)."""
    key = (variant, dataset)
    if key not in PLUGIN_CONFIGS:
        raise KeyError(f"no plugin RTMO config for variant={variant!r} dataset={dataset!r}; "
                       f"valid: {sorted(PLUGIN_CONFIGS)}")
    return repo_root() / "configs" / PLUGIN_CONFIGS[key]


def reference_config_path(variant: str, dataset: str = "coco") -> Path:
    """Path of MMPose's own RTMO config inside the installed mmpose package."""
    import mmpose

    key = (variant, dataset)
    if key not in REFERENCE_CONFIGS:
        raise KeyError(f"no reference RTMO config for variant={variant!r} dataset={dataset!r}; "
                       f"valid: {sorted(REFERENCE_CONFIGS)}")
    root = Path(mmpose.__file__).parent / ".mim" / "configs" / "body_2d_keypoint" / "rtmo"
    return root / REFERENCE_CONFIGS[key]


def _register() -> None:
    from mmengine.registry import init_default_scope
    from mmpose.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    import rtmo_plugin  # noqa: F401

    init_default_scope("mmpose")


def _build(model_cfg: Any, with_batch_augments: bool) -> nn.Module:
    from mmpose.registry import MODELS

    model_cfg = model_cfg.copy()
    model_cfg["backbone"]["init_cfg"] = None  # no pretrained download
    if not with_batch_augments:
        model_cfg["data_preprocessor"].pop("batch_augments", None)
    model = MODELS.build(model_cfg)
    quiet_init_weights(model)
    return model


def build_reference_model(variant: str, dataset: str = "coco", with_batch_augments: bool = False) -> nn.Module:
    """MMPose 1.3.2's RTMO (``BottomupPoseEstimator`` + ``RTMOHead``), randomly initialised.

    Args:
        variant (str): 't', 's', 'm' or 'l'.
        dataset (str): 'coco' or 'crowdpose' (14 keypoints; no 't').
        with_batch_augments (bool): keep ``BatchSyncRandomResize`` in the data preprocessor. Defaults to False.

    Returns:
        nn.Module: the estimator (train mode, CPU).
    """
    from mmengine.config import Config

    _register()
    cfg = Config.fromfile(str(reference_config_path(variant, dataset)))
    return _build(cfg.model, with_batch_augments)


def build_plugin_model(variant: str, dataset: str = "coco", with_batch_augments: bool = False) -> nn.Module:
    """Our RTMO (``BottomupPoseEstimator`` + ``RTMODCCHead``) from ``configs/``, randomly initialised.

    Args:
        variant (str): 't', 's', 'm' or 'l'.
        dataset (str): 'coco' or 'crowdpose'.
        with_batch_augments (bool): keep the batch resize augmentation (needs the pipeline's
            ``RTMOBatchSyncResize``). Defaults to False.

    Returns:
        nn.Module: the estimator (train mode, CPU).
    """
    from mmengine.config import Config

    _register()
    cfg = Config.fromfile(str(plugin_config_path(variant, dataset)))
    return _build(cfg.model, with_batch_augments)


def build_model_skeleton(variant: str, dataset: str = "coco", which: str = "plugin") -> nn.Module:
    """Build a model on the ``meta`` device (no memory, no init): for key/shape/parameter-count checks.

    Args:
        variant (str): 't', 's', 'm' or 'l'.
        dataset (str): 'coco' or 'crowdpose'.
        which (str): 'plugin' (ours) or 'reference' (MMPose's). Defaults to 'plugin'.

    Returns:
        nn.Module: the estimator with meta tensors.
    """
    from mmengine.config import Config
    from mmpose.registry import MODELS

    if which not in ("plugin", "reference"):
        raise ValueError(f"which must be 'plugin' or 'reference', got {which!r}")
    _register()
    path = plugin_config_path(variant, dataset) if which == "plugin" else reference_config_path(variant, dataset)
    cfg = Config.fromfile(str(path)).model
    cfg["backbone"]["init_cfg"] = None
    cfg["data_preprocessor"].pop("batch_augments", None)
    with torch.device("meta"):
        return MODELS.build(cfg)


def state_dict_shapes(model: nn.Module) -> Dict[str, Tuple[int, ...]]:
    """``{key: shape}`` of a model's state dict."""
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def count_parameters(model: nn.Module) -> int:
    """Number of learnable parameters (what the RTMO paper / MMPose report as 'params')."""
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def calibrate_classifier(model: nn.Module, inputs: Tensor, num_detections: int = 20, score_thr: float = 0.1,
                         box_log_size: float = 2.0) -> None:
    """Shift the class-score biases so a randomly initialised model produces detections on ``inputs``.

    A random model's class logits are nearly constant, so the shift places the threshold halfway between the
    ``num_detections``-th and the next highest logit over the batch: exactly that many priors then pass
    ``score_thr`` (before NMS). Works on our head and the reference head (both keep the classifier at
    ``head.head_module.out_cls``).

    Args:
        model (nn.Module): a ``BottomupPoseEstimator`` with an RTMO head.
        inputs (Tensor): ``(B, 3, H, W)`` preprocessed images.
        num_detections (int): how many priors (over the batch) should pass the threshold. Defaults to 20.
        score_thr (float): the test score threshold. Defaults to 0.1.
        box_log_size (float): added to the log-size bias of the box regression, so boxes span about
            ``exp(box_log_size)`` strides and overlap (NMS then has work to do). Defaults to 2.0.
    """
    for conv in model.head.head_module.out_bbox:
        conv.bias[2:] += box_log_size
    was_training = model.training
    model.eval()
    feats = model.extract_feat(inputs)
    cls_scores = model.head.head_module(feats)[0]
    logits = torch.cat([c.flatten() for c in cls_scores]).double()
    top = logits.topk(min(num_detections + 1, logits.numel())).values
    boundary = float(top[-2:].mean()) if top.numel() > num_detections else float(top[-1]) - 1.0
    target = float(np.log(score_thr / (1 - score_thr)))
    for conv in model.head.head_module.out_cls:
        conv.bias.add_(target - boundary)
    model.train(was_training)


def load_images(paths: Sequence[Path], size: Sequence[int]) -> Tuple[Tensor, list]:
    """Letterbox images into a batch ``(B, 3, h, w)`` float BGR (0..255) with ``PoseDataSample`` metas.

    Args:
        paths (Sequence[Path]): image files.
        size (Sequence[int]): input ``(w, h)``.

    Returns:
        tuple: inputs and a list of ``PoseDataSample`` (metainfo only).
    """
    import cv2
    from mmpose.structures import PoseDataSample

    from ..apis.image_inputs import letterbox

    imgs, samples = [], []
    for path in paths:
        img = cv2.imread(str(path))
        if img is None:
            raise FileNotFoundError(f"cannot read image {path}")
        canvas, info = letterbox(img, size)
        imgs.append(torch.from_numpy(canvas).permute(2, 0, 1).float())
        samples.append(PoseDataSample(metainfo=dict(info.meta(), img_path=str(path))))
    return torch.stack(imgs), samples


def copy_weights(src: nn.Module, dst: nn.Module, strict: bool = True) -> None:
    """Load ``src``'s state dict into ``dst`` (both RTMO estimators with the checkpoint layout)."""
    dst.load_state_dict(src.state_dict(), strict=strict)


def as_numpy(x: Any) -> Optional[np.ndarray]:
    """Tensor or array-like to numpy (None stays None)."""
    if x is None:
        return None
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def coco_mini_batch(root: Path, size: Sequence[int] = (320, 320), num_images: int = 2,
                    with_gt: bool = True) -> Tuple[Tensor, list]:
    """A letterboxed batch of ``coco_mini`` images with ground truth in input coordinates.

    Ground truth follows what the bbox-free codec packs into ``gt_instance_labels``: ``bboxes (n, 4)`` xyxy,
    ``labels (n,)`` (category_id - 1), ``keypoints (n, K, 2)``, ``keypoints_visible (n, K)`` (min(1, v)),
    ``areas (n,)`` (COCO ``area`` scaled by the resize ratio squared). Annotations without visible keypoints or
    marked crowd are left out (as the instance filter would).

    Args:
        root (Path): the shared data folder (holding ``coco_mini/``).
        size (Sequence[int]): input ``(w, h)``. Defaults to (320, 320).
        num_images (int): first N images by file name. Defaults to 2.
        with_gt (bool): attach ``gt_instance_labels``. Defaults to True.

    Returns:
        tuple: inputs ``(B, 3, h, w)`` and ``PoseDataSample`` list.
    """
    import json

    from mmengine.structures import InstanceData

    ann = json.loads((Path(root) / "coco_mini" / "test_coco.json").read_text())
    images = sorted(ann["images"], key=lambda im: im["file_name"])[:num_images]
    paths = [Path(root) / "coco_mini" / im["file_name"] for im in images]
    inputs, samples = load_images(paths, size)
    if not with_gt:
        return inputs, samples
    for im, sample in zip(images, samples):
        meta = sample.metainfo
        scale = np.asarray(meta["input_scale"], dtype=np.float64)
        origin = np.asarray(meta["input_center"], dtype=np.float64) - scale / 2
        ratio = np.asarray(meta["input_size"], dtype=np.float64) / scale
        anns = [a for a in ann["annotations"]
                if a["image_id"] == im["id"] and a["num_keypoints"] > 0 and not a["iscrowd"]]
        kpts = np.array([a["keypoints"] for a in anns], dtype=np.float64).reshape(len(anns), -1, 3)
        boxes = np.array([a["bbox"] for a in anns], dtype=np.float64).reshape(len(anns), 4)
        boxes[:, 2:] += boxes[:, :2]
        boxes = ((boxes.reshape(-1, 2, 2) - origin) * ratio).reshape(-1, 4)
        gt = InstanceData(
            bboxes=torch.as_tensor(boxes, dtype=torch.float32),
            labels=torch.as_tensor([a["category_id"] - 1 for a in anns], dtype=torch.long),
            keypoints=torch.as_tensor((kpts[..., :2] - origin) * ratio, dtype=torch.float32),
            keypoints_visible=torch.as_tensor(np.minimum(kpts[..., 2], 1), dtype=torch.float32),
            areas=torch.as_tensor([a["area"] * ratio.prod() for a in anns], dtype=torch.float32))
        sample.gt_instance_labels = gt
    return inputs, samples
