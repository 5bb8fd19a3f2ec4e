"""Metainfo checks (rtmo_plugin.datasets.metainfo_check) and the custom-keypoint config that derives from them."""
from pathlib import Path

import pytest

from rtmo_plugin.datasets.metainfo_check import MetainfoError, keypoint_settings, load_checked_metainfo

CUSTOM = "configs/custom/rtmo-s_8xb32-300e_custom-coco-format.py"

# a 5-keypoint set: the smallest file with a flip pair, a skeleton, sigmas and weights
GOOD = """dataset_info = dict(
    dataset_name='five',
    keypoint_info={
        0: dict(name='head', id=0, swap=''),
        1: dict(name='left_hand', id=1, swap='right_hand'),
        2: dict(name='right_hand', id=2, swap='left_hand'),
        3: dict(name='left_foot', id=3, swap='right_foot'),
        4: dict(name='right_foot', id=4, swap='left_foot')},
    skeleton_info={0: dict(link=('head', 'left_hand'), id=0), 1: dict(link=('head', 'right_hand'), id=1),
                   2: dict(link=('left_foot', 'right_foot'), id=2)},
    joint_weights=[1.0, 1.2, 1.2, 1.5, 1.5],
    sigmas=[0.026, 0.062, 0.062, 0.089, 0.089])
"""


def write(tmp_path: Path, text: str, name: str = "five.py") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_good_file_gives_mmpose_parse(tmp_path: Path) -> None:
    meta = load_checked_metainfo(write(tmp_path, GOOD))
    assert meta["num_keypoints"] == 5 and meta["flip_indices"] == [0, 2, 1, 4, 3]
    settings = keypoint_settings(write(tmp_path, GOOD))
    assert settings["names"][1] == "left_hand" and len(settings["sigmas"]) == 5


@pytest.mark.parametrize("old, new, field", [
    ("swap='right_hand')", "swap='right_paw')", r"keypoint_info\[1\]\.swap: flip partner 'right_paw'"),
    ("sigmas=[0.026, 0.062, 0.062, 0.089, 0.089]", "sigmas=[0.026, 0.062, 0.062, 0.089]",
     "sigmas: 4 entries for 5 keypoints"),
    ("joint_weights=[1.0, 1.2, 1.2, 1.5, 1.5]", "joint_weights=[1.0, 1.2, 1.2, 1.5, 1.5, 1.0]",
     "joint_weights: 6 entries for 5 keypoints"),
    ("sigmas=[0.026,", "sigmas=[-0.026,", r"sigmas: entries \[0\] are not finite positive"),
    ("link=('left_foot', 'right_foot')", "link=('left_foot', 'tail')", r"skeleton_info\[2\]\.link: 'tail'"),
    ("swap='left_foot')}", "swap='head')}", r"keypoint_info\[4\]\.swap: 'right_foot' swaps with 'head'"),
    ("3: dict(name='left_foot'", "3: dict(name='left_hand'", r"keypoint_info\[3\]\.name: 'left_hand' is also"),
    ("    sigmas=[0.026, 0.062, 0.062, 0.089, 0.089])", ")", "sigmas: missing"),
])
def test_inconsistent_file_names_file_and_field(tmp_path: Path, old: str, new: str, field: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(MetainfoError, match=field) as err:
        load_checked_metainfo(path)
    assert path in str(err.value)


def test_missing_file_and_missing_dataset_info(tmp_path: Path) -> None:
    with pytest.raises(MetainfoError, match="not found"):
        load_checked_metainfo(str(tmp_path / "nope.py"))
    with pytest.raises(MetainfoError, match="dataset_info: missing"):
        load_checked_metainfo(write(tmp_path, "x = 1\n"))


def custom_config(repo_root: Path, tmp_path: Path, metafile: str) -> Path:
    text = (repo_root / CUSTOM).read_text().replace("'../_base_/", f"'{repo_root}/configs/_base_/")
    text = text.replace("metafile = 'configs/_base_/datasets/halpe26.py'", f"metafile = {metafile!r}")
    path = tmp_path / "my_rtmo.py"
    path.write_text(text)
    return path


def test_custom_config_derives_every_keypoint_setting(repo_root: Path, tmp_path: Path) -> None:
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    metafile = write(tmp_path, GOOD)
    cfg = Config.fromfile(str(custom_config(repo_root, tmp_path, metafile)))
    assert cfg.model.head.num_keypoints == 5
    assert cfg.model.head.loss_oks.metainfo == metafile
    assert cfg.model.head.assigner.oks_calculator.metainfo == metafile
    for split in ("train", "val", "test"):
        assert cfg[f"{split}_dataloader"].dataset.metainfo == dict(from_file=metafile)
    assert cfg.custom_hooks[-1] == dict(type="CheckpointCompatibilityHook", keypoint_transfer=None)
    init_default_scope("mmpose")
    cfg.model.backbone.init_cfg = None
    head = MODELS.build(cfg.model).head
    assert head.loss_oks.sigmas.tolist() == pytest.approx([0.026, 0.062, 0.062, 0.089, 0.089])
    assert tuple(head.dcc.pos_enc.shape) == (5, 128)


def test_custom_config_stops_on_a_bad_metainfo(repo_root: Path, tmp_path: Path) -> None:
    from mmengine.config import Config

    bad = write(tmp_path, GOOD.replace("swap='right_hand')", "swap='right_paw')"), "bad.py")
    with pytest.raises(Exception, match=r"bad\.py: keypoint_info\[1\]\.swap"):
        Config.fromfile(str(custom_config(repo_root, tmp_path, bad)))
