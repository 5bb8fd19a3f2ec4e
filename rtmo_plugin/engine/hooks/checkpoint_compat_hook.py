"""Run the checkpoint compatibility check on every checkpoint the runner loads (``load_from``, ``--resume``,
``mim test --checkpoint``), before MMEngine's lenient ``strict=False`` load can skip mismatched weights.

With ``keypoint_transfer`` set, a ``load_from`` checkpoint of another keypoint set is transferred by keypoint name
first (:mod:`rtmo_plugin.utils.keypoint_transfer`), then checked as strictly as any other checkpoint."""
import os.path as osp
from typing import Any, Dict, Mapping, Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS

from ...utils.checkpoint_check import check_checkpoint_compatibility, extract_state_dict


@HOOKS.register_module()
class CheckpointCompatibilityHook(Hook):
    """Raise ``CheckpointMismatchError`` when a loaded checkpoint does not fit the model.

    Runs in ``after_load_checkpoint``, which ``Runner.load_checkpoint`` calls after reading the file and before
    copying the weights into the model (and before ``EMAHook`` copies them into the EMA model).

    Args:
        allow_missing: accept model weights absent from the checkpoint. Defaults to False.
        allow_unexpected: accept checkpoint weights the model does not have. Defaults to False.
        ignore_keys: regexes of state-dict keys to leave out of the comparison. Defaults to none.
        keypoint_transfer: None (default: a checkpoint of another keypoint set is refused like any mismatch), or
            ``dict(source_metainfo=<metainfo file of the checkpoint's keypoints>, target_metainfo=None,
            neighbours=None, report='keypoint_transfer')``: a ``load_from`` checkpoint whose keypoint names differ
            from the model's is mapped by name (``target_metainfo`` defaults to the training dataset's metainfo;
            ``neighbours``: target name -> source names for unmatched keypoints, None = the defaults, ``{}`` =
            fresh init); the report goes to ``<work_dir>/<report>.json`` and ``.md``. Only tensors that depend on
            the keypoint count may differ: any other mismatch is still refused. Never applied when resuming.

    Config use::

        custom_hooks = [..., dict(type='CheckpointCompatibilityHook')]
        # fine-tune from a COCO-17 checkpoint on another keypoint set
        custom_hooks = [..., dict(type='CheckpointCompatibilityHook',
                                  keypoint_transfer=dict(source_metainfo='configs/_base_/datasets/coco.py'))]
    """

    priority = "VERY_HIGH"

    def __init__(self, allow_missing: bool = False, allow_unexpected: bool = False,
                 ignore_keys: Sequence[str] = (), keypoint_transfer: Optional[Mapping[str, Any]] = None) -> None:
        self.allow_missing = allow_missing
        self.allow_unexpected = allow_unexpected
        self.ignore_keys = tuple(ignore_keys)
        self.keypoint_transfer = dict(keypoint_transfer) if keypoint_transfer is not None else None
        if self.keypoint_transfer is not None:
            unknown = set(self.keypoint_transfer) - {"source_metainfo", "target_metainfo", "neighbours", "report"}
            if "source_metainfo" not in self.keypoint_transfer or unknown:
                raise ValueError("keypoint_transfer needs source_metainfo and takes target_metainfo, neighbours, "
                                 f"report; got {sorted(self.keypoint_transfer)}")
        self.transfer_report: Any = None

    def after_load_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        """Compare ``checkpoint['state_dict']`` with the runner's model."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        source = getattr(runner, "_load_from", None) or "the loaded checkpoint"
        if getattr(runner, "_resume", False) and not getattr(runner, "_load_from", None):
            source = "the checkpoint being resumed"
        elif self.keypoint_transfer is not None and not getattr(runner, "_resume", False):
            self._transfer(runner, model, checkpoint)
        check_checkpoint_compatibility(model, checkpoint, allow_missing=self.allow_missing,
                                       allow_unexpected=self.allow_unexpected, ignore_keys=self.ignore_keys,
                                       source=str(source))

    def _target_names(self, runner: Any) -> list:
        """Target keypoint names: ``target_metainfo``, else the training (or validation) dataset's metainfo."""
        from ...datasets.metainfo_check import load_checked_metainfo

        if self.keypoint_transfer.get("target_metainfo"):
            meta: Dict[str, Any] = load_checked_metainfo(self.keypoint_transfer["target_metainfo"])
        else:
            meta = {}
            for loop in ("_train_loop", "_val_loop", "_test_loop"):
                dataloader = getattr(getattr(runner, loop, None), "dataloader", None)
                if dataloader is not None:
                    meta = dataloader.dataset.metainfo
                    break
            if not meta:
                raise ValueError("keypoint_transfer: no built dataset to take the target keypoint names from; "
                                 "set keypoint_transfer.target_metainfo")
        return [meta["keypoint_id2name"][i] for i in range(meta["num_keypoints"])]

    def _transfer(self, runner: Any, model: Any, checkpoint: dict) -> None:
        """Replace ``checkpoint['state_dict']`` by its transfer to the model's keypoints (names differ only)."""
        from ...datasets.metainfo_check import load_checked_metainfo
        from ...utils.keypoint_transfer import transfer_checkpoint_state

        src_meta = load_checked_metainfo(self.keypoint_transfer["source_metainfo"])
        source_names = [src_meta["keypoint_id2name"][i] for i in range(src_meta["num_keypoints"])]
        target_names = self._target_names(runner)
        source_state = extract_state_dict(checkpoint)
        model_shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        fits = {k: tuple(v.shape) for k, v in source_state.items()} == model_shapes
        if source_names == target_names or (fits and len(source_names) != len(target_names)):
            return  # nothing to transfer, or already a checkpoint of the target keypoints (e.g. mim test)
        state, report = transfer_checkpoint_state(source_state, model, runner.cfg["model"],
                                                  source_names, target_names, self.keypoint_transfer.get("neighbours"))
        checkpoint["state_dict"] = state
        checkpoint.pop("ema_state_dict", None)  # the source keypoints' EMA; EMAHook copies state_dict instead
        self.transfer_report = report
        name = self.keypoint_transfer.get("report", "keypoint_transfer")
        if name and getattr(runner, "work_dir", None):
            report.write(osp.join(runner.work_dir, f"{name}.json"), osp.join(runner.work_dir, f"{name}.md"))
        counts = report.to_dict()["counts"]
        runner.logger.info(f"keypoint transfer {len(source_names)} -> {len(target_names)} keypoints: {counts}")
