"""PGPG box augmentation for top-down training (RMPE §3.4; AlphaPose's DPG as 'simple' mode)."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

from rtmo_plugin.models.rmpe.pgpg import ALPHAPOSE_DPG, assign_atom, load_pgpg, sample_gmm


@TRANSFORMS.register_module()
class PoseGuidedProposals(BaseTransform):
    """Replace each person box by a proposal sampled around it, conditioned on the pose.

    Put it before ``GetBBoxCenterScale`` in a top-down pipeline. For every instance an offset
    ``δ = (δx1, δy1, δx2, δy2)`` (fractions of the box width / height) is drawn and
    ``x1 += δx1·w, y1 += δy1·h, x2 += δx2·w, y2 += δy2·h``; the box is clipped to the image and
    kept at least ``min_size`` px wide and high.

    - ``mode='atomic'`` (RMPE PGPG): the pose is torso-normalised, assigned to its nearest
      atomic pose of ``model_file`` (written by ``tools/fit_pgpg.py``) and δ is drawn from that
      atom's Gaussian mixture; poses with fewer than ``min_visible`` labelled joints use the
      mixture fitted on all offsets.
    - ``mode='simple'`` (AlphaPose ``addDPG``): with probability ``patch_prob`` a random
      sub-patch of relative size U(0.85, 1), else the single Gaussian
      δx1 ~ N(−0.0142, 0.1158), δy1 ~ N(0.0043, 0.068), δx2 ~ N(0.0154, 0.1337),
      δy2 ~ N(−0.0013, 0.0711).

    Required keys: ``bbox`` ``(N, 4)`` xyxy; ``keypoints`` ``(N, K, 2)`` and
    ``keypoints_visible`` ``(N, K)`` for 'atomic'; ``img_shape`` (optional, for clipping).
    Modified keys: ``bbox``. Added keys: ``bbox_before_pgpg``.

    Args:
        mode (str): ``'atomic'`` or ``'simple'``.
        model_file (str, optional): fitted PGPG JSON (required for 'atomic').
        prob (float): probability of augmenting an instance.
        patch_prob (float): probability of the sub-patch branch in 'simple' mode (0.15).
        min_visible (int): labelled joints needed to pick an atom.
        min_size (float): minimum box side in pixels after augmentation.
        seed (int, optional): a private random generator (reproducible; the same sequence in
            every dataloader worker); None uses numpy's global state, which mmengine seeds
            per worker.
    """

    def __init__(self, mode: str = 'atomic', model_file: Optional[str] = None, prob: float = 1.0,
                 patch_prob: float = 0.15, min_visible: int = 4, min_size: float = 2.0,
                 seed: Optional[int] = None) -> None:
        if mode not in ('atomic', 'simple'):
            raise ValueError(f"PoseGuidedProposals: mode must be 'atomic' or 'simple', got "
                             f'{mode!r}')
        if mode == 'atomic' and model_file is None:
            raise ValueError("PoseGuidedProposals: mode='atomic' needs model_file (a JSON "
                             'written by tools/fit_pgpg.py)')
        if not (0 <= prob <= 1 and 0 <= patch_prob <= 1):
            raise ValueError(f'PoseGuidedProposals: prob / patch_prob must be in [0, 1], got '
                             f'{prob} / {patch_prob}')
        self.mode = mode
        self.model_file = model_file
        self.model = load_pgpg(model_file) if mode == 'atomic' else None
        self.prob = prob
        self.patch_prob = patch_prob
        self.min_visible = min_visible
        self.min_size = min_size
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    @property
    def rng(self):
        """The private generator, or numpy's global one (``np.random``)."""
        return self._rng if self._rng is not None else np.random.default_rng(
            np.random.randint(0, 2**31 - 1))

    def _offset(self, rng: np.random.Generator, kpts: Optional[np.ndarray],
                vis: Optional[np.ndarray], box: np.ndarray) -> np.ndarray:
        """One offset ``(4,)`` for a box (fractions of its width / height)."""
        if self.mode == 'simple':
            if rng.random() < self.patch_prob:  # AlphaPose: random sub-patch, scale U(0.85, 1)
                scale = rng.uniform(0.85, 1.0)
                fx, fy = rng.random(2) * (1 - scale)
                return np.array([fx, fy, fx + scale - 1, fy + scale - 1])
            mean, std = np.asarray(ALPHAPOSE_DPG).T
            return mean + std * rng.standard_normal(4)
        atom = None if kpts is None else assign_atom(self.model, kpts, vis, box, self.min_visible)
        gmm = self.model['global_gmm'] if atom is None else self.model['atom_gmms'][atom]
        return sample_gmm(gmm, rng)[0]

    def transform(self, results: dict) -> dict:
        """Sample a proposal per instance.

        Args:
            results (dict): with ``bbox`` ``(N, 4)`` and, for 'atomic', keypoints.

        Returns:
            dict: ``results`` with the new ``bbox``.
        """
        if 'bbox' not in results:
            raise KeyError('PoseGuidedProposals: results has no "bbox" (put it after the '
                           'dataset loading and before GetBBoxCenterScale)')
        boxes = np.asarray(results['bbox'], dtype=np.float32).reshape(-1, 4)
        kpts = results.get('keypoints')
        vis = results.get('keypoints_visible')
        if self.mode == 'atomic' and kpts is not None and \
                np.asarray(kpts).shape[-2] != self.model['num_keypoints']:
            raise ValueError(f'PoseGuidedProposals: {self.model_file} was fitted for '
                             f'{self.model["num_keypoints"]} keypoints, the data has '
                             f'{np.asarray(kpts).shape[-2]}')
        rng = self.rng
        out = boxes.copy()
        for i, box in enumerate(boxes):
            if rng.random() >= self.prob:
                continue
            w, h = box[2] - box[0], box[3] - box[1]
            k = None if kpts is None else np.asarray(kpts)[i, :, :2]
            v = None if vis is None else np.asarray(vis)[i].reshape(-1)
            out[i] = box + self._offset(rng, k, v, box) * np.array([w, h, w, h])
        if 'img_shape' in results:
            img_h, img_w = results['img_shape'][:2]
            out[:, 0::2] = out[:, 0::2].clip(0, img_w - 1)
            out[:, 1::2] = out[:, 1::2].clip(0, img_h - 1)
        out[:, 2:] = np.maximum(out[:, 2:], out[:, :2] + self.min_size)
        results['bbox_before_pgpg'] = boxes
        results['bbox'] = out
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mode={self.mode!r}, model_file={self.model_file!r}, '
                f'prob={self.prob}, patch_prob={self.patch_prob}, seed={self.seed})')
