"""The demo loop behind ``tools/demo.py``: read frames, infer in batches, draw, write images/video + JSON."""
from pathlib import Path
from typing import Dict, List, Optional, Union

import cv2

from ..evaluation.coco_results import to_coco_results, write_json
from .image_inputs import to_bgr_uint8
from .inferencer import RTMOInferencer
from .rmpe_inferencer import RMPEInferencer
from .sources import Frame, FrameSource
from .visualization import draw_poses, skeleton_from_meta


def _image_id(frame: Frame, source: FrameSource):
    """COCO image id: the numeric file stem for image files (COCO names), else the frame index."""
    stem = Path(frame.name).stem
    return int(stem) if not source.is_stream and stem.isdigit() else frame.index


def run_demo(inferencer: Union[RTMOInferencer, RMPEInferencer], source: FrameSource, out_dir: Path,
             kpt_thr: float = 0.3, progress: bool = True, save_vis: bool = True) -> Dict:
    """Run pose estimation over ``source`` and write the outputs into ``out_dir``.

    Writes ``out_dir/<image name>`` (images/folders) or ``out_dir/<stem>.mp4`` (videos/webcams) with skeletons,
    boxes and scores drawn, and ``out_dir/<stem>_predictions.json`` (COCO results with ``file_name``).

    Args:
        inferencer (RTMOInferencer | RMPEInferencer): the model runner (its batch size sets how many frames go per
            call; it gets the frames' names too, which RMPE's file box sources match).
        source (FrameSource): the frames.
        out_dir (Path): output folder (created).
        kpt_thr (float): keypoint score threshold for drawing.
        progress (bool): show a tqdm progress bar.
        save_vis (bool): write the annotated images/video.

    Returns:
        dict: ``frames``, ``instances``, ``json`` path, ``visualisation`` path(s) folder/video.
    """
    from tqdm import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    skeleton = skeleton_from_meta(inferencer.dataset_meta, inferencer.num_keypoints)
    writer: Optional[cv2.VideoWriter] = None
    video_path = out_dir / f"{source.stem}.mp4"
    entries: List[Dict] = []
    frames = instances = 0
    method = "RMPE" if isinstance(inferencer, RMPEInferencer) else "RTMO"
    bar = tqdm(total=source.total, desc=f"{method} {source.kind}", unit="frame", disable=not progress)

    def flush(batch: List[Frame]) -> None:
        nonlocal writer, frames, instances
        preds = inferencer([f.image for f in batch], names=[f.name for f in batch])
        for frame, pred in zip(batch, preds):
            entries.extend(to_coco_results(pred, _image_id(frame, source), extra=dict(file_name=frame.name)))
            frames += 1
            instances += len(pred)
            if save_vis:
                vis = draw_poses(to_bgr_uint8(frame.image, frame.name), pred, skeleton, kpt_thr)
                if source.is_stream:
                    if writer is None:
                        h, w = vis.shape[:2]
                        writer = cv2.VideoWriter(str(video_path), cv2.VideoWriter_fourcc(*"mp4v"), source.fps, (w, h))
                    writer.write(vis)
                else:
                    cv2.imwrite(str(out_dir / frame.name), vis)
        bar.update(len(batch))

    batch: List[Frame] = []
    try:
        for frame in source:
            batch.append(frame)
            if len(batch) == inferencer.batch_size:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    finally:
        bar.close()
        if writer is not None:
            writer.release()
    json_path = write_json(entries, out_dir / f"{source.stem}_predictions.json")
    return dict(frames=frames, instances=instances, json=json_path,
                visualisation=(video_path if source.is_stream else out_dir) if save_vis else None)
