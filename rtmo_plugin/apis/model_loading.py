"""Build an RTMO estimator from a config and load our or the official RTMO checkpoints.

Both kinds of checkpoint share the state-dict layout (``backbone.*``, ``neck.*``, ``head.*``); files saved by an
mmengine runner keep it under ``'state_dict'`` (EMA weights when EMAHook was used) and the dataset meta under
``'meta'``; a bare state dict is accepted too.
"""
from pathlib import Path
from typing import Any, Dict, Optional, Union

import torch
from torch import nn

from ..utils.init_weights import quiet_init_weights


def register_modules() -> None:
    """Register MMPose's and our modules and make 'mmpose' the default scope (idempotent)."""
    from mmengine.registry import init_default_scope
    from mmpose.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    import rtmo_plugin  # noqa: F401  (registers the plugin)

    init_default_scope("mmpose")


def resolve_device(device: str) -> torch.device:
    """Validate ``'cpu'``, ``'cuda'`` or ``'cuda:N'``; a CUDA request without a GPU is a clear error."""
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device={device!r} requested but CUDA is not available; use --device cpu")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda[:N]', got {device!r}")
    return dev


def _state_dict_from(checkpoint: Dict[str, Any], path: Path) -> Dict[str, torch.Tensor]:
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not state:
        raise ValueError(f"checkpoint {path}: no state dict found (expected a dict or a dict with 'state_dict')")
    out = {}
    for key, value in state.items():
        if not torch.is_tensor(value):
            continue
        for prefix in ("module.", "model."):
            if key.startswith(prefix):
                key = key[len(prefix):]
        out[key] = value
    return out


def load_checkpoint(model: nn.Module, checkpoint: Union[str, Path], strict: bool = True) -> Dict[str, Any]:
    """Load weights into ``model`` and attach ``dataset_meta`` when the checkpoint has it.

    Args:
        model (nn.Module): the built estimator.
        checkpoint (str | Path): ``.pth`` file (ours or official RTMO).
        strict (bool): require exactly matching keys (deploy-only keys such as ``data_preprocessor.*`` are
            ignored either way).

    Returns:
        dict: the checkpoint's ``meta`` (may be empty).
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    raw = CheckpointLoader.load_checkpoint(str(path), map_location="cpu")
    state = _state_dict_from(raw, path)
    expected = model.state_dict()
    state = {k: v for k, v in state.items() if not k.startswith("data_preprocessor.")}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shape_bad = sorted(k for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
    if shape_bad:
        k = shape_bad[0]
        raise ValueError(f"checkpoint {path}: {len(shape_bad)} tensors have the wrong shape for this config, e.g. "
                         f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(expected[k].shape)} "
                         "(wrong variant/config?)")
    if strict and (missing or unexpected):
        raise ValueError(f"checkpoint {path} does not match the config: {len(missing)} missing keys "
                         f"{missing[:5]}, {len(unexpected)} unexpected keys {unexpected[:5]}")
    model.load_state_dict(state, strict=False)
    meta = raw.get("meta", {}) if isinstance(raw, dict) else {}
    dataset_meta = meta.get("dataset_meta") if isinstance(meta, dict) else None
    if dataset_meta:
        model.dataset_meta = dataset_meta
    return meta if isinstance(meta, dict) else {}


def load_model(config: Union[str, Path, Any], checkpoint: Optional[Union[str, Path]] = None, device: str = "cpu",
               strict: bool = True) -> nn.Module:
    """Build an RTMO ``BottomupPoseEstimator`` in eval mode.

    Args:
        config (str | Path | mmengine.Config): model config (ours in ``configs/`` or MMPose's RTMO configs).
        checkpoint (str | Path | None): weights; None keeps the random initialisation (for tests/benchmarks).
        device (str): 'cpu' or 'cuda[:N]'.
        strict (bool): see :func:`load_checkpoint`.

    Returns:
        nn.Module: the estimator on ``device``, eval mode, with ``dataset_meta`` when known.
    """
    from mmengine.config import Config
    from mmpose.registry import MODELS

    register_modules()
    if isinstance(config, (str, Path)):
        if not Path(config).is_file():
            raise FileNotFoundError(f"config not found: {config}")
        cfg = Config.fromfile(str(config))
    else:
        cfg = config
    if "model" not in cfg:
        raise ValueError(f"config {config} has no 'model' entry")
    model_cfg = cfg.model.copy()
    if isinstance(model_cfg.get("backbone"), dict):
        model_cfg["backbone"]["init_cfg"] = None  # no pretrained download: the checkpoint has all weights
    if isinstance(model_cfg.get("data_preprocessor"), dict):
        model_cfg["data_preprocessor"].pop("batch_augments", None)  # training-only
    model = MODELS.build(model_cfg)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, strict=strict)
    else:
        quiet_init_weights(model)  # random weights with the intended init (e.g. the class-prior bias)
    model.cfg = cfg
    model.to(resolve_device(device))
    model.eval()
    return model
