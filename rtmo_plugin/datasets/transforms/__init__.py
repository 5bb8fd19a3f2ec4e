"""rtmo_plugin.datasets.transforms."""
from .pose_guided_proposals import PoseGuidedProposals
from .pose_heatmap_mask_from_invalid import PoseHeatmapMaskFromInvalid
from .pose_horizontal_flip import PoseHorizontalFlip
from .pose_hsv_jitter import PoseHSVJitter
from .pose_instance_filter import PoseInstanceFilter
from .pose_letterbox_resize import PoseLetterboxResize
from .pose_mix_up import PoseMixUp
from .pose_mosaic import PoseMosaic
from .pose_random_affine import PoseRandomAffine

__all__ = [
    "PoseHeatmapMaskFromInvalid", "PoseHorizontalFlip", "PoseHSVJitter", "PoseInstanceFilter", "PoseLetterboxResize",
    "PoseMixUp", "PoseMosaic", "PoseGuidedProposals", "PoseRandomAffine",
]
