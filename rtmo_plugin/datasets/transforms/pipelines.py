"""The RTMO data pipelines as config lists: ours (plugin names) and MMPose's reference (for parity checks).

Arguments follow MMPose 1.3.2's ``configs/body_2d_keypoint/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py``; the
plugin pipeline is the same list with the plugin's transform names, so configs port 1:1.
"""
from typing import List, Tuple

from ...utils.reference_names import to_reference_types

def _rename(cfg: List[dict], reference: bool) -> List[dict]:
    """MMPose's names for the plugin's (``OURS_TO_REFERENCE``) when ``reference``."""
    return to_reference_types(cfg) if reference else cfg


def stage1_pipeline(input_size: Tuple[int, int] = (640, 640), mixup: bool = True,
                    mixup_ratio_range: Tuple[float, float] = (0.8, 1.6), shift_factor: float = 0.1,
                    rotate_factor: float = 10, scale_factor: Tuple[float, float] = (0.75, 1.0),
                    reference: bool = False) -> List[dict]:
    """Stage-1 training pipeline (mosaic, random perspective, mixup, HSV, flip, filter, targets, pack).

    Args:
        input_size (Tuple[int, int]): model input (W, H).
        mixup (bool): include the mixup (RTMO-t has none).
        mixup_ratio_range (Tuple[float, float]): mixup rescale range ((0.6, 1.6) for CrowdPose).
        shift_factor (float): 0.1 for COCO (0.2 CrowdPose).
        rotate_factor (float): 10 for COCO (30 CrowdPose).
        scale_factor (Tuple[float, float]): (0.75, 1.0) for COCO ((0.5, 1.5) CrowdPose).
        reference (bool): use MMPose's transform names instead of the plugin's.

    Returns:
        list[dict]: the pipeline config.
    """
    pipeline = [
        dict(type="LoadImage", backend_args=None),
        dict(type="PoseMosaic", img_scale=input_size, pad_val=114.0,
             pre_transform=[dict(type="LoadImage", backend_args=None)]),
        dict(type="PoseRandomAffine", input_size=input_size, shift_factor=shift_factor, rotate_factor=rotate_factor,
             scale_factor=scale_factor, pad_val=114, distribution="uniform", transform_mode="perspective",
             bbox_keep_corner=False, clip_border=True),
    ]
    if mixup:
        pipeline.append(dict(type="PoseMixUp", img_scale=input_size, ratio_range=mixup_ratio_range, pad_val=114.0,
                             pre_transform=[dict(type="LoadImage", backend_args=None)]))
    pipeline += [
        dict(type="PoseHSVJitter"),
        dict(type="PoseHorizontalFlip"),
        dict(type="PoseInstanceFilter", by_kpt=True, by_box=True, keep_empty=False),
        dict(type="GenerateTarget", encoder=dict(type="BBoxFreeKeypointCodec", input_size=input_size)),
        dict(type="PackPoseInputs"),
    ]
    return _rename(pipeline, reference)


def stage2_pipeline(input_size: Tuple[int, int] = (640, 640), letterbox_only: bool = True,
                    reference: bool = False) -> List[dict]:
    """Stage-2 training pipeline (letterbox-style affine, HSV, flip, invalid-instance mask, filter, targets, pack).

    Args:
        input_size (Tuple[int, int]): model input (W, H).
        letterbox_only (bool): shift/rotate/scale probabilities 0 (RTMO t/s and CrowdPose); False keeps the
            affine defaults (RTMO m/l COCO and body7).
        reference (bool): use MMPose's transform names.

    Returns:
        list[dict]: the pipeline config.
    """
    affine = dict(type="PoseRandomAffine", input_size=input_size, scale_type="long", pad_val=(114, 114, 114),
                  bbox_keep_corner=False, clip_border=True)
    if letterbox_only:
        affine.update(shift_prob=0, rotate_prob=0, scale_prob=0)
    pipeline = [
        dict(type="LoadImage"),
        affine,
        dict(type="PoseHSVJitter"),
        dict(type="PoseHorizontalFlip"),
        dict(type="PoseHeatmapMaskFromInvalid", get_invalid=True),
        dict(type="PoseInstanceFilter", by_kpt=True, by_box=True, keep_empty=False),
        dict(type="GenerateTarget", encoder=dict(type="BBoxFreeKeypointCodec", input_size=input_size)),
        dict(type="PackPoseInputs"),
    ]
    return _rename(pipeline, reference)


def val_pipeline(input_size: Tuple[int, int] = (640, 640), reference: bool = False) -> List[dict]:
    """Validation / test pipeline: load, letterbox (centred, pad 114), pack with the inverse-mapping meta."""
    pipeline = [
        dict(type="LoadImage"),
        dict(type="PoseLetterboxResize", input_size=input_size, pad_val=(114, 114, 114)),
        dict(type="PackPoseInputs", meta_keys=("id", "img_id", "img_path", "ori_shape", "img_shape", "input_size",
                                               "input_center", "input_scale")),
    ]
    return _rename(pipeline, reference)
