"""Diagnostic: score the proxy-regression keypoints of a trained RTMO as if they were its output.

RTMO predicts keypoints with the DCC; the proxy branch (``kpt_reg``, trained with the OKS loss) reads the same pose
features, and in training only. Putting the proxy keypoints of the *same detections* in place of the DCC's shows
how much the features already know, so a gap between the two APs is the DCC's lag (docs/demo_recipe.md,
point 5). The model is not changed: inside the ``with`` block :meth:`RTMODCCHead.predict` returns the
proxy keypoints; after it, the DCC's again.
"""
from contextlib import contextmanager
from typing import Any, Dict, Iterator

import torch
from torch import Tensor

from rtmo_plugin.models.heads.rtmo_dcc_head import RTMODCCHead


@contextmanager
def proxy_keypoints_as_output(head: RTMODCCHead) -> Iterator[None]:
    """Make ``head.predict`` return each detection's proxy-regression keypoints instead of the DCC's.

    ``predict`` flattens the dense outputs once per batch and then decodes the kept detections image by image; the
    patched pieces keep the flattened outputs of the batch and count the images.

    Args:
        head: our RTMO head (the reference's has other internals).

    Raises:
        TypeError: if ``head`` is not an :class:`RTMODCCHead`.
    """
    if not isinstance(head, RTMODCCHead):
        raise TypeError(f"proxy_keypoints_as_output needs an RTMODCCHead, got {type(head).__name__}")
    module, dcc = head.head_module, head.dcc
    state: Dict[str, Any] = {}
    original_flatten, original_forward = head._flatten, module.forward

    def forward_with_proxy(feats):  # the proxy branch runs in training mode only; BatchNorms stay in eval mode
        was_training, module.training = module.training, True
        try:
            return original_forward(feats)
        finally:
            module.training = was_training

    def flatten_and_keep(outs):
        state["flat"], state["image"] = original_flatten(outs), 0
        return state["flat"]

    def proxy_keypoints(pose_vecs: Tensor, bboxes: Tensor, grids: Tensor) -> Tensor:
        flat, image = state["flat"], state["image"]
        state["image"] += 1
        if len(grids) == 0:
            return flat["keypoints"].new_zeros((0, head.num_keypoints, 2))
        # the detections' priors: nearest prior centre (centres are unique across levels)
        prior_index = torch.cdist(grids, flat["priors"][:, :2]).argmin(dim=1)
        return flat["keypoints"][image, prior_index]

    head._flatten, module.forward, dcc.forward_test = flatten_and_keep, forward_with_proxy, proxy_keypoints
    try:
        yield
    finally:
        del head._flatten, module.forward, dcc.forward_test  # the instance attributes shadowed the class methods
