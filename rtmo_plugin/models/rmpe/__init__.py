"""RMPE components: parametric pose NMS, symmetric spatial transformer network (SSTN)."""
from .localization_net import AffineLocalizationNet
from .parallel_sppe import FrozenPoseBranch, centred_heatmap_targets
from .pose_nms import COCO_PARAMS, MPII_PARAMS, ParametricPoseNMS, PoseNMSResult
from .spatial_transform import (
                                apply_affine,
                                detransform_theta,
                                normalised_to_pixels,
                                pixels_to_normalised,
                                sdtn_sample,
                                stn_sample,
)
from .sstn import SSTNTopdownEstimator

__all__ = [
    "AffineLocalizationNet", "COCO_PARAMS", "FrozenPoseBranch", "MPII_PARAMS",
    "ParametricPoseNMS", "PoseNMSResult", "SSTNTopdownEstimator", "apply_affine",
    "centred_heatmap_targets", "detransform_theta", "normalised_to_pixels",
    "pixels_to_normalised", "sdtn_sample", "stn_sample",
]
