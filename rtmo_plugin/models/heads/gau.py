"""Gated attention unit (GAU) over the K keypoint tokens of one instance, as used inside RTMO's DCC.

Parameter names (``gamma``, ``beta``, ``uv``, ``o``, ``ln.g``, ``res_scale.scale``) match the released checkpoints'
``head.dcc.gau.*`` keys.
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from torch import Tensor, nn


class ScaleNorm(nn.Module):
    """Scale normalisation: ``x / max(||x|| / sqrt(d), eps) * g`` with one learnable scalar ``g``.

    Args:
        dim (int): feature size ``d``.
        eps (float): lower clamp of the scaled norm. Defaults to 1e-5.
    """

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.scale = dim ** -0.5
        self.eps = eps
        self.g = nn.Parameter(torch.ones(1))

    def forward(self, x: Tensor) -> Tensor:
        """Normalise the last dimension of ``x`` ``(..., d)``."""
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True) * self.scale
        return x / norm.clamp(min=self.eps) * self.g


class ChannelWiseScale(nn.Module):
    """Learnable per-channel multiplier (initialised to 1) on the residual path.

    Args:
        dim (int): number of channels (last dimension).
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        """Multiply ``x`` ``(..., dim)`` channel-wise."""
        return x * self.scale


class GatedAttentionUnit(nn.Module):
    """Single-head GAU (Hua et al., 2022) with squared-ReLU attention and an optional additive position encoding.

    For tokens ``x`` ``(N, T, d)``: ``h = ScaleNorm(x)``; ``[u, v, z] = act(W_uv h)`` with ``u, v`` of size
    ``e = expansion_factor * d`` and ``z`` of size ``s``; ``q = z * gamma_0 + beta_0 (+ pos)``,
    ``k = z * gamma_1 + beta_1 (+ pos)``; ``A = relu(q k^T / sqrt(s))^2``; ``y = W_o (u * (A v))``;
    output ``res_scale(x) + y`` (the residual needs ``in_dim == out_dim``).

    Args:
        in_dim (int): token size ``d``.
        out_dim (int): output token size.
        expansion_factor (int): ``e / d``. Defaults to 2.
        s (int): size of the shared query/key base ``z``. Defaults to 128.
        act (str): activation after ``W_uv`` ('SiLU' or 'ReLU'). Defaults to 'SiLU'.
        bias (bool): biases in ``W_uv`` and ``W_o``. Defaults to False.
        dropout_rate (float): dropout on the attention matrix. Defaults to 0.
        drop_path (float): stochastic-depth rate on the attention branch. Defaults to 0.
    """

    def __init__(self,
                 in_dim: int,
                 out_dim: int,
                 expansion_factor: int = 2,
                 s: int = 128,
                 act: str = "SiLU",
                 bias: bool = False,
                 dropout_rate: float = 0.0,
                 drop_path: float = 0.0) -> None:
        super().__init__()
        self.s = s
        self.e = int(in_dim * expansion_factor)
        self.uv = nn.Linear(in_dim, 2 * self.e + s, bias=bias)
        self.o = nn.Linear(self.e, out_dim, bias=bias)
        self.gamma = nn.Parameter(torch.rand(2, s))
        self.beta = nn.Parameter(torch.rand(2, s))
        self.ln = ScaleNorm(in_dim)
        if act not in ("SiLU", "ReLU"):
            raise ValueError(f"GatedAttentionUnit: act must be 'SiLU' or 'ReLU', got {act!r}")
        self.act = nn.SiLU(True) if act == "SiLU" else nn.ReLU(True)
        self.dropout = nn.Dropout(dropout_rate) if dropout_rate > 0 else nn.Identity()
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.use_residual = in_dim == out_dim
        if self.use_residual:
            self.res_scale = ChannelWiseScale(in_dim)
        nn.init.xavier_uniform_(self.uv.weight)

    def forward(self, x: Tensor, pos_enc: Optional[Tensor] = None) -> Tensor:
        """Attend over the tokens.

        Args:
            x (Tensor): ``(N, T, in_dim)``.
            pos_enc (Tensor, optional): ``(T, s)`` added to queries and keys.

        Returns:
            Tensor: ``(N, T, out_dim)``.
        """
        h = self.act(self.uv(self.ln(x)))
        u, v, z = torch.split(h, [self.e, self.e, self.s], dim=-1)
        qk = z.unsqueeze(-2) * self.gamma + self.beta  # (N, T, 2, s)
        if pos_enc is not None:
            qk = qk + pos_enc.unsqueeze(-2)
        q, k = qk.unbind(dim=-2)
        attn = F.relu(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.s)).square()
        y = self.o(u * torch.matmul(self.dropout(attn), v))
        y = self.drop_path(y)
        return self.res_scale(x) + y if self.use_residual else y
