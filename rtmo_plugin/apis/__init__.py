"""Inference API: batched prediction on numpy images, model loading, visualisation, demo I/O."""
from ..evaluation.coco_results import to_coco_results, write_json
from .box_sources import DetectionFileBoxes, GroundTruthBoxes, PersonBoxes, RTMOBoxes, box_source_from_spec
from .demo_runner import run_demo
from .image_inputs import LetterboxInfo, letterbox, to_bgr_uint8
from .inferencer import MODES, PosePrediction, RTMOInferencer
from .model_loading import load_checkpoint, load_model, register_modules, resolve_device
from .rmpe_inferencer import RMPEInferencer
from .sources import FrameSource
from .visualization import COCO17_SKELETON, draw_poses, skeleton_from_meta

__all__ = [
    "to_coco_results", "write_json", "run_demo", "LetterboxInfo", "letterbox", "to_bgr_uint8", "MODES",
    "PosePrediction", "RTMOInferencer", "load_checkpoint", "load_model", "register_modules", "resolve_device",
    "FrameSource", "COCO17_SKELETON", "draw_poses", "skeleton_from_meta", "DetectionFileBoxes", "GroundTruthBoxes",
    "PersonBoxes", "RTMOBoxes", "box_source_from_spec", "RMPEInferencer",
]
