"""1-D sinusoidal encoding of bin positions (the DCC's "sine positional encoding" of dynamic bins)."""
import torch
from torch import Tensor, nn


class SineBinEncoding(nn.Module):
    """Encode scalar positions ``p`` as ``[cos(p / t_i), sin(p / t_i)]`` with ``t_i = T^(i / (C/2))``.

    ``T`` is the temperature (300 in RTMO, small because positions are pixel offsets to the grid cell, not token
    indices). The frequency table is stored as the buffer ``dim_t`` (key ``head.dcc.spe.dim_t`` in checkpoints).

    Args:
        out_channels (int): encoding size ``C`` (even). Defaults to 128.
        temperature (float): ``T``. Defaults to 300.
    """

    def __init__(self, out_channels: int = 128, temperature: float = 300.0) -> None:
        super().__init__()
        if out_channels % 2:
            raise ValueError(f"SineBinEncoding: out_channels must be even, got {out_channels}")
        half = out_channels // 2
        self.register_buffer("dim_t", temperature ** (torch.arange(half, dtype=torch.float32) / half))

    def forward(self, positions: Tensor) -> Tensor:
        """Encode.

        Args:
            positions (Tensor): ``(...)`` positions (pixels).

        Returns:
            Tensor: ``(..., C)``.
        """
        phase = positions.unsqueeze(-1) / self.dim_t
        return torch.cat([phase.cos(), phase.sin()], dim=-1)
