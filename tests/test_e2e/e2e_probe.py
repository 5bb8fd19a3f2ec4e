"""Test-only instrumentation imported by the e2e configs (``custom_imports``); records per-rank training facts.

``E2EProbeHook`` writes ``work_dir/probe_rank{R}.json`` with, per training iteration: the network input size after
the batch resize, the local positive count and the cross-rank averaged count the head used, a checksum of all
parameters after the optimizer step, and the image ids of the rank's batch.
"""
import json
from pathlib import Path
from typing import Any, Dict, List

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS


@HOOKS.register_module(name="E2EProbeHook", force=True)
class E2EProbeHook(Hook):
    priority = "LOWEST"

    def __init__(self) -> None:
        self.rows: List[Dict[str, Any]] = []
        self._current: Dict[str, Any] = {}

    def before_train(self, runner: Any) -> None:
        from rtmo_plugin.models.heads import rtmo_dcc_head

        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        model.backbone.register_forward_pre_hook(self._record_input)
        original = rtmo_dcc_head.reduce_mean
        probe = self

        def recording_reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
            local = float(tensor)
            out = original(tensor)
            probe._current.setdefault("pos_local", []).append(local)
            probe._current.setdefault("pos_mean", []).append(float(out))
            return out

        rtmo_dcc_head.reduce_mean = recording_reduce_mean

    def _record_input(self, module: Any, inputs: Any) -> None:
        if module.training:
            self._current["input_hw"] = list(inputs[0].shape[-2:])

    def before_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None) -> None:
        self._current = dict(iter=runner.iter,
                             img_ids=[int(s.metainfo["img_id"]) for s in data_batch["data_samples"]])

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        with torch.no_grad():
            flat = torch.cat([p.detach().double().flatten() for p in model.parameters()])
        self._current["param_sum"] = float(flat.sum())
        self._current["param_abs_sum"] = float(flat.abs().sum())
        self._current["num_samples"] = float(outputs["num_samples"]) if "num_samples" in outputs else None
        self.rows.append(self._current)

    def after_train(self, runner: Any) -> None:
        out = Path(runner.work_dir) / f"probe_rank{get_rank()}.json"
        out.write_text(json.dumps(self.rows))
