"""Short training runs that show *where* a from-scratch RTMO is slow: boxes, proxy keypoints, DCC, classifier.

A plain loop (no runner) over a config's model and train dataloader, logging per window of iterations the loss terms
plus four numbers read off the positives of every batch:

* ``reg_err`` / ``dcc_err``: mean distance of the proxy-regression / DCC keypoints to the ground truth, in units of
  ``sqrt(area)`` (visible keypoints only);
* ``sigma``: the DCC's predicted sigma (MLE loss);
* ``x_entropy``: entropy (nats) of the DCC's x-bin softmax; uniform over 192 bins is 5.26.

The recipe knobs are the ones the issue names (loss weights, sigmas, DCC learning rate, initialisation) and apply
unchanged to MMPose's reference head. ``memorize=N`` trains on the first N images without augmentation, a quick
stand-in for the overfit check. Used by ``experiments/run_recipe_probe.py``; docs/demo_recipe.md quotes its output.
"""
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import torch


@dataclass
class ProbeOptions:
    """Recipe of one probe run.

    Attributes:
        config: model + data config (the demo config by default).
        data_root: data root of the config's datasets.
        iters: training iterations.
        lr: AdamW base learning rate (quadratic warm-up over ``warmup`` iterations).
        dcc_lr_mult / encoder_lr_mult: learning-rate factors of ``head.dcc`` and ``neck.encoder``.
        clip: gradient-norm clip (0 = none).
        loss_mle / loss_oks: loss weights (RTMO stage 1: 1 and 30).
        training_metainfo: metainfo file whose sigmas the OKS loss and the assigner use (None = the config's).
        memorize: train on the first N images of the train split without augmentation (0 = the config's pipeline).
        mle_start: the MLE loss (the DCC's only signal) is off (weight 0) before this iteration.
        batch_size: images per iteration.
        log_every: iterations per logged window.
        seed: torch / numpy seed.
    """

    config: Path
    data_root: Path
    iters: int = 300
    lr: float = 4e-3
    dcc_lr_mult: float = 0.1
    encoder_lr_mult: float = 0.05
    clip: float = 0.1
    loss_mle: float = 1.0
    loss_oks: float = 30.0
    training_metainfo: Optional[str] = None
    memorize: int = 0
    mle_start: int = 0
    batch_size: int = 8
    log_every: int = 25
    warmup: int = 50
    seed: int = 0


def _memorize_subset(data_root: Path, ann_file: str, n: int) -> str:
    """Write ``annotations/memorize_<n>.json`` with the first ``n`` images of ``ann_file``; return its name."""
    src = json.loads((data_root / ann_file).read_text())
    images = src["images"][:n]
    ids = {im["id"] for im in images}
    subset = dict(src, images=images, annotations=[a for a in src["annotations"] if a["image_id"] in ids])
    name = f"annotations/memorize_{n}.json"
    (data_root / name).write_text(json.dumps(subset))
    return name


def build_probe_config(opts: ProbeOptions) -> Any:
    """The config of ``opts.config`` with the probe's recipe applied."""
    from mmengine.config import Config

    cfg = Config.fromfile(str(opts.config))
    root = str(Path(opts.data_root).resolve()) + "/"
    for key in ("train_dataloader", "val_dataloader"):
        cfg[key]["dataset"]["data_root"] = root
    cfg.train_dataloader["batch_size"] = opts.batch_size
    cfg.optim_wrapper["optimizer"]["lr"] = opts.lr
    keys = cfg.optim_wrapper.setdefault("paramwise_cfg", {}).setdefault("custom_keys", {})
    keys["head.dcc"] = dict(lr_mult=opts.dcc_lr_mult)
    keys["neck.encoder"] = dict(lr_mult=opts.encoder_lr_mult)
    if opts.clip > 0:
        cfg.optim_wrapper["clip_grad"] = dict(max_norm=opts.clip, norm_type=2)
    else:
        cfg.optim_wrapper.pop("clip_grad", None)
    head = cfg.model["head"]
    head["loss_mle"]["loss_weight"] = opts.loss_mle
    head["loss_oks"]["loss_weight"] = opts.loss_oks
    if opts.training_metainfo is not None:
        head["loss_oks"]["metainfo"] = opts.training_metainfo
        head["assigner"]["oks_calculator"]["metainfo"] = opts.training_metainfo
    if opts.memorize > 0:
        size = tuple(cfg.codec["input_size"])
        dataset = cfg.train_dataloader["dataset"]
        dataset["ann_file"] = _memorize_subset(Path(opts.data_root), dataset["ann_file"], opts.memorize)
        dataset["pipeline"] = [
            dict(type="LoadImage"),
            dict(type="PoseRandomAffine", input_size=size, shift_prob=0, rotate_prob=0, scale_prob=0,
                 scale_type="long", pad_val=(114, 114, 114), bbox_keep_corner=False, clip_border=True),
            dict(type="GenerateTarget", encoder=cfg.codec),
            dict(type="PackPoseInputs")]
    return cfg


class _PositivesTap:
    """Wraps the head's DCC, OKS loss and MLE loss to keep the last batch's positives (no change to the values)."""

    def __init__(self, head: torch.nn.Module) -> None:
        self.last: Dict[str, Any] = {}
        self._wrap(head.dcc, "forward_train", "dcc", lambda args, out: out)
        self._wrap(head.loss_oks, "forward", "proxy", lambda args, out: args[0].detach())
        self._wrap(head.loss_mle, "forward", "target", lambda args, out: (args[4], args[6], args[7]))

    def _wrap(self, module: torch.nn.Module, name: str, key: str, pick) -> None:
        original = getattr(module, name)

        def wrapped(*args, **kwargs):
            out = original(*args, **kwargs)
            self.last[key] = pick(args, out)
            return out

        setattr(module, name, wrapped)

    def stats(self) -> Dict[str, float]:
        """Errors, sigma and entropy of the last batch (empty if it had no positives)."""
        if not all(k in self.last for k in ("dcc", "proxy", "target")):
            return {}
        target, areas, vis = self.last["target"]
        scale = areas.sqrt().clamp(min=1.0)[:, None]
        weight = vis.sum().clamp(min=1.0)

        def err(kpts: torch.Tensor) -> float:
            return float((((kpts.detach() - target).norm(dim=-1) / scale) * vis).sum() / weight)

        dcc = self.last["dcc"]
        probs = dcc["x_probs"].detach()
        entropy = -(probs * (probs + 1e-12).log()).sum(-1).mean()
        out = dict(reg_err=err(self.last["proxy"]), dcc_err=err(dcc["keypoints"]),
                   sigma=float(dcc["sigmas"].detach().mean()), x_entropy=float(entropy))
        self.last.clear()
        return out


def run_probe(opts: ProbeOptions, progress: bool = True) -> List[Dict[str, float]]:
    """Train ``opts.iters`` iterations; return one row of window means per ``log_every`` iterations."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner, set_random_seed
    from mmpose.registry import MODELS

    set_random_seed(opts.seed)
    cfg = build_probe_config(opts)
    model = MODELS.build(cfg.model)
    model.init_weights()
    tap = _PositivesTap(model.head)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    for group in optim.optimizer.param_groups:
        group["initial_lr"] = group["lr"]
    loader = Runner.build_dataloader(cfg.train_dataloader)
    model.train()
    rows: List[Dict[str, float]] = []
    window: Dict[str, List[float]] = {}
    start, it = time.time(), 0
    while it < opts.iters:
        for batch in loader:
            if it >= opts.iters:
                break
            model.head.loss_mle.loss_weight = opts.loss_mle if it >= opts.mle_start else 0.0
            warm = min(1.0, ((it + 1) / opts.warmup) ** 2)
            for group in optim.optimizer.param_groups:
                group["lr"] = group["initial_lr"] * warm
            data = model.data_preprocessor(batch, True)
            loss, logs = model.parse_losses(model(**data, mode="loss"))
            optim.update_params(loss)
            values = {k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in logs.items()}
            values.update(tap.stats())
            for key, value in values.items():
                window.setdefault(key, []).append(value)
            it += 1
            if it % opts.log_every == 0:
                row = {k: float(np.mean(v)) for k, v in window.items()}
                row.update(iter=it, seconds_per_iter=(time.time() - start) / it)
                rows.append(row)
                window = {}
                if progress:
                    print(format_row(row), flush=True)
    return rows


COLUMNS = ("iter", "loss_bbox", "loss_cls", "overlaps", "reg_err", "dcc_err", "sigma", "x_entropy")


def format_row(row: Dict[str, float]) -> str:
    """One line: iteration, box and class losses, proxy OKS, errors (in sqrt(area)), sigma, entropy."""
    return "  ".join(f"{k}={row[k]:.3g}" for k in COLUMNS if k in row)
