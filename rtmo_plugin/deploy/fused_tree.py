"""Inference copies of backbone/neck module trees with every BatchNorm folded away.

The backbone (mmdet-style ``CSPDarknet``) and the neck (``HybridEncoder``) are generic MMPose modules built
from mmcv ``ConvModule`` (conv -> BN -> activation) and mmpose ``RepVGGBlock`` (3x3 conv-BN + 1x1 conv-BN -> act).
:func:`fuse_module_tree` returns a deep copy in which

* every ``ConvModule`` with order ``conv, norm, act`` becomes :class:`ConvAct` (one conv with bias + activation);
* every ``RepVGGBlock`` without an identity branch becomes one 3x3 :class:`ConvAct` (re-parameterised);
* mmcv ``Swish`` (``x * sigmoid(x)``) becomes the equivalent fused ``nn.SiLU``;
* an SPP block with parallel max-pools of sizes 5, 9, 13 (stride 1, same padding) becomes a cascade of three
  5x5 pools (:class:`CascadedSPP`): ``pool9 = pool5 o pool5`` and ``pool13 = pool5 o pool5 o pool5`` exactly
  (the implicit -inf padding makes the composed windows equal the large ones, clipped at the border), at a third
  of the comparisons.

The source module is never changed, so ``model.eval()`` results stay available next to the fused copy.
"""
import copy

import torch
from torch import Tensor, nn

from .fuse import fuse_conv_bn, merge_parallel_convs


class ConvAct(nn.Module):
    """A convolution (BN already folded in) followed by an optional activation.

    Args:
        conv (nn.Conv2d): the folded convolution.
        act (nn.Module | None): activation applied after it; None for a linear output.
    """

    def __init__(self, conv: nn.Conv2d, act: "nn.Module | None") -> None:
        super().__init__()
        self.conv = conv
        self.act = act if act is not None else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        """Apply conv then activation.

        Args:
            x (Tensor): ``(B, C_in, H, W)``.

        Returns:
            Tensor: ``(B, C_out, H', W')``.
        """
        return self.act(self.conv(x))


#: activation -> oneDNN post-op name of ``torch.ops.mkldnn._convolution_pointwise``
_ONEDNN_POST_OPS = {nn.SiLU: "swish", nn.ReLU: "relu", nn.Identity: "none"}


def onednn_available() -> bool:
    """Whether this torch build has oneDNN's fused convolution + activation CPU kernel."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_convolution_pointwise")


class OneDNNConvAct(ConvAct):
    """:class:`ConvAct` computed by oneDNN's fused kernel (conv + bias + activation in one pass, CPU, float32).

    Same parameters as :class:`ConvAct`; only the kernel differs. oneDNN handles every conv here, including the
    1x1 convs that PyTorch's default CPU dispatch sends to its slower GEMM fallback. Not exportable to ONNX
    (build the fast model with ``kernels='torch'`` for export).
    """

    def __init__(self, conv: nn.Conv2d, act: "nn.Module | None") -> None:
        super().__init__(conv, act)
        if type(self.act) not in _ONEDNN_POST_OPS:
            raise ValueError(f"no oneDNN post-op for activation {type(self.act).__name__}")
        self.post_op = _ONEDNN_POST_OPS[type(self.act)]

    def forward(self, x: Tensor) -> Tensor:
        """Same contract as :meth:`ConvAct.forward`."""
        conv = self.conv
        return torch.ops.mkldnn._convolution_pointwise(x, conv.weight, conv.bias, list(conv.padding),
                                                       list(conv.stride), list(conv.dilation), conv.groups,
                                                       self.post_op, [], "")


def use_onednn_kernels(module: nn.Module) -> nn.Module:
    """Replace every :class:`ConvAct` inside ``module`` (in place) by :class:`OneDNNConvAct` where supported.

    Args:
        module (nn.Module): a fused tree (see :func:`fuse_module_tree`).

    Returns:
        nn.Module: ``module``.
    """
    for name, child in list(module.named_children()):
        if type(child) is ConvAct and type(child.act) in _ONEDNN_POST_OPS and child.conv.padding_mode == "zeros":
            setattr(module, name, OneDNNConvAct(child.conv, child.act))
        else:
            use_onednn_kernels(child)
    return module


class CascadedSPP(nn.Module):
    """Spatial pyramid pooling ``conv2(cat[x, pool_5(x), pool_9(x), pool_13(x)])`` with cascaded 5x5 pools.

    Args:
        conv1 (nn.Module): input projection (already fused).
        conv2 (nn.Module): output projection (already fused).
        num_pools (int): number of pyramid levels (pool sizes 5, 9, 13, ... = 4 i + 1).
    """

    def __init__(self, conv1: nn.Module, conv2: nn.Module, num_pools: int) -> None:
        super().__init__()
        self.conv1 = conv1
        self.conv2 = conv2
        self.num_pools = num_pools
        self.pool = nn.MaxPool2d(5, stride=1, padding=2)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C_in, H, W)`` -> ``(B, C_out, H, W)``."""
        x = self.conv1(x)
        pyramid = [x]
        for _ in range(self.num_pools):
            pyramid.append(self.pool(pyramid[-1]))
        return self.conv2(torch.cat(pyramid, dim=1))


def _cascadable_spp(module: nn.Module) -> bool:
    pools = getattr(module, "poolings", None)
    if type(module).__name__ != "SPPBottleneck" or pools is None:
        return False
    for i, pool in enumerate(pools):
        size = (5 + 4 * i, 5 + 4 * i)
        if not (isinstance(pool, nn.MaxPool2d) and _pair(pool.kernel_size) == size and _pair(pool.stride) == (1, 1)
                and _pair(pool.padding) == (size[0] // 2, size[1] // 2) and _pair(pool.dilation) == (1, 1)
                and not pool.ceil_mode):
            return False
    return True


def _pair(v) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _plain_activation(act: "nn.Module | None") -> "nn.Module | None":
    """Map mmcv's Swish to the identical built-in ``nn.SiLU``; keep anything else as a copy."""
    if act is None:
        return None
    if type(act).__name__ == "Swish" or isinstance(act, nn.SiLU):
        return nn.SiLU()
    return copy.deepcopy(act)


def _fuse_conv_module(module: nn.Module) -> ConvAct:
    """Fold an mmcv ``ConvModule`` into a :class:`ConvAct`."""
    order = tuple(getattr(module, "order", ("conv", "norm", "act")))
    if order != ("conv", "norm", "act"):
        raise ValueError(f"ConvModule with order {order} is not supported by the BN folding")
    if getattr(module, "with_explicit_padding", False):
        raise ValueError("ConvModule with explicit padding layers is not supported by the BN folding")
    norm = module.norm if module.with_norm else None
    if norm is not None and not isinstance(norm, nn.modules.batchnorm._BatchNorm):
        raise ValueError(f"cannot fold a {type(norm).__name__} into a convolution")
    act = module.activate if module.with_activation else None
    return ConvAct(fuse_conv_bn(module.conv, norm), _plain_activation(act))


def _fuse_repvgg(module: nn.Module) -> ConvAct:
    """Re-parameterise a ``RepVGGBlock`` (3x3 conv-BN + 1x1 conv-BN, no identity) into one 3x3 conv + act."""
    if getattr(module, "branch_norm", None) is not None:
        raise ValueError("RepVGGBlock with an identity (branch_norm) branch is not supported by the folding")
    conv3 = _fuse_conv_module(module.branch_3x3)
    conv1 = _fuse_conv_module(module.branch_1x1)
    if not (isinstance(conv3.act, nn.Identity) and isinstance(conv1.act, nn.Identity)):
        raise ValueError("RepVGGBlock branches must be linear (act_cfg=None) to be merged")
    return ConvAct(merge_parallel_convs(conv3.conv, conv1.conv), _plain_activation(module.act))


def _is_conv_module(module: nn.Module) -> bool:
    return type(module).__name__ == "ConvModule" and hasattr(module, "conv") and hasattr(module, "order")


def _is_repvgg(module: nn.Module) -> bool:
    return type(module).__name__ == "RepVGGBlock" and hasattr(module, "branch_3x3") and hasattr(module, "branch_1x1")


def _fuse_children(module: nn.Module) -> None:
    for name, child in list(module.named_children()):
        if _cascadable_spp(child):
            setattr(module, name, CascadedSPP(_fuse_conv_module(child.conv1), _fuse_conv_module(child.conv2),
                                              len(child.poolings)))
        elif _is_repvgg(child):
            setattr(module, name, _fuse_repvgg(child))
        elif _is_conv_module(child):
            setattr(module, name, _fuse_conv_module(child))
        elif type(child).__name__ == "Swish":
            setattr(module, name, nn.SiLU())
        else:
            _fuse_children(child)


def fuse_module_tree(module: nn.Module) -> nn.Module:
    """Return an eval-mode deep copy of ``module`` with every foldable BatchNorm folded.

    Args:
        module (nn.Module): e.g. a ``CSPDarknet`` backbone or a ``HybridEncoder`` neck.

    Returns:
        nn.Module: the fused copy, in eval mode. Its forward computes what ``module.eval()`` computes.
    """
    fused = copy.deepcopy(module)
    fused.eval()  # some backbones override train() without returning self
    _fuse_children(fused)
    return fused


def count_batchnorms(module: nn.Module) -> int:
    """Number of BatchNorm layers left in ``module`` (0 after a full fold)."""
    return sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())
