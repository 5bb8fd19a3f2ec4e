"""Why the DCC learns slowly from scratch: train the DCC alone, with ideal inputs, at different learning rates.

Setting: ``N`` synthetic figures (ground-truth keypoints ``(N, 17, 2)``), their ground-truth boxes (so the dynamic
bins are placed right), grids at the box centres, and *informative* pose vectors: a fixed random non-linear embedding
of the keypoints relative to the grid, ``tanh(2 * flatten((kpts - grid) / 64) @ W)`` with ``W`` ``(34, C)``. Only the
DCC (plus sigma head) is trained, with the MLE loss, AdamW and gradient clipping 0.1 as in RTMO.

Measured at every ``every`` steps: the loss, the mean keypoint error in pixels (decoded with ground-truth boxes),
the mean entropy of the x-bin distributions in nats (``log 192 = 5.26`` for uniform; near 0 = saturated on one bin)
and the mean sigma. Used to choose the demo/overfit recipe (docs/demo_recipe.md).
"""
from typing import Dict, List, Optional

import numpy as np
import torch


def make_inputs(n: int = 48, channels: int = 128, seed: int = 0) -> Dict[str, torch.Tensor]:
    """Keypoints, boxes, areas, grids and pose vectors of ``n`` random figures in a 256 x 256 frame."""
    from rtmo_plugin.datasets.synthetic.figure import sample_figure

    rng = np.random.default_rng(seed)
    kpts = torch.tensor(np.stack([sample_figure(rng, (rng.uniform(80, 176), rng.uniform(100, 160)),
                                                rng.uniform(90, 180)).keypoints for _ in range(n)]))
    lo, hi = kpts.min(1).values, kpts.max(1).values
    grids = ((lo + hi) / 2 / 16).floor() * 16 + 7.5  # stride-16 prior centres
    gen = torch.Generator().manual_seed(seed)
    proj = torch.randn(34, channels, generator=gen) / 34 ** 0.5
    feats = torch.tanh(((kpts - grids[:, None]) / 64).flatten(1) @ proj * 2)
    return dict(kpts=kpts, boxes=torch.cat([lo, hi], 1), areas=(hi - lo).prod(1) * 0.53, grids=grids, feats=feats)


def train_dcc(lr: float, steps: int = 300, every: int = 50, inputs: Optional[Dict[str, torch.Tensor]] = None,
              seed: int = 1) -> List[Dict[str, float]]:
    """Train a fresh DCC on ``inputs`` at ``lr``; return the measurements every ``every`` steps."""
    from rtmo_plugin.models.heads.dcc import DCC
    from rtmo_plugin.models.losses.mle_loss import MLECoordClsLoss

    inputs = inputs or make_inputs()
    torch.manual_seed(seed)
    dcc = DCC(in_channels=inputs["feats"].shape[1], feat_channels=128, num_bins=(192, 256), spe_channels=128,
              num_keypoints=17, bbox_padding=1.25,
              gau_cfg=dict(s=128, expansion_factor=2, dropout_rate=0.0, drop_path=0.0, act_fn="SiLU", pos_enc="add"))
    dcc.init_weights()
    loss_fn = MLECoordClsLoss(use_target_weight=True, loss_weight=1.0)
    opt = torch.optim.AdamW(dcc.parameters(), lr, weight_decay=0.05)
    vis = torch.ones(inputs["kpts"].shape[:2])
    rows = []
    for step in range(1, steps + 1):
        out = dcc.forward_train(inputs["feats"], inputs["boxes"], inputs["grids"])
        loss = loss_fn(out["x_probs"], out["y_probs"], out["x_bins"], out["y_bins"], inputs["kpts"], out["sigmas"],
                       inputs["areas"], vis).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(dcc.parameters(), 0.1)
        opt.step()
        if step % every == 0:
            with torch.no_grad():
                out = dcc.forward_train(inputs["feats"], inputs["boxes"], inputs["grids"])
                err = (out["keypoints"] - inputs["kpts"]).norm(dim=-1).mean()
                p = out["x_probs"].clamp_min(1e-12)
                entropy = -(p * p.log()).sum(-1).mean()
            rows.append(dict(step=step, loss=float(loss), error_px=float(err), x_entropy=float(entropy),
                             sigma=float(out["sigmas"].mean())))
    return rows
