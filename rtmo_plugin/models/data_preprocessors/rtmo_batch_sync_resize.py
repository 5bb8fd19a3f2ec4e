"""Multi-scale training: resize whole batches to a random size shared by every rank."""
import random
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine import MessageHub
from mmengine.dist import broadcast, get_dist_info
from mmengine.structures import PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from torch import Tensor


@MODELS.register_module()
class RTMOBatchSyncResize(nn.Module):
    """Resize each training batch (images and their targets) to a size drawn every ``interval`` iterations.

    Used as a ``batch_augments`` entry of MMPose's ``PoseDataPreprocessor``. The first batch keeps its size; after
    iteration ``i`` with ``(i + 1) % interval == 0`` rank 0 draws ``n ~ randint(lo, hi)`` (inclusive,
    ``lo, hi = round(random_size_range / size_divisor)``) with Python's ``random`` and broadcasts the new size
    ``(size_divisor * n, size_divisor * int(n * W / H))`` -- every rank trains on the same size (RTMO: 480..800 in
    steps of 32 for s/m/l, 320..640 for t). Images are resized bilinearly (``align_corners=False``); boxes and
    keypoints scale by ``(sx, sy)``, areas by ``sx * sy``, ``heatmap_mask`` is resized like the image.

    The iteration index comes from the message hub (set by the runner); outside a runner an internal counter of
    calls is used instead.

    Args:
        random_size_range (Tuple[int, int]): (min, max) side in pixels.
        interval (int): draw a new size every ``interval`` iterations. Defaults to 10.
        size_divisor (int): sizes are multiples of this. Defaults to 32.
    """

    def __init__(self, random_size_range: Tuple[int, int], interval: int = 10, size_divisor: int = 32) -> None:
        super().__init__()
        if len(random_size_range) != 2 or not 0 < random_size_range[0] <= random_size_range[1]:
            raise ValueError(f"RTMOBatchSyncResize: random_size_range must be (min, max) with 0 < min <= max, got "
                             f"{random_size_range}")
        if interval < 1 or size_divisor < 1:
            raise ValueError(f"RTMOBatchSyncResize: interval ({interval}) and size_divisor ({size_divisor}) must be "
                             ">= 1")
        self.size_range = (round(random_size_range[0] / size_divisor), round(random_size_range[1] / size_divisor))
        self.interval = interval
        self.size_divisor = size_divisor
        self.input_size: Optional[Tuple[int, int]] = None  # (H, W) the next batch is resized to
        self._calls = 0

    def forward(self, inputs: Tensor, data_samples: List[PoseDataSample]) -> Tuple[Tensor, List[PoseDataSample]]:
        """Resize ``inputs`` (B, C, H, W) and the samples' targets; then maybe draw the next size.

        Args:
            inputs (Tensor): (B, C, H, W) batch.
            data_samples (List[PoseDataSample]): the batch's samples (modified in place).

        Returns:
            tuple: resized inputs and samples.
        """
        h, w = inputs.shape[-2:]
        if self.input_size is None:
            self.input_size = (int(h), int(w))
        new_h, new_w = self.input_size
        sy, sx = new_h / h, new_w / w
        if (sx, sy) != (1.0, 1.0):
            inputs = F.interpolate(inputs, size=self.input_size, mode="bilinear", align_corners=False)
            for sample in data_samples:
                self._rescale_sample(sample, sx, sy)

        iteration = self._iteration()
        if (iteration + 1) % self.interval == 0:
            self.input_size = self.draw_size(w / h, inputs.device)
        return inputs, data_samples

    def _iteration(self) -> int:
        """Current training iteration (message hub), or the number of previous calls outside a runner."""
        calls, self._calls = self._calls, self._calls + 1
        info = MessageHub.get_current_instance().get_info("iter")
        return calls if info is None else int(info)

    def _rescale_sample(self, sample: PoseDataSample, sx: float, sy: float) -> None:
        """Scale one sample's meta shapes and targets by (sx, sy)."""
        meta = {"batch_input_shape": self.input_size}
        for key in ("img_shape", "pad_shape"):
            if key in sample.metainfo:
                shape = sample.metainfo[key]
                meta[key] = (int(shape[0] * sy), int(shape[1] * sx))
        sample.set_metainfo(meta)
        if "gt_instance_labels" in sample:
            labels = sample.gt_instance_labels
            if "bboxes" in labels:
                labels.bboxes[..., 0::2] *= sx
                labels.bboxes[..., 1::2] *= sy
            if "keypoints" in labels:
                labels.keypoints[..., 0] *= sx
                labels.keypoints[..., 1] *= sy
            if "areas" in labels:
                labels.areas *= sx * sy
        if "gt_fields" in sample and "heatmap_mask" in sample.gt_fields:
            mask = sample.gt_fields.heatmap_mask.float()[None]
            if mask.dim() == 3:
                mask = mask[None]
            fields = PixelData()
            fields.set_field(F.interpolate(mask, size=self.input_size, mode="bilinear",
                                           align_corners=False)[0], "heatmap_mask")
            sample.gt_fields = fields

    def draw_size(self, aspect_ratio: float, device: torch.device) -> Tuple[int, int]:
        """Draw the next (H, W) on rank 0 and broadcast it to all ranks.

        Args:
            aspect_ratio (float): W / H of the batch.
            device (torch.device): device of the broadcast tensor (the batch's).
        """
        size = torch.zeros(2, dtype=torch.long, device=device)
        rank, _ = get_dist_info()
        if rank == 0:
            n = random.randint(*self.size_range)
            size[0] = self.size_divisor * n
            size[1] = self.size_divisor * int(aspect_ratio * n)
        broadcast(size, 0)
        return int(size[0].item()), int(size[1].item())

    def extra_repr(self) -> str:
        return f"size_range={self.size_range} x {self.size_divisor}, interval={self.interval}"
