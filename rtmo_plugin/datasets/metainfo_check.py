"""Check a pose dataset metainfo file (MMPose's ``dataset_info`` format) before anything is built from it.

MMPose's :func:`~mmpose.datasets.datasets.utils.parse_pose_metainfo` turns a metainfo file into flip indices,
skeleton links and sigmas, but it checks little: a missing field is a bare ``AssertionError``, a flip partner or a
skeleton end that names no keypoint is a bare ``KeyError``, and a sigma or joint-weight list of the wrong length
passes and fails much later (or never, when ``numpy`` broadcasts it). :func:`load_checked_metainfo` checks the
fields first and raises :class:`MetainfoError` naming the file and the field, then returns MMPose's own parse, so
every setting derived from it (head ``num_keypoints``, flip indices, OKS sigmas of the losses and the metric) is
the one MMPose would use.
"""
import math
import os.path as osp
from numbers import Real
from typing import Any, Dict, List, Mapping, Union

REQUIRED_FIELDS = ("dataset_name", "keypoint_info", "skeleton_info", "joint_weights", "sigmas")


class MetainfoError(ValueError):
    """The metainfo file is inconsistent; the message names the file and the field."""


def resolve_metainfo_file(path: str) -> str:
    """The metainfo file on disk: ``path`` itself, or MMPose's packaged copy of ``configs/_base_/datasets/<name>``.

    Args:
        path: a metainfo file, e.g. ``'data/my_set/my_set_info.py'`` or ``'configs/_base_/datasets/coco.py'``.

    Returns:
        str: an existing file.

    Raises:
        MetainfoError: when neither exists.
    """
    if osp.isfile(path):
        return path
    import mmpose

    packaged = osp.join(osp.dirname(mmpose.__file__), ".mim", "configs", "_base_", "datasets", osp.basename(path))
    if osp.isfile(packaged):
        return packaged
    raise MetainfoError(f"metainfo file {path!r} not found (nor as {packaged!r})")


def _is_finite_positive(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def check_dataset_info(info: Mapping[str, Any], source: str = "metainfo") -> List[str]:
    """Every inconsistency of a ``dataset_info`` dict, each as ``'<source>: <field>: <what is wrong>'``.

    Checks: the required fields exist; keypoint ids are 0..K-1 and names are unique; every ``swap`` names a known
    keypoint whose own ``swap`` names it back; every skeleton link joins two known keypoints; ``sigmas`` and
    ``joint_weights`` have K finite positive entries.

    Args:
        info: the ``dataset_info`` dict of a metainfo file.
        source: the file name used in the messages.

    Returns:
        list[str]: the problems (empty when the metainfo is consistent).
    """
    problems = [f"{source}: {name}: missing" for name in REQUIRED_FIELDS if name not in info]
    kinfo = info.get("keypoint_info")
    if not isinstance(kinfo, Mapping) or not kinfo:
        if "keypoint_info" in info:
            problems.append(f"{source}: keypoint_info: must be a non-empty dict id -> dict(name=..., swap=...)")
        return problems
    num = len(kinfo)
    names: Dict[str, int] = {}
    if sorted(kinfo) != list(range(num)):
        problems.append(f"{source}: keypoint_info: ids must be 0..{num - 1}, got {sorted(kinfo)}")
    for kid, kpt in kinfo.items():
        name = kpt.get("name") if isinstance(kpt, Mapping) else None
        if not isinstance(name, str) or not name:
            problems.append(f"{source}: keypoint_info[{kid}].name: missing or not a string")
        elif name in names:
            problems.append(f"{source}: keypoint_info[{kid}].name: {name!r} is also keypoint {names[name]}")
        else:
            names[name] = kid
    for kid, kpt in kinfo.items():
        swap = kpt.get("swap", "") if isinstance(kpt, Mapping) else ""
        if not swap or swap == kpt.get("name"):
            continue
        if swap not in names:
            problems.append(f"{source}: keypoint_info[{kid}].swap: flip partner {swap!r} of {kpt.get('name')!r} "
                            f"is not a keypoint name (known: {', '.join(names)})")
        elif kinfo[names[swap]].get("swap", "") != kpt.get("name"):
            problems.append(f"{source}: keypoint_info[{kid}].swap: {kpt.get('name')!r} swaps with {swap!r}, but "
                            f"{swap!r} swaps with {kinfo[names[swap]].get('swap', '') or 'nothing'!r}")
    for lid, link in (info.get("skeleton_info") or {}).items():
        ends = link.get("link") if isinstance(link, Mapping) else None
        if not isinstance(ends, (list, tuple)) or len(ends) != 2:
            problems.append(f"{source}: skeleton_info[{lid}].link: must be a pair of keypoint names")
            continue
        unknown = [e for e in ends if e not in names]
        if unknown:
            problems.append(f"{source}: skeleton_info[{lid}].link: {', '.join(map(repr, unknown))} not a keypoint name")
    for field in ("sigmas", "joint_weights"):
        values = info.get(field)
        if values is None:
            continue
        if not isinstance(values, (list, tuple)) or len(values) != num:
            count = len(values) if isinstance(values, (list, tuple)) else type(values).__name__
            problems.append(f"{source}: {field}: {count} entries for {num} keypoints (one per keypoint, in id order)")
        elif not all(_is_finite_positive(v) for v in values):
            bad = [i for i, v in enumerate(values) if not _is_finite_positive(v)]
            problems.append(f"{source}: {field}: entries {bad} are not finite positive numbers")
    return problems


def load_checked_metainfo(metainfo: Union[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """Check a metainfo file (or a ``dict(from_file=...)``) and return MMPose's parse of it.

    Args:
        metainfo: path of a file holding ``dataset_info = dict(...)``, or ``dict(from_file=path)``.

    Returns:
        dict: :func:`parse_pose_metainfo`'s result (``num_keypoints``, ``keypoint_id2name``, ``flip_indices``,
        ``sigmas`` (K,), ...) plus ``'from_file'``, the resolved path.

    Raises:
        MetainfoError: listing every problem, each with the file and the field.
    """
    from mmengine.config import Config
    from mmpose.datasets.datasets.utils import parse_pose_metainfo

    path = metainfo["from_file"] if isinstance(metainfo, Mapping) else metainfo
    path = resolve_metainfo_file(str(path))
    try:
        info = Config.fromfile(path).get("dataset_info")
    except Exception as err:  # a syntax error or a bad _base_ in the user's file
        raise MetainfoError(f"{path}: cannot be read as an MMEngine config: {err}") from err
    if info is None:
        raise MetainfoError(f"{path}: dataset_info: missing (the file must define dataset_info = dict(...))")
    problems = check_dataset_info(info, path)
    if problems:
        raise MetainfoError(f"{len(problems)} problem(s) in the keypoint metainfo:\n  " + "\n  ".join(problems))
    parsed = parse_pose_metainfo(dict(info))
    parsed["from_file"] = path
    return parsed


def keypoint_settings(metainfo_file: str) -> Dict[str, Any]:
    """The keypoint-dependent settings a config derives from its metainfo file (checked first).

    For use inside a config file (see ``configs/custom/``); returns plain data only, so a dumped config stays
    loadable.

    Args:
        metainfo_file: path of the dataset's metainfo file.

    Returns:
        dict: ``num_keypoints`` (K), ``names`` (K,), ``flip_indices`` (K,), ``sigmas`` (K,) as lists,
        ``metainfo`` (``dict(from_file=metainfo_file)`` for datasets) and ``file`` (``metainfo_file``, for the
        losses / assigner; both as given, so MMPose resolves ``configs/_base_/datasets/<name>`` as usual).
    """
    parsed = load_checked_metainfo(metainfo_file)
    return dict(num_keypoints=int(parsed["num_keypoints"]),
                names=[parsed["keypoint_id2name"][i] for i in range(parsed["num_keypoints"])],
                flip_indices=[int(i) for i in parsed["flip_indices"]],
                sigmas=[float(s) for s in parsed["sigmas"]],
                metainfo=dict(from_file=metainfo_file), file=metainfo_file)


__all__ = ["MetainfoError", "check_dataset_info", "keypoint_settings", "load_checked_metainfo",
           "resolve_metainfo_file"]
