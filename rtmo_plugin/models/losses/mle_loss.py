"""Maximum-likelihood loss for coordinate classification with a learned, per-keypoint sigma (RTMO, Sec. 3.3)."""
from typing import Optional

import torch
from mmpose.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class MLECoordClsLoss(nn.Module):
    r"""MLE coordinate-classification loss.

    The DCC predicts 1-D distributions ``p_x`` over x-bins and ``p_y`` over y-bins for each keypoint. The target is
    a Laplace-shaped heat-map centred on the ground truth whose spread is *predicted* (``sigma``), scaled by the
    instance size ``s = max(sqrt(area), 1)``:

    .. math::

        h_x(b) = \frac{1}{\sigma} \exp\Big(-\frac{|x_b - x^{gt}|}{2\,\sigma\,s}\Big), \qquad
        P_k = \Big(\sum_b p_x(b)\, h_x(b)\Big)\Big(\sum_b p_y(b)\, h_y(b)\Big), \qquad
        L_k = -\log(P_k + 10^{-4})\, w_k

    ``sigma`` (clamped to >= 1e-3) is not detached: the ``1/sigma`` normaliser pushes it up while the exponential
    pushes it down where the prediction is off, so sigma learns the keypoint's localisation uncertainty. Because
    ``h`` is not normalised over the bins, ``P_k`` may exceed 1 and the loss may be negative; this is expected.
    NaNs (e.g. from invisible keypoints with degenerate boxes) are zeroed.

    Note:
        - instances: N, keypoints: K, x-bins: Bx, y-bins: By

    Args:
        use_target_weight (bool): multiply by keypoint weights ``w`` (visibility). Defaults to True.
        loss_weight (float): overall factor. Defaults to 1.0.
        reduction (str): 'instance' -> mean over keypoints, one value per instance ``(N,)`` (what RTMO logs);
            'mean' -> scalar mean over ``N x K``; 'sum' -> scalar sum; 'none' -> ``(N, K)``. Defaults to 'instance'.
        eps (float): added to ``P_k`` inside the log. Defaults to 1e-4.
    """

    _REDUCTIONS = ("instance", "mean", "sum", "none")

    def __init__(self,
                 use_target_weight: bool = True,
                 loss_weight: float = 1.0,
                 reduction: str = "instance",
                 eps: float = 1e-4) -> None:
        super().__init__()
        if reduction not in self._REDUCTIONS:
            raise ValueError(f"MLECoordClsLoss: reduction must be one of {self._REDUCTIONS}, got {reduction!r}")
        self.use_target_weight = use_target_weight
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.eps = eps

    @staticmethod
    def target_heatmap(bins: Tensor, coords: Tensor, sigmas: Tensor, areas: Tensor) -> Tensor:
        """Laplace-shaped, sigma-normalised 1-D target ``h(b)`` for one axis.

        Args:
            bins (Tensor): ``(N, B)`` absolute bin coordinates.
            coords (Tensor): ``(N, K)`` ground-truth coordinate on this axis.
            sigmas (Tensor): ``(N, K)`` predicted sigma.
            areas (Tensor): ``(N,)`` instance areas (pixels^2).

        Returns:
            Tensor: ``(N, K, B)``.
        """
        sigmas = sigmas.clamp(min=1e-3)
        size = areas.sqrt().clamp(min=1.0)[:, None, None]
        dist = (bins[:, None, :] - coords[..., None]).abs() / (sigmas[..., None] * size)
        return torch.exp(-dist / 2) / sigmas[..., None]

    def forward(self,
                x_probs: Tensor,
                y_probs: Tensor,
                x_bins: Tensor,
                y_bins: Tensor,
                target: Tensor,
                sigmas: Tensor,
                areas: Tensor,
                target_weight: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            x_probs (Tensor): ``(N, K, Bx)`` predicted x distributions.
            y_probs (Tensor): ``(N, K, By)`` predicted y distributions.
            x_bins (Tensor): ``(N, Bx)`` absolute x-bin coordinates.
            y_bins (Tensor): ``(N, By)`` absolute y-bin coordinates.
            target (Tensor): ``(N, K, 2)`` ground-truth keypoints.
            sigmas (Tensor): ``(N, K)`` predicted sigmas.
            areas (Tensor): ``(N,)`` instance areas.
            target_weight (Tensor, optional): ``(N, K)`` keypoint weights; required if ``use_target_weight``.

        Returns:
            Tensor: see ``reduction``.
        """
        if x_probs.shape[:2] != target.shape[:2] or y_probs.shape[:2] != target.shape[:2]:
            raise ValueError(f"MLECoordClsLoss: probs {tuple(x_probs.shape)}/{tuple(y_probs.shape)} do not match "
                             f"target {tuple(target.shape)} in (N, K)")
        hm_x = self.target_heatmap(x_bins, target[..., 0], sigmas, areas)
        hm_y = self.target_heatmap(y_bins, target[..., 1], sigmas, areas)
        prob = (x_probs * hm_x).sum(-1) * (y_probs * hm_y).sum(-1)
        loss = -torch.log(prob + self.eps)
        if self.use_target_weight:
            if target_weight is None:
                raise ValueError("MLECoordClsLoss: use_target_weight=True needs target_weight (N, K)")
            loss = loss * target_weight
        loss = torch.where(torch.isnan(loss), torch.zeros_like(loss), loss)
        if self.reduction == "instance":
            loss = loss.mean(dim=-1)
        elif self.reduction == "mean":
            loss = loss.mean()
        elif self.reduction == "sum":
            loss = loss.sum()
        return loss * self.loss_weight
