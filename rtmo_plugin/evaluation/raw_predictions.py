"""Dump the raw (pre-NMS) instances of a bottom-up model as a COCO keypoint results file."""
import json
import warnings
from pathlib import Path
from typing import List, Optional, Union

from .coco_results import to_coco_results, write_json


def dump_raw_predictions(config: Union[str, Path], checkpoint: Optional[str],
                         ann_file: Union[str, Path], img_dir: Union[str, Path],
                         out_file: Union[str, Path], score_thr: float = 0.1,
                         nms_thr: float = 1.0, device: str = 'cpu') -> List[dict]:
    """Run a bottom-up MMPose model on the images of a COCO file, without its box NMS.

    ``model.test_cfg`` gets ``score_thr`` and ``nms_thr`` (1.0 = no box NMS in RTMO-style
    heads), so every instance above the score threshold is written, ready for
    :func:`evaluate_coco_results` with any NMS.

    Args:
        config (str | Path): model config (bottom-up, e.g. an RTMO config).
        checkpoint (str, optional): weights; None keeps the initialisation.
        ann_file (str | Path): COCO annotation json listing the images.
        img_dir (str | Path): folder of the images (``file_name`` relative to it).
        out_file (str | Path): results json to write.
        score_thr (float): instance score threshold of the head.
        nms_thr (float): box-NMS IoU threshold of the head (1.0 disables it).
        device (str): torch device.

    Returns:
        list[dict]: the written entries (``image_id``, ``category_id``, ``keypoints``,
        ``score`` = instance score, ``bbox`` xywh). Instances with NaN/inf values are
        dropped with a warning.
    """
    from mmpose.apis import inference_bottomup, init_model

    test_cfg = dict(score_thr=score_thr, nms_thr=nms_thr)
    model = init_model(str(config), checkpoint, device=device,
                       cfg_options=dict(model=dict(test_cfg=test_cfg)))
    with open(ann_file) as f:
        images = json.load(f).get('images')
    if not images:
        raise ValueError(f'{ann_file}: no "images" entries')
    results, dropped = [], 0
    for img in images:
        path = Path(img_dir) / img['file_name']
        if not path.is_file():
            raise FileNotFoundError(f'{ann_file}: image {img["file_name"]} not found in {img_dir}')
        inst = inference_bottomup(model, str(path))[0].pred_instances
        if 'bbox_scores' not in inst:
            inst.bbox_scores = inst.scores
        entries = to_coco_results(inst, int(img['id']), decimals=None)
        dropped += len(inst) - len(entries)  # COCO evaluation cannot take NaN / inf values
        results += entries
    if dropped:
        warnings.warn(f'dump_raw_predictions: dropped {dropped} instances with NaN/inf '
                      f'keypoints, scores or boxes ({config}, checkpoint {checkpoint})')
    write_json(results, out_file)
    return results
