"""rtmo_plugin.codecs."""
from .bbox_free_keypoint_codec import BBoxFreeKeypointCodec

__all__ = ["BBoxFreeKeypointCodec"]
