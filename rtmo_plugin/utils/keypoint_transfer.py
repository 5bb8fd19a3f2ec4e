"""Start a K'-keypoint RTMO from a K-keypoint checkpoint, keypoint by keypoint NAME.

Which tensors depend on the number of keypoints K is found, not listed: :func:`keypoint_dependent_layout` builds
the model twice, with K' and K'+1 keypoints, and every tensor whose shape differs depends on K. In RTMO these are
the head's ``out_kpt_reg`` (2K rows: x, y per keypoint) and ``out_kpt_vis`` (K) convs of every level, the DCC's
``pose_to_kpts`` linear + BatchNorm (K*C rows: one C-channel token per keypoint, the tokens the GAU mixes), its
keypoint position embedding ``pos_enc`` (K, C) and ``sigma_fc`` (K rows), and the OKS loss' ``sigmas`` buffer. All
of them are keypoint-major: the head reshapes each to (..., K, m), so rows ``k*m .. k*m+m-1`` belong to keypoint k.

:func:`transfer_keypoints` then builds the K' state dict:

* **copied**: every tensor that does not depend on K, exactly (backbone, neck, box/cls branches, DCC bins, GAU);
* **mapped**: the rows of a target keypoint whose name is in the source set are the source rows of that name,
  bit for bit;
* **initialised**: a target keypoint without a source of the same name gets the mean of the rows of its
  *neighbours* (:data:`DEFAULT_NEIGHBOURS`: e.g. ``left_heel`` from ``left_ankle``, ``neck`` from the two
  shoulders), so it starts by predicting roughly where its neighbour is; with no neighbour in the source set it
  keeps the target model's fresh initialisation;
* **from the target config**: buffers of the loss modules (the OKS loss' per-keypoint ``sigmas``), which the
  config derives from the target metainfo and training never changes.

Every key of both state dicts lands in exactly one of these groups, or the transfer raises
:class:`KeypointTransferError`: a tensor that differs in a way other than K (another RTMO variant) is refused.
"""
import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

#: Target keypoint name -> source keypoint names whose rows it starts from (mean) when the source has no keypoint
#: of its own name. Covers the COCO-17 -> Halpe-26 / CrowdPose-14 additions; a config or the tool can add more.
DEFAULT_NEIGHBOURS: Dict[str, Tuple[str, ...]] = {
    "head": ("left_eye", "right_eye"),  # Halpe head top: above the eyes
    "top_head": ("left_eye", "right_eye"),  # CrowdPose
    "neck": ("left_shoulder", "right_shoulder"),
    "hip": ("left_hip", "right_hip"),  # Halpe pelvis
    "left_big_toe": ("left_ankle",), "right_big_toe": ("right_ankle",),
    "left_small_toe": ("left_ankle",), "right_small_toe": ("right_ankle",),
    "left_heel": ("left_ankle",), "right_heel": ("right_ankle",),
}
#: State-dict keys under these modules are derived from the target config (OKS sigmas), never from a checkpoint.
CONFIG_BUFFER_PATTERN = r"(^|\.)(loss_\w+|assigner)\."


class KeypointTransferError(RuntimeError):
    """The checkpoint cannot be transferred to the target model; the message lists why."""


@dataclass
class KeypointLayout:
    """Where the keypoints are in one K-dependent tensor.

    Attributes:
        dim: the dimension of size ``rows_per_keypoint * K``.
        rows_per_keypoint: m, the entries per keypoint along ``dim`` (2 for x/y offsets, C for DCC tokens).
    """

    dim: int
    rows_per_keypoint: int


@dataclass
class TransferReport:
    """What :func:`transfer_keypoints` did with every tensor.

    Attributes:
        source_names: the K source keypoint names, in checkpoint order.
        target_names: the K' target keypoint names, in model order.
        keypoint_sources: target name -> ``'mapped from <name>'``, ``'mean of <a>, <b>'`` or ``'fresh init'``.
        copied: keys copied exactly.
        mapped: keys of the K-dependent tensors (row-mapped) -> their layout.
        from_target_config: keys kept from the target model (config-derived buffers).
        dropped: source keys left out (always empty after a successful transfer).
    """

    source_names: List[str]
    target_names: List[str]
    keypoint_sources: Dict[str, str] = field(default_factory=dict)
    copied: List[str] = field(default_factory=list)
    mapped: Dict[str, KeypointLayout] = field(default_factory=dict)
    from_target_config: List[str] = field(default_factory=list)
    dropped: List[str] = field(default_factory=list)

    @property
    def matched(self) -> List[str]:
        """Target keypoints taken from a source keypoint of the same name."""
        return [n for n, how in self.keypoint_sources.items() if how.startswith("mapped")]

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready summary."""
        return dict(source_keypoints=self.source_names, target_keypoints=self.target_names,
                    keypoints=self.keypoint_sources, copied=self.copied,
                    mapped={k: dict(dim=v.dim, rows_per_keypoint=v.rows_per_keypoint) for k, v in self.mapped.items()},
                    from_target_config=self.from_target_config, dropped=self.dropped,
                    counts=dict(copied=len(self.copied), mapped=len(self.mapped),
                                from_target_config=len(self.from_target_config),
                                matched_keypoints=len(self.matched),
                                initialised_keypoints=len(self.target_names) - len(self.matched)))

    def to_markdown(self) -> str:
        """A readable report: one row per target keypoint, then the K-dependent tensors."""
        lines = [f"# Keypoint transfer: {len(self.source_names)} -> {len(self.target_names)} keypoints", "",
                 f"{len(self.copied)} tensors copied exactly, {len(self.mapped)} mapped row by row, "
                 f"{len(self.from_target_config)} from the target config, {len(self.dropped)} dropped.", "",
                 "| target keypoint | rows from |", "|---|---|"]
        lines += [f"| {i} {name} | {self.keypoint_sources[name]} |" for i, name in enumerate(self.target_names)]
        lines += ["", "| K-dependent tensor | dim | rows per keypoint |", "|---|---|---|"]
        lines += [f"| `{k}` | {v.dim} | {v.rows_per_keypoint} |" for k, v in self.mapped.items()]
        if self.from_target_config:
            lines += ["", "From the target config: " + ", ".join(f"`{k}`" for k in self.from_target_config)]
        return "\n".join(lines) + "\n"

    def write(self, json_file: Optional[str] = None, markdown_file: Optional[str] = None) -> None:
        """Write the JSON and/or markdown report."""
        if json_file:
            with open(json_file, "w") as f:
                json.dump(self.to_dict(), f, indent=1)
        if markdown_file:
            with open(markdown_file, "w") as f:
                f.write(self.to_markdown())


def _with_num_keypoints(model_cfg: Mapping[str, Any], num_keypoints: int) -> Dict[str, Any]:
    cfg = copy.deepcopy(dict(model_cfg))
    cfg["head"] = dict(cfg["head"], num_keypoints=num_keypoints)
    cfg.pop("init_cfg", None)
    return cfg


def keypoint_dependent_layout(model_cfg: Mapping[str, Any], num_keypoints: int) -> Dict[str, KeypointLayout]:
    """Find the K-dependent tensors of a model by building it with K and K+1 keypoints.

    Args:
        model_cfg: the model config (``cfg.model``), with ``head.num_keypoints``.
        num_keypoints: K of the model to transfer to.

    Returns:
        dict: state-dict key -> :class:`KeypointLayout`, for every tensor whose shape changes with K.

    Raises:
        KeypointTransferError: when a shape changes in more than one dimension or not by a multiple of K.
    """
    from mmpose.registry import MODELS

    shapes = []
    for k in (num_keypoints, num_keypoints + 1):
        model = MODELS.build(_with_num_keypoints(model_cfg, k))
        shapes.append({key: tuple(v.shape) for key, v in model.state_dict().items()})
    layout = {}
    for key, shape_k in shapes[0].items():
        shape_k1 = shapes[1][key]
        if shape_k == shape_k1:
            continue
        dims = [d for d, (a, b) in enumerate(zip(shape_k, shape_k1)) if a != b]
        per_kpt = shape_k1[dims[0]] - shape_k[dims[0]] if len(dims) == 1 else 0
        if len(dims) != 1 or per_kpt <= 0 or shape_k[dims[0]] != per_kpt * num_keypoints:
            raise KeypointTransferError(f"{key}: shape {shape_k} with K={num_keypoints} and {shape_k1} with "
                                        f"K={num_keypoints + 1} is not (m*K) along one dimension")
        layout[key] = KeypointLayout(dim=dims[0], rows_per_keypoint=per_kpt)
    return layout


def _rows(tensor: Tensor, layout: KeypointLayout, k: int) -> Tensor:
    """The entries of keypoint ``k``: (..., m, ...) along ``layout.dim``."""
    m = layout.rows_per_keypoint
    return tensor.narrow(layout.dim, k * m, m)


def plan_keypoints(source_names: Sequence[str], target_names: Sequence[str],
                   neighbours: Optional[Mapping[str, Sequence[str]]] = None) -> Dict[str, List[int]]:
    """For every target keypoint, the source indices whose rows it gets (one = mapped, several = mean, none = fresh).

    Args:
        source_names: K source names.
        target_names: K' target names.
        neighbours: target name -> source names used when the name itself is not in the source set. Defaults to
            :data:`DEFAULT_NEIGHBOURS`; ``{}`` leaves every unmatched keypoint freshly initialised.

    Returns:
        dict: target name -> list of source indices.
    """
    neighbours = DEFAULT_NEIGHBOURS if neighbours is None else neighbours
    index = {name: i for i, name in enumerate(source_names)}
    plan = {}
    for name in target_names:
        if name in index:
            plan[name] = [index[name]]
        else:
            near = [index[n] for n in neighbours.get(name, ()) if n in index]
            # all named neighbours must exist, else fall back to the fresh init (a half-found mean is misleading)
            plan[name] = near if near and len(near) == len(neighbours.get(name, ())) else []
    return plan


def transfer_keypoints(source_state: Mapping[str, Tensor], target_state: Mapping[str, Tensor],
                       layout: Mapping[str, KeypointLayout], source_names: Sequence[str],
                       target_names: Sequence[str], neighbours: Optional[Mapping[str, Sequence[str]]] = None,
                       config_buffer_pattern: str = CONFIG_BUFFER_PATTERN) -> Tuple[Dict[str, Tensor], TransferReport]:
    """Build the target state dict from a source state dict of another keypoint set.

    Args:
        source_state: the checkpoint's weights (K keypoints), keys as in the model.
        target_state: the freshly initialised target model's weights (K' keypoints): fresh rows and config buffers
            come from here.
        layout: :func:`keypoint_dependent_layout` of the target model.
        source_names: the K source keypoint names (checkpoint order).
        target_names: the K' target keypoint names (model order).
        neighbours: see :func:`plan_keypoints`.
        config_buffer_pattern: regex of keys always taken from ``target_state``.

    Returns:
        tuple: (new state dict with exactly ``target_state``'s keys and shapes, :class:`TransferReport`).

    Raises:
        KeypointTransferError: key sets differ, a non-K tensor differs in shape, or the checkpoint's K does not
            match ``source_names``.
    """
    k_src, k_tgt = len(source_names), len(target_names)
    problems = [f"missing in the checkpoint: {k}" for k in target_state if k not in source_state]
    problems += [f"not in the target model: {k}" for k in source_state if k not in target_state]
    config_re = re.compile(config_buffer_pattern)
    for key, lay in layout.items():
        if key in source_state and not config_re.search(key):
            got = source_state[key].shape[lay.dim]
            if got != lay.rows_per_keypoint * k_src:
                problems.append(f"{key}: {got} entries along dim {lay.dim}, expected {lay.rows_per_keypoint} x "
                                f"{k_src} source keypoints ({', '.join(source_names[:3])}, ...)")
    for key, value in target_state.items():
        if (key in source_state and key not in layout and not config_re.search(key)
                and tuple(source_state[key].shape) != tuple(value.shape)):
            problems.append(f"{key}: checkpoint {list(source_state[key].shape)} vs model {list(value.shape)} "
                            "(does not depend on the keypoint count: another model variant?)")
    if problems:
        raise KeypointTransferError(f"cannot transfer {k_src} -> {k_tgt} keypoints:\n  " + "\n  ".join(problems))

    plan = plan_keypoints(source_names, target_names, neighbours)
    report = TransferReport(list(source_names), list(target_names))
    for name, src in plan.items():
        listed = ", ".join(source_names[i] for i in src)
        if len(src) == 1 and source_names[src[0]] == name:
            report.keypoint_sources[name] = f"mapped from {name}"
        else:
            report.keypoint_sources[name] = (f"copy of {listed}" if len(src) == 1 else f"mean of {listed}" if src
                                             else "fresh init")
    out: Dict[str, Tensor] = {}
    for key, value in target_state.items():
        if config_re.search(key):
            out[key] = value.clone()
            report.from_target_config.append(key)
        elif key in layout:
            lay, src_value = layout[key], source_state[key]
            new = value.clone()
            for t, name in enumerate(target_names):
                if plan[name]:
                    rows = torch.stack([_rows(src_value, lay, s) for s in plan[name]]).to(value.dtype)
                    _rows(new, lay, t).copy_(rows[0] if len(plan[name]) == 1 else rows.mean(0))
            out[key] = new
            report.mapped[key] = lay
        else:
            out[key] = source_state[key].clone()
            report.copied.append(key)
    return out, report


def transfer_checkpoint_state(source_state: Mapping[str, Tensor], model: torch.nn.Module,
                              model_cfg: Mapping[str, Any], source_names: Sequence[str],
                              target_names: Sequence[str], neighbours: Optional[Mapping[str, Sequence[str]]] = None
                              ) -> Tuple[Dict[str, Tensor], TransferReport]:
    """:func:`transfer_keypoints` for a built target ``model`` of config ``model_cfg`` (layout found by probing).

    Args:
        source_state: checkpoint weights (K keypoints).
        model: the target model (K' keypoints), freshly initialised.
        model_cfg: its config, for :func:`keypoint_dependent_layout`.
        source_names: K source names.
        target_names: K' target names; must match the model's K'.
        neighbours: see :func:`plan_keypoints`.

    Returns:
        tuple: (state dict for ``model``, report).
    """
    k_model = int(model_cfg["head"]["num_keypoints"])
    if k_model != len(target_names):
        raise KeypointTransferError(f"the model has {k_model} keypoints but the target metainfo names "
                                    f"{len(target_names)}")
    layout = keypoint_dependent_layout(model_cfg, k_model)
    return transfer_keypoints(source_state, model.state_dict(), layout, source_names, target_names, neighbours)


__all__ = ["DEFAULT_NEIGHBOURS", "KeypointLayout", "KeypointTransferError", "TransferReport",
           "keypoint_dependent_layout", "plan_keypoints", "transfer_checkpoint_state", "transfer_keypoints"]
