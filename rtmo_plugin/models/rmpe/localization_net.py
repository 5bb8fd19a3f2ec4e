"""Localisation network of the RMPE spatial transformer: image -> 2×3 affine θ."""
from typing import Sequence, Tuple

import torch
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class AffineLocalizationNet(BaseModule):
    """Small CNN regressing the STN parameters θ = [θ1 θ2 θ3] (2×3) from the proposal crop.

    The image is first resized to ``in_size``; conv blocks (conv 3×3, BN, ReLU, max-pool 2)
    follow, then average pooling to a ``pool_size`` grid and two fully connected layers.
    With the default ``(1, 1)`` (global pooling) the features keep almost no information on
    *where* the person is (only the zero padding's border effects), so learning to re-centre
    is slow; a grid such as ``(4, 3)`` keeps a coarse layout for the fully connected layers
    (see ``tests/test_models/test_rmpe/test_stn_centring.py`` for the measured difference). The last layer starts
    at θ = identity (the whole enlarged proposal) with small random weights, so training
    begins as a plain top-down model and every layer receives gradients from the first step.

    Args:
        in_channels (int): image channels.
        channels (Sequence[int]): output channels of the conv blocks.
        in_size (tuple[int, int]): ``(h, w)`` the input is resized to.
        hidden (int): width of the hidden fully connected layer.
        init_std (float): std of the last layer's initial weights.
        pool_size (tuple[int, int]): ``(h, w)`` grid of the average pooling before the fully
            connected layers; ``(1, 1)`` is global average pooling.
        max_offset (float, optional): if given, θ = identity + max_offset·tanh(raw) bounds
            every entry's deviation from the identity; with ``max_offset < 0.5`` the 2×2 part
            keeps ``det ≥ 1 − 2·max_offset > 0``, so θ stays invertible for the SDTN. None =
            unbounded.
    """

    def __init__(self,
                 in_channels: int = 3,
                 channels: Sequence[int] = (16, 32, 64),
                 in_size: Tuple[int, int] = (64, 48),
                 hidden: int = 64,
                 init_std: float = 1e-3,
                 max_offset: float = 0.4,
                 pool_size: Tuple[int, int] = (1, 1)) -> None:
        super().__init__()
        if max_offset is not None and not 0 < max_offset < 0.5:
            raise ValueError(f'AffineLocalizationNet: max_offset must be in (0, 0.5), got '
                             f'{max_offset}')
        self.in_size = tuple(in_size)
        self.max_offset = max_offset
        layers, c_in = [], in_channels
        for c_out in channels:
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                       nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c_in = c_out
        pool_h, pool_w = (int(v) for v in pool_size)
        if pool_h < 1 or pool_w < 1:
            raise ValueError(f'AffineLocalizationNet: pool_size must be positive, got {pool_size}')
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d((pool_h, pool_w)), nn.Flatten())
        self.fc = nn.Sequential(nn.Linear(c_in * pool_h * pool_w, hidden), nn.ReLU(inplace=True))
        self.theta_fc = nn.Linear(hidden, 6)
        self.register_buffer('identity', torch.tensor([[1., 0., 0.], [0., 1., 0.]]),
                             persistent=False)
        self._init_std = init_std
        self._init_theta_layer()

    def _init_theta_layer(self) -> None:
        """Identity start for θ: zero bias around the identity, tiny random weights."""
        nn.init.normal_(self.theta_fc.weight, std=self._init_std)
        nn.init.zeros_(self.theta_fc.bias)

    def init_weights(self) -> None:
        """Initialise as configured, then restore the identity start of θ."""
        super().init_weights()
        self._init_theta_layer()

    def forward(self, images: Tensor) -> Tensor:
        """Regress θ.

        Args:
            images (Tensor): ``(B, C, H, W)`` proposal crops.

        Returns:
            Tensor: ``(B, 2, 3)`` θ in normalised coordinates (``F.affine_grid`` convention).
        """
        x = nn.functional.interpolate(images, size=self.in_size, mode='bilinear',
                                      align_corners=False)
        raw = self.theta_fc(self.fc(self.features(x))).view(-1, 2, 3)
        if self.max_offset is not None:
            raw = self.max_offset * torch.tanh(raw)
        return self.identity + raw
