"""Fold inference-mode BatchNorm into the preceding linear operator.

In eval mode a BatchNorm is the affine map ``y = (x - mu) / sqrt(var + eps) * gamma + beta``, so it can be folded
into the convolution or linear layer that feeds it: ``W' = W * a``, ``b' = (b - mu) * a + beta`` with
``a = gamma / sqrt(var + eps)`` (per output channel). The functions here build *new* layers; they never modify
the modules they read.
"""
from typing import Optional

import torch
from torch import Tensor, nn


def _bn_affine(bn: nn.modules.batchnorm._BatchNorm) -> "tuple[Tensor, Tensor]":
    """Per-channel ``(a, c)`` such that ``bn(x) == a * x + c`` in eval mode.

    Args:
        bn (nn.BatchNorm1d | nn.BatchNorm2d): a BatchNorm with running statistics.

    Returns:
        tuple[Tensor, Tensor]: scale ``a`` and shift ``c``, each of shape ``(C,)``.
    """
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(f"{bn!r} has no running statistics (track_running_stats=False); it cannot be folded")
    a = torch.rsqrt(bn.running_var.double() + bn.eps)
    if bn.weight is not None:
        a = a * bn.weight.double()
    c = -bn.running_mean.double() * a
    if bn.bias is not None:
        c = c + bn.bias.double()
    return a, c


@torch.no_grad()
def fuse_conv_bn(conv: nn.Conv2d, bn: Optional[nn.modules.batchnorm._BatchNorm]) -> nn.Conv2d:
    """Return a new ``Conv2d`` equal to ``bn(conv(x))`` (``conv`` itself when ``bn`` is None, as a copy).

    Args:
        conv (nn.Conv2d): convolution with weight ``(C_out, C_in / groups, kh, kw)``.
        bn (nn.BatchNorm2d | None): BatchNorm over ``C_out`` channels, in eval mode semantics.

    Returns:
        nn.Conv2d: a convolution with bias.
    """
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                      conv.dilation, conv.groups, bias=True, padding_mode=conv.padding_mode).to(conv.weight.device)
    weight = conv.weight.double()
    bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(weight[:, 0, 0, 0])
    if bn is not None:
        if bn.num_features != conv.out_channels:
            raise ValueError(f"BatchNorm has {bn.num_features} channels but the conv outputs {conv.out_channels}")
        a, c = _bn_affine(bn)
        weight = weight * a.view(-1, 1, 1, 1)
        bias = bias * a + c
    fused.weight.copy_(weight.to(conv.weight.dtype))
    fused.bias.copy_(bias.to(conv.weight.dtype))
    return fused


@torch.no_grad()
def fuse_linear_bn(linear: nn.Linear, bn: nn.modules.batchnorm._BatchNorm) -> nn.Linear:
    """Return a new ``Linear`` equal to ``bn(linear(x))`` for ``x`` of shape ``(N, C_in)``.

    Args:
        linear (nn.Linear): weight ``(C_out, C_in)``.
        bn (nn.BatchNorm1d): BatchNorm over ``C_out`` features.

    Returns:
        nn.Linear: the folded layer (with bias).
    """
    if bn.num_features != linear.out_features:
        raise ValueError(f"BatchNorm1d has {bn.num_features} features but the linear outputs {linear.out_features}")
    a, c = _bn_affine(bn)
    fused = nn.Linear(linear.in_features, linear.out_features, bias=True).to(linear.weight.device)
    bias = linear.bias.double() if linear.bias is not None else torch.zeros_like(a)
    fused.weight.copy_((linear.weight.double() * a[:, None]).to(linear.weight.dtype))
    fused.bias.copy_((bias * a + c).to(linear.weight.dtype))
    return fused


@torch.no_grad()
def merge_parallel_convs(conv_a: nn.Conv2d, conv_b: nn.Conv2d) -> nn.Conv2d:
    """Merge ``conv_a(x) + conv_b(x)`` into one conv (RepVGG re-parameterisation).

    ``conv_b``'s smaller square kernel is zero-padded to ``conv_a``'s size; both must share stride, groups and
    channel counts, and their paddings must keep the kernels centred (``pad = k // 2``).

    Args:
        conv_a (nn.Conv2d): the larger kernel, e.g. 3x3 with padding 1.
        conv_b (nn.Conv2d): the smaller kernel, e.g. 1x1 with padding 0.

    Returns:
        nn.Conv2d: a conv with ``conv_a``'s geometry.
    """
    ka, kb = conv_a.kernel_size[0], conv_b.kernel_size[0]
    compatible = (conv_a.stride == conv_b.stride and conv_a.groups == conv_b.groups
                  and conv_a.in_channels == conv_b.in_channels and conv_a.out_channels == conv_b.out_channels
                  and kb <= ka and (ka - kb) % 2 == 0
                  and conv_a.padding[0] - conv_b.padding[0] == (ka - kb) // 2)
    if not compatible:
        raise ValueError(f"cannot merge {conv_a!r} and {conv_b!r}: geometries differ")
    merged = fuse_conv_bn(conv_a, None)
    pad = (ka - kb) // 2
    merged.weight[:, :, pad:pad + kb, pad:pad + kb] += conv_b.weight
    if conv_b.bias is not None:
        merged.bias += conv_b.bias
    return merged
