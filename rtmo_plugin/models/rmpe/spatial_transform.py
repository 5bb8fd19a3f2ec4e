"""Spatial transformer (STN) and spatial de-transformer (SDTN) of the RMPE SSTN (§3.2).

All matrices act on normalised coordinates in ``[-1, 1]`` (``F.affine_grid`` convention with
``align_corners=False``), so the same θ applies to an image and to its heatmaps.

STN: the transformed crop samples the source at ``[x_s, y_s]ᵀ = θ · [x_t, y_t, 1]ᵀ``,
θ = [θ1 θ2 θ3] (2×3).  SDTN: ``[x_t, y_t]ᵀ = γ · [x_s, y_s, 1]ᵀ`` with
``[γ1 γ2] = [θ1 θ2]⁻¹`` and ``γ3 = −[γ1 γ2] · θ3``; resampling the crop's heatmaps with γ
puts them back into the source frame, and gradients reach θ through γ.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def detransform_theta(theta: Tensor, eps: float = 1e-6) -> Tensor:
    """γ of the SDTN: the inverse affine map of θ (closed-form 2×2 inverse, differentiable).

    Args:
        theta (Tensor): ``(B, 2, 3)`` STN parameters [θ1 θ2 θ3].
        eps (float): determinants with ``|det| < eps`` raise an error (θ not invertible).

    Returns:
        Tensor: ``(B, 2, 3)`` γ = [γ1 γ2 γ3].
    """
    if theta.dim() != 3 or tuple(theta.shape[1:]) != (2, 3):
        raise ValueError(f'theta must have shape (B, 2, 3), got {tuple(theta.shape)}')
    a, b, c, d = theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1]
    det = a * d - b * c
    if bool((det.abs() < eps).any()):
        raise ValueError(f'theta is (nearly) singular: |det [θ1 θ2]| < {eps}')
    inv = torch.stack([torch.stack([d, -b], -1), torch.stack([-c, a], -1)], 1) / det[:, None, None]
    gamma3 = -(inv @ theta[:, :, 2:])  # γ3 = −[γ1 γ2]·θ3, (B, 2, 1)
    return torch.cat([inv, gamma3], dim=2)


def apply_affine(points: Tensor, matrix: Tensor) -> Tensor:
    """Map normalised points with a 2×3 matrix: ``p' = M[:, :2] p + M[:, 2]``.

    Args:
        points (Tensor): ``(B, K, 2)`` normalised coordinates.
        matrix (Tensor): ``(B, 2, 3)``.

    Returns:
        Tensor: ``(B, K, 2)``.
    """
    return points @ matrix[:, :, :2].transpose(1, 2) + matrix[:, None, :, 2]


def pixels_to_normalised(points: Tensor, size: Tuple[int, int]) -> Tensor:
    """Pixel coordinates (pixel centres at integers, MMPose/OpenCV convention) to [-1, 1].

    Args:
        points (Tensor): ``(..., 2)`` x, y in pixels of an image of ``size = (w, h)``.
        size (tuple[int, int]): ``(w, h)``.

    Returns:
        Tensor: ``(..., 2)`` normalised (``align_corners=False``: -1 / 1 are the outer edges).
    """
    wh = points.new_tensor(size)
    return (points + 0.5) / wh * 2 - 1


def normalised_to_pixels(points: Tensor, size: Tuple[int, int]) -> Tensor:
    """Inverse of :func:`pixels_to_normalised`."""
    wh = points.new_tensor(size)
    return (points + 1) / 2 * wh - 0.5


def stn_sample(images: Tensor, theta: Tensor) -> Tensor:
    """STN sampler: the transformed crop, same size as the input.

    Args:
        images (Tensor): ``(B, C, H, W)``.
        theta (Tensor): ``(B, 2, 3)``.

    Returns:
        Tensor: ``(B, C, H, W)`` with ``out(p_t) = images(θ·[p_t; 1])`` (zeros outside).
    """
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode='bilinear', padding_mode='zeros',
                         align_corners=False)


def sdtn_sample(heatmaps: Tensor, theta: Tensor) -> Tensor:
    """SDTN: resample maps predicted on the STN crop back into the source frame using γ.

    Args:
        heatmaps (Tensor): ``(B, K, h, w)`` maps in the transformed-crop frame.
        theta (Tensor): ``(B, 2, 3)`` the STN parameters that produced the crop.

    Returns:
        Tensor: ``(B, K, h, w)`` maps in the source (enlarged proposal) frame.
    """
    return stn_sample(heatmaps, detransform_theta(theta))
