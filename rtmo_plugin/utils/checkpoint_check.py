"""Refuse checkpoints that do not fit the model, with a list of what differs.

MMEngine loads ``load_from`` / ``mim test --checkpoint`` with ``strict=False``: parameters whose shapes differ are
skipped with a log warning and keep their random initial values, so an RTMO-l checkpoint in an RTMO-s config, or
a 14-keypoint CrowdPose checkpoint in a COCO config, "loads" and evaluates to near-zero AP.
:func:`check_checkpoint_compatibility` compares the checkpoint's state dict with the model's and raises
:class:`CheckpointMismatchError` listing missing keys, unexpected keys and shape mismatches, with a guess of the
RTMO variant and keypoint count on both sides. ``CheckpointCompatibilityHook`` runs it on every checkpoint the
runner loads.
"""
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from torch import nn

Shape = Tuple[int, ...]

#: Head width (channels of a cls conv) -> RTMO variant (the RTMO paper's model table).
RTMO_VARIANT_BY_WIDTH = {96: "RTMO-t", 128: "RTMO-s", 192: "RTMO-m", 256: "RTMO-l"}
#: How many entries of each list the error message spells out.
MAX_LISTED = 30


class CheckpointMismatchError(RuntimeError):
    """The checkpoint does not fit the model; the message lists the differences."""


@dataclass
class CheckpointMismatch:
    """Differences between a model's and a checkpoint's state dicts.

    Attributes:
        missing: ``(key, model_shape)`` in the model but not in the checkpoint.
        unexpected: ``(key, checkpoint_shape)`` in the checkpoint but not in the model.
        shape_mismatch: ``(key, checkpoint_shape, model_shape)``.
        model_desc / checkpoint_desc: e.g. ``'RTMO-s, 17 keypoints'`` when recognisable.
    """

    missing: List[Tuple[str, Shape]] = field(default_factory=list)
    unexpected: List[Tuple[str, Shape]] = field(default_factory=list)
    shape_mismatch: List[Tuple[str, Shape, Shape]] = field(default_factory=list)
    model_desc: Optional[str] = None
    checkpoint_desc: Optional[str] = None

    def format(self, source: str = "checkpoint") -> str:
        """A readable multi-line report."""
        lines = [f"{source} does not match the model"]
        if self.checkpoint_desc or self.model_desc:
            lines[0] += f" (checkpoint looks like {self.checkpoint_desc or '?'}, model is {self.model_desc or '?'})"
        lines[0] += ":"
        sections = [("shape mismatches (key: checkpoint shape vs model shape)",
                     [f"{k}: {list(c)} vs {list(m)}" for k, c, m in self.shape_mismatch]),
                    ("missing in the checkpoint (key: model shape)", [f"{k}: {list(s)}" for k, s in self.missing]),
                    ("unexpected in the checkpoint (key: checkpoint shape)",
                     [f"{k}: {list(s)}" for k, s in self.unexpected])]
        for title, items in sections:
            if items:
                lines.append(f"  {len(items)} {title}:")
                lines += [f"    {item}" for item in items[:MAX_LISTED]]
                if len(items) > MAX_LISTED:
                    lines.append(f"    ... and {len(items) - MAX_LISTED} more")
        return "\n".join(lines)


def extract_state_dict(checkpoint: Mapping[str, Any],
                       revise_keys: Sequence[Tuple[str, str]] = ((r"^module\.", ""),)) -> Dict[str, Any]:
    """The model weights of an MMEngine checkpoint, keys revised as ``Runner.load_checkpoint`` does.

    Args:
        checkpoint: a loaded checkpoint (with or without a ``state_dict`` entry).
        revise_keys: ``(pattern, replacement)`` regexes applied to every key. Defaults to stripping ``module.``.

    Returns:
        dict: key -> tensor.
    """
    state = checkpoint.get("state_dict", checkpoint)
    out = {}
    for key, value in state.items():
        if key == "_metadata":
            continue
        for pattern, repl in revise_keys:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out


def describe_rtmo(shapes: Mapping[str, Shape]) -> Optional[str]:
    """Guess ``'RTMO-<size>, <K> keypoints'`` from state-dict shapes (None for non-RTMO layouts)."""
    width = next((s[0] for k, s in shapes.items() if k.endswith("conv_cls.0.0.conv.weight")), None)
    vis = next((s[0] for k, s in shapes.items() if re.search(r"out_kpt_vis\.0\.weight$", k)), None)
    sig = shapes.get("head.loss_oks.sigmas")
    kpts = vis if vis is not None else (sig[0] if sig else None)
    if width is None and kpts is None:
        return None
    parts = [RTMO_VARIANT_BY_WIDTH.get(width, f"head width {width}") if width is not None else "RTMO-?"]
    if kpts is not None:
        parts.append(f"{kpts} keypoints")
    return ", ".join(parts)


def compare_state_dicts(model_shapes: Mapping[str, Shape], ckpt_shapes: Mapping[str, Shape],
                        ignore_keys: Sequence[str] = ()) -> CheckpointMismatch:
    """Compare two ``key -> shape`` maps; keys matching any ``ignore_keys`` regex are left out."""
    patterns = [re.compile(p) for p in ignore_keys]

    def kept(key: str) -> bool:
        return not any(p.search(key) for p in patterns)

    result = CheckpointMismatch(model_desc=describe_rtmo(model_shapes), checkpoint_desc=describe_rtmo(ckpt_shapes))
    for key, shape in model_shapes.items():
        if not kept(key):
            continue
        if key not in ckpt_shapes:
            result.missing.append((key, shape))
        elif tuple(ckpt_shapes[key]) != tuple(shape):
            result.shape_mismatch.append((key, tuple(ckpt_shapes[key]), tuple(shape)))
    result.unexpected = [(k, s) for k, s in ckpt_shapes.items() if k not in model_shapes and kept(k)]
    return result


def _shapes(state: Mapping[str, Any]) -> Dict[str, Shape]:
    return {k: tuple(v.shape) if hasattr(v, "shape") else () for k, v in state.items()}


def check_checkpoint_compatibility(model: Union[nn.Module, Mapping[str, Any]],
                                   checkpoint: Union[str, Mapping[str, Any]],
                                   allow_missing: bool = False, allow_unexpected: bool = False,
                                   ignore_keys: Sequence[str] = (), source: Optional[str] = None
                                   ) -> CheckpointMismatch:
    """Raise if ``checkpoint`` does not fit ``model``; return the (acceptable) differences otherwise.

    Shape mismatches always fail. Missing keys (model weights the checkpoint does not set) fail unless
    ``allow_missing``; unexpected keys fail unless ``allow_unexpected``.

    Args:
        model: the model, or its state dict.
        checkpoint: a checkpoint path, or a loaded checkpoint / state dict.
        allow_missing: accept model keys absent from the checkpoint. Defaults to False.
        allow_unexpected: accept checkpoint keys the model does not have. Defaults to False.
        ignore_keys: regexes of keys to leave out of the comparison. Defaults to none.
        source: name of the checkpoint in the message. Defaults to the path, or ``'checkpoint'``.

    Returns:
        CheckpointMismatch: the differences that were allowed (all lists empty for a perfect match).

    Raises:
        CheckpointMismatchError: with every difference listed.
    """
    if isinstance(checkpoint, str):
        from mmengine.runner.checkpoint import _load_checkpoint
        source = source or checkpoint
        checkpoint = _load_checkpoint(checkpoint, map_location="cpu")
    model_state = model.state_dict() if isinstance(model, nn.Module) else model
    result = compare_state_dicts(_shapes(model_state), _shapes(extract_state_dict(checkpoint)), ignore_keys)
    if (result.shape_mismatch or (result.missing and not allow_missing)
            or (result.unexpected and not allow_unexpected)):
        hint = ("\nUse a checkpoint trained with this config (same variant and keypoint set), or pass "
                "allow_missing/allow_unexpected/ignore_keys to CheckpointCompatibilityHook for a deliberate "
                "partial load.")
        kpts = [re.search(r"(\d+) keypoints", d or "") for d in (result.checkpoint_desc, result.model_desc)]
        if all(kpts) and kpts[0].group(1) != kpts[1].group(1):
            hint += ("\nFor a checkpoint of another keypoint set on purpose: CheckpointCompatibilityHook("
                     "keypoint_transfer=dict(source_metainfo=<its metainfo file>)) maps it by keypoint name "
                     "(docs/custom_keypoints.md).")
        raise CheckpointMismatchError(result.format(source or "checkpoint") + hint)
    return result


__all__ = ["CheckpointMismatch", "CheckpointMismatchError", "check_checkpoint_compatibility", "compare_state_dicts",
           "describe_rtmo", "extract_state_dict"]
