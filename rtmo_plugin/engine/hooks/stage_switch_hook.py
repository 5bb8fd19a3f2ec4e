"""The two training-stage switches of RTMO in one resume-safe hook.

RTMO trains in three phases (0-based epochs, COCO 600-epoch recipe; CrowdPose in brackets):

* epochs ``[0, 280)`` (``[0, 350)``): stage-1 loss weights, the proxy keypoint regression is supervised by the ground
  truth;
* from epoch 280 (350): new loss weights (e.g. ``loss_mle`` 1 -> 5, ``loss_oks`` 30 -> 10) and
  ``proxy_target_cc=True`` (the proxy regression is supervised by the DCC keypoints);
* from epoch ``max_epochs - num_last_epochs - 1`` = 579 (669): the stage-2 pipeline (no mosaic/mixup) replaces the
  training pipeline (and optionally the dataset) and the auxiliary L1 box loss is switched on.

The hook applies the changes in ``before_train_epoch``. Unlike a hook that only fires when ``runner.epoch`` equals the
switch epoch, it applies *every* change whose epoch has been reached the first time it runs, so a run resumed after a
switch epoch is put back into the right stage.
"""
import copy
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmpose.registry import HOOKS

_MISSING = object()


def _resolve_parent(root: Any, dotted: str) -> Tuple[Any, str]:
    """Walk ``root`` along all but the last component of ``dotted``.

    Args:
        root: object to start from (the head).
        dotted: attribute path such as ``'loss_mle.loss_weight'``.

    Returns:
        tuple: (object owning the final attribute, final attribute name).

    Raises:
        AttributeError: if a component along the path does not exist (names the full path).
    """
    parts = dotted.split(".")
    obj = root
    for i, name in enumerate(parts[:-1]):
        if not hasattr(obj, name):
            raise AttributeError(f"RTMOStageSwitchHook: head has no attribute '{'.'.join(parts[:i + 1])}' "
                                 f"(while resolving epoch_attributes key '{dotted}')")
        obj = getattr(obj, name)
    return obj, parts[-1]


def get_dotted(root: Any, dotted: str) -> Any:
    """Read a dotted attribute path, e.g. ``get_dotted(head, 'loss_oks.loss_weight')``."""
    parent, name = _resolve_parent(root, dotted)
    value = getattr(parent, name, _MISSING)
    if value is _MISSING:
        raise AttributeError(f"RTMOStageSwitchHook: head has no attribute '{dotted}'")
    return value


def set_dotted(root: Any, dotted: str, value: Any) -> Any:
    """Set an existing dotted attribute path and return its previous value.

    Only existing attributes may be set, so a typo in a config key fails loudly instead of creating a new, unused
    attribute.
    """
    old = get_dotted(root, dotted)
    parent, name = _resolve_parent(root, dotted)
    setattr(parent, name, value)
    return old


@HOOKS.register_module()
class RTMOStageSwitchHook(Hook):
    """Switch RTMO's loss weights and training pipeline at fixed epochs; re-applies them on resume.

    Args:
        epoch_attributes (dict[int, dict[str, Any]] | None): 0-based epoch ``E`` -> {dotted head attribute: value}.
            From epoch ``E`` on (in ``before_train_epoch``) ``model.head.<attr> = value``. In the RTMO recipe
            ``{280: {'proxy_target_cc': True, 'loss_mle.loss_weight': 5.0, 'loss_oks.loss_weight': 10.0}}``.
            Defaults to None (no attribute change).
        num_last_epochs (int): length of the final stage minus one, as in YOLOX-Pose: the pipeline switch happens
            at 0-based epoch ``max_epochs - num_last_epochs - 1`` (579 for 600 epochs and 20). None: never switch
            the pipeline (only ``epoch_attributes`` apply). Defaults to 20.
        new_train_pipeline (list[dict] | None): stage-2 pipeline; replaces ``train_dataloader.dataset.pipeline``.
            Defaults to None (keep the pipeline).
        new_train_dataset (dict | None): dataset config that replaces ``train_dataloader.dataset`` at the same
            epoch (e.g. COCO only instead of body7). Defaults to None.
        aux_loss_attribute (str): head attribute switched to True with the pipeline. Defaults to ``'use_aux_loss'``.

    Raises:
        TypeError: if ``epoch_attributes`` is not a mapping of int -> mapping.
        ValueError: if an epoch index is negative or ``num_last_epochs`` < 0.
    """

    priority = 48  # same slot as the reference's mode-switch hooks: before EMA (49) and the default hooks

    def __init__(self,
                 epoch_attributes: Optional[Dict[int, Dict[str, Any]]] = None,
                 num_last_epochs: Optional[int] = 20,
                 new_train_pipeline: Optional[Sequence[dict]] = None,
                 new_train_dataset: Optional[dict] = None,
                 aux_loss_attribute: str = "use_aux_loss") -> None:
        epoch_attributes = {} if epoch_attributes is None else epoch_attributes
        if not isinstance(epoch_attributes, dict):
            raise TypeError(f"RTMOStageSwitchHook: epoch_attributes must be a dict {{epoch: {{attr: value}}}}, "
                            f"got {type(epoch_attributes).__name__}")
        self.epoch_attributes: Dict[int, Dict[str, Any]] = {}
        for epoch, attrs in epoch_attributes.items():
            if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
                raise ValueError(f"RTMOStageSwitchHook: epoch_attributes key {epoch!r} must be a 0-based epoch "
                                 f"index (int >= 0)")
            if not isinstance(attrs, dict):
                raise TypeError(f"RTMOStageSwitchHook: epoch_attributes[{epoch}] must be a dict of dotted head "
                                f"attributes, got {type(attrs).__name__}")
            self.epoch_attributes[epoch] = dict(attrs)
        if num_last_epochs is not None and (not isinstance(num_last_epochs, int) or num_last_epochs < 0):
            raise ValueError(f"RTMOStageSwitchHook: num_last_epochs must be an int >= 0, got {num_last_epochs!r}")
        self.num_last_epochs = num_last_epochs
        self.new_train_pipeline = list(new_train_pipeline) if new_train_pipeline is not None else None
        self.new_train_dataset = new_train_dataset
        self.aux_loss_attribute = aux_loss_attribute
        self._applied_epochs: set = set()
        self._pipeline_switched = False

    # ------------------------------------------------------------------ helpers
    def switch_epoch(self, max_epochs: int) -> Optional[int]:
        """0-based epoch at which the stage-2 pipeline starts: ``max_epochs - num_last_epochs - 1`` (None: never)."""
        return None if self.num_last_epochs is None else max_epochs - self.num_last_epochs - 1

    @staticmethod
    def _head(runner: Runner) -> Any:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, "head"):
            raise AttributeError(f"RTMOStageSwitchHook: model {type(model).__name__} has no 'head'")
        return model.head

    def _apply_attributes(self, runner: Runner, epoch: int) -> List[str]:
        """Apply every not yet applied attribute block whose epoch is <= ``epoch``, oldest first."""
        head = self._head(runner)
        changes = []
        for start in sorted(e for e in self.epoch_attributes if e <= epoch and e not in self._applied_epochs):
            for key, value in self.epoch_attributes[start].items():
                old = set_dotted(head, key, value)
                changes.append(f"head.{key}: {old!r} -> {get_dotted(head, key)!r} (scheduled at epoch {start})")
            self._applied_epochs.add(start)
        return changes

    def _switch_dataloader(self, runner: Runner) -> None:
        """Rebuild the train dataloader with the stage-2 dataset/pipeline and switch the auxiliary loss on."""
        if self.new_train_dataset is not None or self.new_train_pipeline is not None:
            if "train_dataloader" not in runner.cfg:
                raise RuntimeError("RTMOStageSwitchHook: runner.cfg has no 'train_dataloader' to rebuild the stage-2 "
                                   "dataloader from; build the runner with Runner.from_cfg(cfg)")
            cfg = copy.deepcopy(runner.cfg.train_dataloader)
            if self.new_train_dataset is not None:
                cfg["dataset"] = copy.deepcopy(self.new_train_dataset)
            if self.new_train_pipeline is not None:
                cfg["dataset"]["pipeline"] = copy.deepcopy(self.new_train_pipeline)
            randomness = getattr(runner, "_randomness_cfg", {}) or {}
            runner.train_loop.dataloader = runner.build_dataloader(
                cfg, seed=runner.seed, diff_rank_seed=randomness.get("diff_rank_seed", False))
            names = [t.get("type", "?") if isinstance(t, dict) else type(t).__name__
                     for t in cfg["dataset"].get("pipeline", [])]
            runner.logger.info(f"RTMOStageSwitchHook: epoch {runner.epoch}: new train dataloader "
                               f"(dataset {cfg['dataset'].get('type')}, pipeline {names})")
        old = set_dotted(self._head(runner), self.aux_loss_attribute, True)
        runner.logger.info(f"RTMOStageSwitchHook: epoch {runner.epoch}: head.{self.aux_loss_attribute}: "
                           f"{old!r} -> True")
        self._pipeline_switched = True

    # ------------------------------------------------------------------ hook points
    def before_train_epoch(self, runner: Runner) -> None:
        """Apply the attribute changes and the pipeline switch due at (or, after a resume, before) this epoch."""
        epoch = runner.epoch
        for line in self._apply_attributes(runner, epoch):
            runner.logger.info(f"RTMOStageSwitchHook: epoch {epoch}: {line}")
        switch = self.switch_epoch(runner.max_epochs)
        if not self._pipeline_switched and switch is not None and epoch >= switch:
            self._switch_dataloader(runner)
