"""Random RTMO weights that behave like a trained model at the output layers (for tests and benchmarks).

A freshly initialised RTMO predicts no person (class bias ``log(0.01/0.99)``) or, with random output layers,
degenerate boxes (``exp`` of large logits). Equivalence tests and speed measurements need detections with sane
boxes, so :func:`make_detecting` draws random BatchNorm statistics (so that folding BN is really exercised) and then
rescales every 1x1 output layer of the head, per output channel, so that on a calibration batch its outputs have a
chosen mean and spread: box centre offsets ~ N(0, 0.5) strides, log-sizes ~ N(log 3, 0.4) (boxes about 3 strides),
class logits with a chosen fraction above the score threshold.
"""
import math
from typing import Dict

import torch
from torch import Tensor, nn

# (target mean, target std) per output channel group of the head's 1x1 output convs
_BOX_XY = (0.0, 0.5)
_BOX_LOG_WH = (math.log(3.0), 0.4)
_VIS = (0.0, 2.0)
_POSE = (0.0, 1.0)


def _randomize_batchnorm(model: nn.Module, generator: torch.Generator) -> None:
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.running_var is not None:
            n = module.num_features
            module.running_mean.copy_((torch.rand(n, generator=generator) - 0.5) * 0.2)
            module.running_var.copy_(torch.rand(n, generator=generator) * 1.5 + 0.5)
            if module.weight is not None:
                module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.copy_((torch.rand(n, generator=generator) - 0.5) * 0.2)


def _retarget(conv: nn.Conv2d, out: Tensor, mean: Tensor, std: Tensor) -> None:
    """Affinely change ``conv`` so that its recorded output ``out (B, C, H, W)`` gets per-channel mean/std."""
    cur_mean = out.mean(dim=(0, 2, 3))
    cur_std = out.std(dim=(0, 2, 3)).clamp(min=1e-6)
    gain = std / cur_std
    conv.weight.mul_(gain.view(-1, 1, 1, 1))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(cur_mean)
    conv.bias.copy_((bias - cur_mean) * gain + mean)


@torch.no_grad()
def make_detecting(model: nn.Module, input_size: "tuple[int, int]", seed: int = 0, positive_fraction: float = 0.05,
                   score_thr: float = 0.1, batch_size: int = 2) -> nn.Module:
    """Make a randomly initialised RTMO estimator produce a realistic number of sane detections. In place.

    Args:
        model (nn.Module): ``BottomupPoseEstimator`` with an RTMO head (``head.head_module.out_*``).
        input_size (tuple[int, int]): ``(W, H)`` of the calibration images.
        seed (int): seed of the BN statistics and the calibration images.
        positive_fraction (float): wanted fraction of grid cells with score above ``score_thr`` (before NMS).
        score_thr (float): the score threshold used at inference.
        batch_size (int): calibration images (uniform noise in 0-255).

    Returns:
        nn.Module: ``model`` (eval mode).
    """
    generator = torch.Generator().manual_seed(seed)
    model.eval()
    _randomize_batchnorm(model, generator)
    width, height = input_size
    images = torch.rand(batch_size, 3, height, width, generator=generator) * 255
    head_module = model.head.head_module
    names = ("out_cls", "out_bbox", "out_kpt_vis", "out_pose")
    recorded: Dict[str, Tensor] = {}
    hooks = []
    for name in names:
        for level, conv in enumerate(getattr(head_module, name)):
            hooks.append(conv.register_forward_hook(
                lambda _m, _i, out, key=f"{name}.{level}": recorded.__setitem__(key, out.detach())))
    try:
        model.head.forward(model.extract_feat(images))
    finally:
        for hook in hooks:
            hook.remove()
    # logit threshold t = logit(score_thr); logits ~ N(mu, 1.5) with P(logit > t) = positive_fraction
    thr_logit = math.log(score_thr / (1 - score_thr))
    z = math.sqrt(2) * torch.erfinv(torch.tensor(1 - 2 * positive_fraction)).item()
    cls_std = 1.5
    for level, conv in enumerate(head_module.out_cls):
        _retarget(conv, recorded[f"out_cls.{level}"], torch.full((conv.out_channels,), thr_logit - z * cls_std),
                  torch.full((conv.out_channels,), cls_std))
    for level, conv in enumerate(head_module.out_bbox):
        mean = torch.tensor([_BOX_XY[0]] * 2 + [_BOX_LOG_WH[0]] * 2)
        std = torch.tensor([_BOX_XY[1]] * 2 + [_BOX_LOG_WH[1]] * 2)
        _retarget(conv, recorded[f"out_bbox.{level}"], mean, std)
    for name, (mean, std) in (("out_kpt_vis", _VIS), ("out_pose", _POSE)):
        for level, conv in enumerate(getattr(head_module, name)):
            _retarget(conv, recorded[f"{name}.{level}"], torch.full((conv.out_channels,), mean),
                      torch.full((conv.out_channels,), std))
    return model
