"""Skeleton overlays and training curves for the demo (OpenCV + matplotlib, no display needed)."""
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .figure import COCO_SKELETON_1BASED

_PALETTE = ((255, 128, 0), (0, 200, 255), (80, 255, 80), (255, 64, 255), (64, 64, 255), (0, 255, 200))


def draw_poses(img: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, boxes: Optional[np.ndarray] = None,
               box_scores: Optional[np.ndarray] = None, kpt_thr: float = 0.3,
               skeleton: Sequence = COCO_SKELETON_1BASED, instance_thr: float = 0.0) -> np.ndarray:
    """Draw boxes, limbs and joints of every instance on a copy of ``img``.

    Args:
        img: (H, W, 3) BGR uint8 image.
        keypoints: (N, K, 2) keypoints in image pixels.
        scores: (N, K) keypoint scores; joints below ``kpt_thr`` are not drawn.
        boxes: (N, 4) xyxy boxes or None.
        box_scores: (N,) instance scores (printed next to the box) or None.
        kpt_thr: visibility threshold on ``scores``.
        skeleton: limb list, 1-based keypoint indices (COCO convention).
        instance_thr: instances whose ``box_scores`` is below this are not drawn.

    Returns:
        np.ndarray: the annotated copy.
    """
    out = img.copy()
    thick = max(1, int(round(min(img.shape[:2]) / 200)))
    for i in range(len(keypoints)):
        color = _PALETTE[i % len(_PALETTE)]
        kp, sc = np.asarray(keypoints[i]), np.asarray(scores[i])
        if not np.isfinite(kp).all() or (boxes is not None and not np.isfinite(boxes[i]).all()):
            continue
        if box_scores is not None and float(box_scores[i]) < instance_thr:
            continue
        if boxes is not None:
            x0, y0, x1, y1 = (int(round(v)) for v in boxes[i])
            cv2.rectangle(out, (x0, y0), (x1, y1), color, 1)
            if box_scores is not None:
                cv2.putText(out, f"{float(box_scores[i]):.2f}", (x0, max(10, y0 - 3)), cv2.FONT_HERSHEY_SIMPLEX,
                            0.35 * thick, color, 1, cv2.LINE_AA)
        for a, b in skeleton:
            if sc[a - 1] >= kpt_thr and sc[b - 1] >= kpt_thr:
                cv2.line(out, tuple(int(round(v)) for v in kp[a - 1]), tuple(int(round(v)) for v in kp[b - 1]),
                         color, thick + 1, cv2.LINE_AA)
        for (x, y), s in zip(kp, sc):
            if s >= kpt_thr:
                cv2.circle(out, (int(round(x)), int(round(y))), thick + 1, (255, 255, 255), -1, cv2.LINE_AA)
    return out


def with_final_evaluation(ap_steps: List[int], aps: Dict[str, List[float]], final_step: int,
                          final_aps: Dict[str, float]) -> Tuple[List[int], Dict[str, List[float]]]:
    """The validation curve with the run's final evaluation as its last point.

    When a wall-clock budget stops training between two validations, the last validation is older than the
    final weights; this appends the final evaluation at ``final_step`` (unless a validation already ran there).

    Args:
        ap_steps: iteration of every validation during training.
        aps: name -> values (same length as ``ap_steps``).
        final_step: iteration of the final weights.
        final_aps: name -> the final evaluation's value, for every name in ``aps``.

    Returns:
        tuple: the new steps and values (the inputs are not modified).

    Raises:
        KeyError: when ``final_aps`` lacks one of the curve's names.
    """
    steps = list(ap_steps)
    curves = {name: list(values) for name, values in aps.items()} if steps else {name: [] for name in final_aps}
    if steps and steps[-1] >= final_step:
        return steps, curves
    missing = sorted(set(curves) - set(final_aps))
    if missing:
        raise KeyError(f"with_final_evaluation: the final evaluation has no value for {missing}")
    steps.append(final_step)
    for name in curves:
        curves[name].append(float(final_aps[name]))
    return steps, curves


def plot_curves(loss_steps: List[int], losses: Dict[str, List[float]], ap_steps: List[int],
                aps: Dict[str, List[float]], out_file: Path, title: str = "",
                val_title: str = "validation AP (synthetic val split)") -> None:
    """Training losses (left) and validation AP (right) against the iteration, saved as a PNG.

    Args:
        loss_steps: iteration of every loss sample.
        losses: name -> values (same length as ``loss_steps``).
        ap_steps: iteration of every evaluation.
        aps: name -> values (same length as ``ap_steps``).
        out_file: PNG path.
        title: figure title.
        val_title: title of the AP panel.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_l, ax_r) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=90)
    for name, values in losses.items():
        ax_l.plot(loss_steps, values, label=name, linewidth=1)
    ax_l.set_xlabel("iteration")
    ax_l.set_ylabel("loss")
    ax_l.set_title("training loss")
    ax_l.legend(fontsize=7)
    for name, values in aps.items():
        ax_r.plot(ap_steps, values, marker="o", label=name)
    ax_r.set_xlabel("iteration")
    ax_r.set_ylim(0, 1)
    ax_r.set_title(val_title)
    ax_r.grid(alpha=0.3)
    ax_r.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    Path(out_file).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(str(out_file))
    plt.close(fig)
