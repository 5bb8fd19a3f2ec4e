"""STN / SDTN geometry: γ inverts θ for points and images; gradients flow to θ."""
import pytest
import torch

from rtmo_plugin.models.rmpe import (
    apply_affine,
    detransform_theta,
    normalised_to_pixels,
    pixels_to_normalised,
    sdtn_sample,
    stn_sample,
)


def _theta(b: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    eye = torch.tensor([[1., 0., 0.], [0., 1., 0.]])
    return eye * torch.tensor([[0.6, 1, 1], [1, 0.7, 1]]) + 0.1 * torch.randn(b, 2, 3, generator=g)


def test_gamma_formula_and_point_round_trip():
    theta = _theta()
    gamma = detransform_theta(theta)
    a_inv = torch.linalg.inv(theta[:, :, :2])
    torch.testing.assert_close(gamma[:, :, :2], a_inv)  # [γ1 γ2] = [θ1 θ2]⁻¹
    torch.testing.assert_close(gamma[:, :, 2:], -a_inv @ theta[:, :, 2:])  # γ3 = −[γ1 γ2]θ3
    pts = torch.rand(3, 17, 2) * 2 - 1
    torch.testing.assert_close(apply_affine(apply_affine(pts, theta), gamma), pts)
    torch.testing.assert_close(apply_affine(apply_affine(pts, gamma), theta), pts)


def test_pixel_normalised_round_trip():
    pts = torch.rand(2, 5, 2) * 50
    torch.testing.assert_close(normalised_to_pixels(pixels_to_normalised(pts, (48, 64)),
                                                    (48, 64)), pts)
    # pixel centres of a 4-wide image sit at -0.75, -0.25, 0.25, 0.75
    x = pixels_to_normalised(torch.tensor([[0., 0.], [3., 0.]]), (4, 4))[:, 0]
    torch.testing.assert_close(x, torch.tensor([-0.75, 0.75]))


def test_sdtn_undoes_stn_on_images():
    h, w = 64, 48
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing='ij')
    img = torch.stack([torch.sin(2 * xs) + ys, torch.cos(3 * ys) * xs])[None].repeat(3, 1, 1, 1)
    theta = _theta()
    back = sdtn_sample(stn_sample(img, theta), theta)
    # valid where γ·p falls inside the crop: compare there (bilinear twice -> small error)
    grid = torch.stack([xs, ys], -1).reshape(1, -1, 2).repeat(3, 1, 1)
    inside = (apply_affine(grid, detransform_theta(theta)).abs() < 0.95).all(-1).reshape(3, 1, h, w)
    assert inside.float().mean() > 0.2
    err = (back - img).abs()[inside.expand_as(img)]
    assert err.max() < 0.05


def test_gradients_reach_theta_through_both_transforms():
    img = torch.rand(2, 3, 32, 24)
    theta = _theta(2).requires_grad_(True)
    heat = stn_sample(img, theta).mean(1, keepdim=True)
    loss = (sdtn_sample(heat, theta) * torch.rand(2, 1, 32, 24)).sum()
    loss.backward()
    assert theta.grad is not None and torch.isfinite(theta.grad).all()
    assert theta.grad.abs().sum() > 0


def test_singular_theta_raises():
    with pytest.raises(ValueError, match='singular'):
        detransform_theta(torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match='shape'):
        detransform_theta(torch.zeros(2, 3))


def test_heatmap_and_coordinate_detransforms_agree():
    from rtmo_plugin.models.rmpe import SSTNTopdownEstimator
    w, h = 48, 64
    theta = torch.tensor([[[0.5, 0.05, 0.2], [0.0, 0.6, -0.1]]])
    src = torch.tensor([[[20.0, 30.0]]])  # a joint in the proposal image, pixels
    # where the STN crop shows it: t = γ·s
    t = normalised_to_pixels(apply_affine(pixels_to_normalised(src, (w, h)),
                                          detransform_theta(theta)), (w, h))
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32),
                            torch.arange(w, dtype=torch.float32), indexing='ij')
    heat = torch.exp(-((xs - t[0, 0, 0])**2 + (ys - t[0, 0, 1])**2) / (2 * 1.5**2))[None, None]
    back = sdtn_sample(heat, theta)[0, 0]
    peak = back.flatten().argmax()
    assert abs(int(peak % w) - 20) <= 1 and abs(int(peak // w) - 30) <= 1
    coords = SSTNTopdownEstimator._coords_to_proposal(t / torch.tensor([w, h]), theta, w, h)
    torch.testing.assert_close(coords * torch.tensor([w, h]), src)
