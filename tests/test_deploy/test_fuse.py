"""BatchNorm folding and RepVGG merging compute what the unfused layers compute."""
import pytest
import torch
from torch import nn

from rtmo_plugin.deploy import count_batchnorms, fuse_conv_bn, fuse_linear_bn, fuse_module_tree, merge_parallel_convs


def _random_bn(bn: nn.modules.batchnorm._BatchNorm) -> nn.modules.batchnorm._BatchNorm:
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.2, 3.0)
    bn.weight.data.uniform_(0.5, 1.5)
    bn.bias.data.uniform_(-0.5, 0.5)
    return bn.eval()


@pytest.mark.parametrize("groups,bias", [(1, False), (4, True)])
def test_fuse_conv_bn_matches_conv_then_bn(groups: int, bias: bool) -> None:
    conv = nn.Conv2d(8, 12, 3, padding=1, groups=groups, bias=bias)
    bn = _random_bn(nn.BatchNorm2d(12, eps=1e-3))
    x = torch.randn(2, 8, 9, 7)
    fused = fuse_conv_bn(conv, bn)
    torch.testing.assert_close(fused(x), bn(conv(x)), rtol=1e-5, atol=1e-5)
    assert fused.groups == groups and fused.bias is not None


def test_fuse_linear_bn_matches_linear_then_bn1d() -> None:
    linear = nn.Linear(16, 24)
    bn = _random_bn(nn.BatchNorm1d(24))
    x = torch.randn(5, 16)
    torch.testing.assert_close(fuse_linear_bn(linear, bn)(x), bn(linear(x)), rtol=1e-5, atol=1e-5)


def test_fuse_rejects_mismatched_channels() -> None:
    with pytest.raises(ValueError, match="channels"):
        fuse_conv_bn(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(5))
    with pytest.raises(ValueError, match="features"):
        fuse_linear_bn(nn.Linear(3, 4), nn.BatchNorm1d(5))


def test_merge_parallel_convs_is_the_sum() -> None:
    conv3 = nn.Conv2d(6, 6, 3, padding=1)
    conv1 = nn.Conv2d(6, 6, 1)
    x = torch.randn(1, 6, 8, 8)
    torch.testing.assert_close(merge_parallel_convs(conv3, conv1)(x), conv3(x) + conv1(x), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="geometries"):
        merge_parallel_convs(conv3, nn.Conv2d(6, 6, 1, stride=2))


@torch.no_grad()
def test_fused_backbone_and_neck_have_no_batchnorm_and_same_output(rtmo_t_ours) -> None:
    backbone = fuse_module_tree(rtmo_t_ours.backbone)
    neck = fuse_module_tree(rtmo_t_ours.neck)
    assert count_batchnorms(backbone) == 0 and count_batchnorms(neck) == 0
    assert count_batchnorms(rtmo_t_ours.backbone) > 0, "the source model must stay unfused"
    x = torch.rand(1, 3, 128, 128) * 255
    ref = rtmo_t_ours.neck(rtmo_t_ours.backbone(x))
    got = neck(backbone(x))
    for r, g in zip(ref, got):
        torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-3)
