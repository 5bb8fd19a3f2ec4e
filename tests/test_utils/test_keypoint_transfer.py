"""Keypoint transfer between keypoint sets (rtmo_plugin.utils.keypoint_transfer) on the small demo model."""
from typing import Dict, List, Tuple

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from rtmo_plugin.datasets.metainfo_check import load_checked_metainfo
from rtmo_plugin.utils.keypoint_transfer import (
    KeypointTransferError,
    keypoint_dependent_layout,
    plan_keypoints,
    transfer_checkpoint_state,
    transfer_keypoints,
)

COCO, HALPE, CROWDPOSE = ("configs/_base_/datasets/coco.py", "configs/_base_/datasets/halpe26.py",
                          "configs/_base_/datasets/crowdpose.py")


def names(metainfo: str) -> List[str]:
    meta = load_checked_metainfo(metainfo)
    return [meta["keypoint_id2name"][i] for i in range(meta["num_keypoints"])]


def demo_cfg(repo_root, metainfo: str = COCO) -> Config:
    """The demo model config with K and the OKS sigmas of ``metainfo``; every box kept (score_thr 0)."""
    cfg = Config.fromfile(str(repo_root / "configs" / "demo" / "rtmo-tiny_synthetic-160.py"))
    cfg.model.head.num_keypoints = len(names(metainfo))
    if metainfo != COCO:
        cfg.model.head.assigner.oks_calculator.metainfo = metainfo
        cfg.model.head.loss_oks.metainfo = metainfo
    cfg.model.test_cfg.score_thr = 0.0  # random weights score below the demo's 0.1: compare every box
    return cfg


def build(cfg: Config, seed: int) -> torch.nn.Module:
    from mmpose.registry import MODELS

    init_default_scope("mmpose")
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


@pytest.fixture(scope="module")
def coco_to_halpe(repo_root) -> Tuple[torch.nn.Module, torch.nn.Module, Dict, object, Config]:
    src = build(demo_cfg(repo_root), seed=0)
    tgt_cfg = demo_cfg(repo_root, HALPE)
    tgt = build(tgt_cfg, seed=1)
    fresh = {k: v.clone() for k, v in tgt.state_dict().items()}
    state, report = transfer_checkpoint_state(src.state_dict(), tgt, tgt_cfg.model, names(COCO), names(HALPE))
    tgt.load_state_dict(state, strict=True)
    return src, tgt, fresh, report, tgt_cfg


def test_layout_found_by_probing_covers_the_keypoint_tensors(repo_root) -> None:
    layout = keypoint_dependent_layout(demo_cfg(repo_root).model, 17)
    per_kpt = {k: v.rows_per_keypoint for k, v in layout.items()}
    # the head's vis / offset convs on both levels, the DCC's keypoint tokens, position embedding and sigma layer
    for level in (0, 1):
        assert per_kpt[f"head.head_module.out_kpt_reg.{level}.weight"] == 2
        assert per_kpt[f"head.head_module.out_kpt_vis.{level}.bias"] == 1
    assert per_kpt["head.dcc.pose_to_kpts.0.weight"] == 128 and per_kpt["head.dcc.pose_to_kpts.1.running_var"] == 128
    assert per_kpt["head.dcc.pos_enc"] == 1 and layout["head.dcc.pos_enc"].dim == 0
    assert per_kpt["head.dcc.sigma_fc.0.weight"] == 1
    assert all(k.startswith("head.") for k in layout) and len(layout) == 17


def test_every_tensor_is_accounted_for(coco_to_halpe) -> None:
    src, tgt, _, report, _ = coco_to_halpe
    groups = [set(report.copied), set(report.mapped), set(report.from_target_config)]
    assert sum(len(g) for g in groups) == len(set.union(*groups))  # disjoint
    assert set.union(*groups) == set(tgt.state_dict()) == set(src.state_dict())
    assert report.dropped == [] and report.from_target_config == ["head.loss_oks.sigmas"]
    assert report.to_dict()["counts"]["matched_keypoints"] == 17


def test_copied_tensors_and_mapped_rows_are_bit_identical(coco_to_halpe) -> None:
    src, tgt, fresh, report, _ = coco_to_halpe
    s, t = src.state_dict(), tgt.state_dict()
    for key in report.copied:
        assert torch.equal(s[key], t[key]), key
    src_names, tgt_names = names(COCO), names(HALPE)
    for key, lay in report.mapped.items():
        m = lay.rows_per_keypoint
        for ti, name in enumerate(tgt_names):
            rows = t[key].narrow(lay.dim, ti * m, m)
            if name in src_names:
                si = src_names.index(name)
                assert torch.equal(rows, s[key].narrow(lay.dim, si * m, m)), (key, name)
        # neighbours: the heel starts as the ankle, the neck as the mean of the shoulders
        heel, ankle = tgt_names.index("left_heel"), src_names.index("left_ankle")
        assert torch.equal(t[key].narrow(lay.dim, heel * m, m), s[key].narrow(lay.dim, ankle * m, m))
        neck = t[key].narrow(lay.dim, tgt_names.index("neck") * m, m)
        shoulders = [s[key].narrow(lay.dim, src_names.index(n) * m, m) for n in ("left_shoulder", "right_shoulder")]
        assert torch.allclose(neck, (shoulders[0] + shoulders[1]) / 2)
    assert torch.equal(t["head.loss_oks.sigmas"], fresh["head.loss_oks.sigmas"])  # Halpe's, from the config


def test_without_neighbours_unmatched_rows_keep_the_fresh_init(coco_to_halpe) -> None:
    src, tgt, fresh, report, tgt_cfg = coco_to_halpe
    layout = {k: v for k, v in report.mapped.items()}
    state, rep = transfer_keypoints(src.state_dict(), fresh, layout, names(COCO), names(HALPE), neighbours={})
    assert rep.keypoint_sources["head"] == "fresh init" and len(rep.matched) == 17
    lay = layout["head.dcc.pos_enc"]
    for ti in range(17, 26):
        assert torch.equal(state["head.dcc.pos_enc"][ti], fresh["head.dcc.pos_enc"][ti])
    assert lay.rows_per_keypoint == 1


def test_plan_falls_back_to_fresh_init_when_a_neighbour_is_missing() -> None:
    plan = plan_keypoints(["a", "b"], ["a", "c", "d"], neighbours={"c": ("b",), "d": ("b", "x")})
    assert plan == {"a": [0], "c": [1], "d": []}


def test_predictions_of_the_shared_keypoints_before_fine_tuning(coco_to_halpe, repo_root) -> None:
    """Same images, same boxes; the 17 shared keypoints move a little (the GAU attends over 26 tokens, not 17).

    Measured (seed 0/1, 4 synthetic images, score threshold 0, 2,000 boxes in all): keypoint displacement / sqrt(box
    area) median 0.039, mean 0.142 for the transferred model; mean 0.728 when the 17 keypoints' rows are freshly
    initialised instead (same backbone and box branch), i.e. without the mapping of the keypoint rows.
    """
    from rtmo_plugin.apis import RTMOInferencer
    from rtmo_plugin.datasets.synthetic import SyntheticConfig, render_image

    src, tgt, fresh, report, tgt_cfg = coco_to_halpe
    images = [render_image(np.random.default_rng([7, i]), SyntheticConfig())[0] for i in range(4)]
    ref = build(tgt_cfg, seed=1)
    ref_state = dict(tgt.state_dict(), **{k: fresh[k] for k in report.mapped})
    ref.load_state_dict(ref_state)

    def errors(a, b) -> np.ndarray:
        out = []
        for pa, pb in zip(a, b):
            np.testing.assert_allclose(pa.bboxes, pb.bboxes, atol=1e-4)  # box branch does not depend on K
            size = np.sqrt((pa.bboxes[:, 2] - pa.bboxes[:, 0]) * (pa.bboxes[:, 3] - pa.bboxes[:, 1]))[:, None]
            out.append((np.linalg.norm(pa.keypoints[:, :17] - pb.keypoints[:, :17], axis=-1) / size).ravel())
        return np.concatenate(out)

    with torch.no_grad():
        p_src, p_tgt, p_ref = (RTMOInferencer(m, mode="eval")(images) for m in (src, tgt, ref))
    moved, fresh_moved = errors(p_src, p_tgt), errors(p_src, p_ref)
    assert moved.size > 1000
    assert np.median(moved) < 0.08 and moved.mean() < 0.25
    assert moved.mean() < 0.3 * fresh_moved.mean()


def test_same_keypoints_transfer_is_the_identity(repo_root) -> None:
    cfg = demo_cfg(repo_root)
    src, tgt = build(cfg, seed=0), build(cfg, seed=1)
    state, report = transfer_checkpoint_state(src.state_dict(), tgt, cfg.model, names(COCO), names(COCO))
    for key, value in src.state_dict().items():
        if key not in report.from_target_config:
            assert torch.equal(state[key], value), key


def test_coco_to_crowdpose_maps_the_twelve_limb_joints(repo_root) -> None:
    src = build(demo_cfg(repo_root), seed=0)
    cfg = demo_cfg(repo_root, CROWDPOSE)
    tgt = build(cfg, seed=1)
    state, report = transfer_checkpoint_state(src.state_dict(), tgt, cfg.model, names(COCO), names(CROWDPOSE))
    assert len(report.matched) == 12
    assert report.keypoint_sources["top_head"] == "mean of left_eye, right_eye"
    assert state["head.dcc.pos_enc"].shape == (14, 128)
    tgt.load_state_dict(state, strict=True)


def test_another_variant_is_refused(repo_root) -> None:
    src = build(demo_cfg(repo_root), seed=0)
    cfg = demo_cfg(repo_root, HALPE)
    cfg.model.neck.hidden_dim = 64  # a different model, not just another keypoint set
    cfg.model.neck.encoder_cfg.self_attn_cfg.embed_dims = 64
    cfg.model.neck.encoder_cfg.ffn_cfg.embed_dims = 64
    cfg.model.neck.projector.in_channels = [64, 64]
    tgt = build(cfg, seed=1)
    with pytest.raises(KeypointTransferError, match="another model variant"):
        transfer_checkpoint_state(src.state_dict(), tgt, cfg.model, names(COCO), names(HALPE))


def test_wrong_source_keypoint_count_is_refused(coco_to_halpe) -> None:
    src, tgt, fresh, report, _ = coco_to_halpe
    with pytest.raises(KeypointTransferError, match="source keypoints"):
        transfer_keypoints(src.state_dict(), fresh, report.mapped, names(CROWDPOSE), names(HALPE))


def test_probe_on_rtmo_s_finds_the_official_checkpoint_keypoint_tensors(repo_root) -> None:
    """The K-dependent tensors the probe finds on RTMO-s are those of the official layout whose first dimension is
    17, 34 or 17 x 128 (docs/state_dict_keys/rtmo-s.txt), except the OKS sigmas, which come from the config."""
    key_list = repo_root.parent / "shared" / "docs" / "state_dict_keys" / "rtmo-s.txt"
    if not key_list.is_file():
        pytest.skip(f"{key_list} not found")
    official = set()
    for line in key_list.read_text().splitlines():
        key, _, shape = line.partition("\t")
        dims = [int(d) for d in shape.strip("[]").split(",") if d.strip()] if shape.startswith("[") else []
        if dims and dims[0] in (17, 34, 17 * 128):
            official.add(key)
    cfg = Config.fromfile(str(repo_root / "configs" / "rtmo-s_8xb32-600e_coco.py"))
    cfg.model.backbone.init_cfg = None
    init_default_scope("mmpose")
    assert set(keypoint_dependent_layout(cfg.model, 17)) == official - {"head.loss_oks.sigmas"}
