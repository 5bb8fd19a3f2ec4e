"""Overfit check: RTMO-t from scratch on the 4 ``coco_mini`` photos (train = val), ours and MMPose's reference.

Both runs use the same config file (``configs/demo/rtmo-t_overfit_coco-mini.py``); the reference run renames our
registry types to MMPose's (:mod:`rtmo_plugin.testing.reference_names`). Reported per run: box AP and keypoint AP
of the final EMA weights (xtcocotools, instance score = box score), the AP curve during training, and the mean
seconds per training iteration measured by the progress hook (data loading + forward + backward + optimizer step).
For ours also ``proxy_kpt_AP``: the keypoint AP of the proxy-regression keypoints of the same detections
(:mod:`.proxy_keypoints`), i.e. what the DCC's input features already know (docs/demo_recipe.md, point 18). For
both ``vote_kpt_AP``: the keypoint AP with each kept detection's keypoints replaced by the per-keypoint median of the
grid cells whose boxes overlap its box at IoU > 0.9 (:func:`.cell_vote.median_vote_kpt_ap`, the same vote on
both models' COCO results).
"""
import json
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

from rtmo_plugin.demo.curves import plot_curves
from rtmo_plugin.utils.paths import REPO_ROOT, shared_data_dir

OVERFIT_CONFIG = REPO_ROOT / "configs" / "demo" / "rtmo-t_overfit_coco-mini.py"


def _set_input_size(node: Any, size: Tuple[int, int]) -> None:
    """Set every ``input_size`` entry below ``node`` (codec, transforms, ``model.test_cfg``) to ``size``, in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "input_size":
                node[key] = size
            else:
                _set_input_size(value, size)
    elif isinstance(node, (list, tuple)):
        for item in node:
            _set_input_size(item, size)


def build_overfit_config(impl: str, work_dir: Path, coco_mini: Path, max_iters: Optional[int] = None,
                         config: Path = OVERFIT_CONFIG, input_size: Optional[int] = None,
                         seed: Optional[int] = None) -> Any:
    """The overfit config for ``impl`` ('ours' or 'reference') on ``coco_mini``.

    Args:
        impl: 'ours' or 'reference' (our registry types renamed to MMPose's).
        work_dir: the runner's work directory.
        coco_mini: the folder with ``test_coco.json`` and its images.
        max_iters: override the config's iteration count; the cosine decay then ends with the run.
        config: the config file.
        input_size: override the square input size (pixels, a multiple of 32, RTMO's largest stride) everywhere
            the config sets one: the codec, the train and val transforms and ``model.test_cfg``.
        seed: override ``randomness.seed``.

    Raises:
        ValueError: on an unknown ``impl`` or an ``input_size`` that is not a positive multiple of 32.
        FileNotFoundError: if ``coco_mini/test_coco.json`` is missing.
    """
    from mmengine.config import Config

    from rtmo_plugin.testing.reference_names import to_reference_types

    if impl not in ("ours", "reference"):
        raise ValueError(f"impl must be 'ours' or 'reference', got {impl!r}")
    if input_size is not None and (input_size <= 0 or input_size % 32):
        raise ValueError(f"input_size must be a positive multiple of 32 (RTMO's largest stride), got {input_size}")
    ann = Path(coco_mini) / "test_coco.json"
    if not ann.is_file():
        raise FileNotFoundError(f"coco_mini annotations not found: {ann} (set RTMO_SHARED_DATA)")
    cfg = Config.fromfile(str(config))
    root = str(Path(coco_mini).resolve()) + "/"
    for key in ("train_dataloader", "val_dataloader", "test_dataloader"):
        cfg[key]["dataset"]["data_root"] = root
    cfg.val_evaluator["ann_file"] = str(ann.resolve())
    cfg.test_evaluator = cfg.val_evaluator
    if max_iters is not None:
        cfg.train_cfg["max_epochs"] = max_iters
        cfg.default_hooks["checkpoint"]["interval"] = max_iters
        schedulers = [s for s in cfg.param_scheduler if s.get("begin", 0) < max_iters]  # none past the end
        for scheduler in schedulers:  # the decay ends with the shorter or longer run
            if scheduler.get("type") == "CosineAnnealingLR":
                scheduler.update(end=max_iters, T_max=max_iters - scheduler.get("begin", 0))
        cfg.param_scheduler = schedulers
    if input_size is not None:
        plain = cfg.to_dict()
        _set_input_size(plain, (input_size, input_size))
        cfg = Config(plain, filename=cfg.filename)
    if seed is not None:
        cfg.randomness = dict(cfg.get("randomness") or {}, seed=seed)
    cfg.work_dir = str(work_dir)
    cfg.log_level = "WARNING"
    if impl == "reference":
        cfg = Config(to_reference_types(cfg.to_dict()))
    return cfg


def load_trained_model(cfg: Any, checkpoint: Path) -> Any:
    """A fresh model from ``cfg`` (ours or the reference's types) with the checkpoint's (EMA) weights, eval mode."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmpose.registry import MODELS

    init_default_scope("mmpose")
    model = MODELS.build(cfg.model)
    load_checkpoint(model, str(checkpoint), map_location="cpu", logger="silent")
    model.cfg = cfg
    return model.eval()


def run_overfit(out_dir: Path = REPO_ROOT / "outputs" / "overfit", impls: Sequence[str] = ("ours", "reference"),
                max_iters: Optional[int] = None, budget_minutes: Optional[float] = None,
                config: Path = OVERFIT_CONFIG, input_size: Optional[int] = None,
                seed: Optional[int] = None) -> Dict[str, Dict[str, Any]]:
    """Train and evaluate each implementation; write ``out_dir/summary.json`` and ``out_dir/curves_<impl>.png``.

    ``max_iters``, ``input_size`` and ``seed`` override the config's (:func:`build_overfit_config`).

    With ``budget_minutes`` the config's cosine decay follows the clock
    (:class:`~rtmo_plugin.demo.BudgetCosineLRHook`, as in the demo): on a machine too slow for
    the config's iterations in the budget, the run still ends at the decay's floor instead of being cut off above it.
    """
    from mmengine.runner import Runner
    from mmpose.utils import register_all_modules

    import rtmo_plugin  # noqa: F401
    from experiments.cell_vote import median_vote_kpt_ap
    from experiments.proxy_keypoints import proxy_keypoints_as_output
    from rtmo_plugin.demo.budget_schedule import budget_schedule_from_config
    from rtmo_plugin.demo.training import train_with_record
    from rtmo_plugin.evaluation import evaluate_box_and_keypoints

    register_all_modules(init_default_scope=False)
    from mmengine.registry import init_default_scope
    init_default_scope("mmpose")
    coco_mini = shared_data_dir() / "coco_mini"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results: Dict[str, Dict[str, Any]] = {}
    for impl in impls:
        cfg = build_overfit_config(impl, out_dir / impl, coco_mini, max_iters, config, input_size, seed)
        budget = None if budget_minutes is None else budget_minutes * 60
        schedule = None if budget is None else budget_schedule_from_config(cfg, budget)
        record = train_with_record(cfg, budget_seconds=budget, desc=f"overfit {impl}",
                                   extra_hooks=[schedule] if schedule is not None else [])
        model = load_trained_model(cfg, out_dir / impl / "final.pth")
        val_loader, ann_file = Runner.build_dataloader(cfg.val_dataloader), coco_mini / "test_coco.json"
        metrics = evaluate_box_and_keypoints(model, val_loader, ann_file)
        # the keypoints voted over the grid cells that overlap each kept box (docs/demo_recipe.md, points 23-24)
        metrics["vote_kpt_AP"] = median_vote_kpt_ap(model, val_loader, ann_file)
        if impl == "ours":  # diagnostic: what the DCC's input features know (the reference's head has no hook)
            with proxy_keypoints_as_output(model.head):
                metrics["proxy_kpt_AP"] = evaluate_box_and_keypoints(model, val_loader, ann_file)["kpt_AP"]
        results[impl] = dict(metrics, iterations=record.iters[-1] if record.iters else 0,
                             seconds_per_iter=record.seconds_per_iter, train_seconds=record.wall_seconds,
                             decay_done=schedule.fractions[-1] if schedule is not None and schedule.fractions
                             else None,
                             val_curve=dict(iters=record.val_iters, **record.val_metrics))
        plot_curves(record.iters, record.losses, record.val_iters,
                    {k: v for k, v in record.val_metrics.items() if k == "coco/AP"},
                    out_dir / f"curves_{impl}.png", title=f"overfit coco_mini, {impl}",
                    val_title="keypoint AP on the training images (train = val)")
        (out_dir / "summary.json").write_text(json.dumps(results, indent=1))
    return results
