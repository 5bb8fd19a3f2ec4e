"""Behaviour of RTMODCCHead on its own (synthetic neck features, RTMO-t head config)."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

from rtmo_plugin.testing.reference import plugin_config_path

SIZE = 256  # input side; strides 16/32 -> 16x16 + 8x8 = 320 priors
K = 17


@pytest.fixture()
def head():
    cfg = Config.fromfile(str(plugin_config_path("t", "coco"))).model.head
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def _feats(batch: int = 2):
    return (torch.randn(batch, 192, SIZE // 16, SIZE // 16), torch.randn(batch, 192, SIZE // 32, SIZE // 32))


def _person(cx: float, cy: float, w: float = 60.0, h: float = 120.0) -> dict:
    kpts = np.stack([cx + np.linspace(-w / 3, w / 3, K), cy + np.linspace(-h / 2.5, h / 2.5, K)], axis=-1)
    return dict(bbox=[cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], kpts=kpts, area=w * h * 0.6)


def _sample(people) -> PoseDataSample:
    sample = PoseDataSample(metainfo=dict(input_size=(SIZE, SIZE)))
    n = len(people)
    sample.gt_instance_labels = InstanceData(
        bboxes=torch.tensor([p["bbox"] for p in people], dtype=torch.float32).reshape(n, 4),
        labels=torch.zeros(n, dtype=torch.long),
        keypoints=torch.tensor(np.array([p["kpts"] for p in people]), dtype=torch.float32).reshape(n, K, 2),
        keypoints_visible=torch.ones(n, K),
        areas=torch.tensor([p["area"] for p in people], dtype=torch.float32))
    return sample


def test_forward_shapes_train_and_eval(head):
    feats = _feats()
    head.train()
    cls, bbox, kpt_off, vis, pose = head(feats)
    assert [c.shape for c in cls] == [(2, 1, 16, 16), (2, 1, 8, 8)]
    assert [b.shape[1] for b in bbox] == [4, 4]
    assert [k.shape[1] for k in kpt_off] == [2 * K, 2 * K]
    assert [v.shape[1] for v in vis] == [K, K]
    assert [p.shape[1] for p in pose] == [192, 192]
    head.eval()
    assert head(feats)[2] == []  # proxy keypoints are a training-only output


def test_one_person_every_loss_term_positive_and_every_head_parameter_gets_gradient(head):
    head.train()
    head.use_aux_loss = True
    feats = _feats(batch=2)
    samples = [_sample([_person(100, 120), _person(180, 110)]), _sample([_person(128, 128)])]
    losses = head.loss(feats, samples)
    assert {"loss_bbox", "loss_vis", "loss_mle", "loss_oks", "loss_cls", "loss_bbox_aux"} <= set(losses)
    for key, value in losses.items():
        assert torch.isfinite(value).all(), key
        if key.startswith("loss"):
            assert value.mean().item() > 0, key
    sum(v.mean() for k, v in losses.items() if k.startswith("loss")).backward()
    no_grad = [n for n, p in head.named_parameters() if p.grad is None]
    assert not no_grad
    assert all(torch.isfinite(p.grad).all() for p in head.parameters())


def test_proxy_target_cc_changes_oks_targets(head):
    head.train()
    feats = _feats(batch=1)
    samples = [_sample([_person(128, 128)])]
    torch.manual_seed(1)
    plain = head.loss(feats, samples)
    head.proxy_target_cc = True
    cc = head.loss(feats, samples)
    assert torch.equal(plain["loss_bbox"], cc["loss_bbox"])
    assert not torch.equal(plain["loss_oks"], cc["loss_oks"])


def test_empty_ground_truth_only_classification_loss(head):
    head.train()
    head.use_aux_loss = True
    feats = _feats(batch=1)
    losses = head.loss(feats, [_sample([])])
    for key, value in losses.items():
        assert torch.isfinite(value).all(), key
        if key.startswith("loss") and key != "loss_cls":
            assert value.abs().sum().item() == 0.0, key
    assert losses["loss_cls"].item() > 0
    sum(v.mean() for k, v in losses.items() if k.startswith("loss")).backward()
    assert all(p.grad is not None for p in head.head_module.parameters())


def test_missing_ground_truth_field_is_named(head):
    head.train()
    sample = _sample([_person(128, 128)])
    del sample.gt_instance_labels.areas
    with pytest.raises(KeyError, match="areas"):
        head.loss(_feats(batch=1), [sample])


def test_predict_interface(head):
    head.eval()
    with torch.no_grad():
        for conv in head.head_module.out_cls:
            conv.bias.fill_(0.0)  # make detections pass the threshold
        results = head.predict(_feats(batch=2), [_sample([]), _sample([])],
                               test_cfg=dict(score_thr=0.1, nms_thr=0.65))
    assert len(results) == 2
    for res in results:
        n = len(res.bboxes)
        assert n > 0
        assert res.bboxes.shape == (n, 4) and res.bbox_scores.shape == (n,)
        assert res.keypoints.shape == (n, K, 2)
        assert res.keypoint_scores.shape == (n, K) and res.keypoints_visible.shape == (n, K)
        assert np.all(np.diff(res.bbox_scores) <= 0)  # highest score first
        assert res.bboxes.min() >= 0 and res.bboxes.max() <= SIZE
        assert np.isfinite(res.keypoints).all()
        assert np.all(res.bbox_scores > 0.1)


def test_predict_rejects_flip_test(head):
    head.eval()
    with pytest.raises(NotImplementedError, match="flip_test"):
        head.predict(_feats(batch=1), [_sample([])], test_cfg=dict(flip_test=True))


def test_stage_switch_attributes_are_settable_by_dotted_name(head):
    """Every head attribute the shipped configs switch exists, so RTMOStageSwitchHook can set it."""
    from rtmo_plugin.engine.hooks.stage_switch_hook import get_dotted, set_dotted
    from rtmo_plugin.testing.reference import PLUGIN_CONFIGS

    switched = {}
    for variant, dataset in PLUGIN_CONFIGS:
        cfg = Config.fromfile(str(plugin_config_path(variant, dataset)))
        hook = next(h for h in cfg.custom_hooks if h["type"] == "RTMOStageSwitchHook")
        for attrs in hook["epoch_attributes"].values():
            switched.update(attrs)
    switched["use_aux_loss"] = True  # set by the hook at the pipeline switch
    assert {"proxy_target_cc", "loss_mle.loss_weight", "loss_oks.loss_weight", "loss_cls.loss_weight",
            "overlaps_power"} <= set(switched)
    for dotted, value in switched.items():
        set_dotted(head, dotted, value)
        assert get_dotted(head, dotted) == value
    head.train()
    losses = head.loss(_feats(batch=1), [_sample([_person(128, 128)])])
    assert "loss_bbox_aux" in losses


def test_loss_in_eval_mode_is_a_clear_error(head):
    head.eval()
    with pytest.raises(RuntimeError, match="training mode"):
        head.loss(_feats(batch=1), [_sample([_person(128, 128)])])


def test_pose_nms_option_is_applied_to_the_head_instances(head):
    """``test_cfg.pose_nms`` runs RMPE's parametric pose NMS on what the box NMS kept (or on everything)."""
    from mmpose.registry import TASK_UTILS

    head.eval()
    nms_cfg = dict(type="ParametricPoseNMS", normalisation="pixel", score_thr=0.0)
    with torch.no_grad():
        for conv in head.head_module.out_cls:
            conv.bias.fill_(0.0)
        for conv in head.head_module.out_bbox:  # wide boxes (8 strides): the box NMS has work to do
            conv.bias.copy_(torch.tensor([0.0, 0.0, 2.0, 2.0]))
        feats = _feats(batch=1)
        for nms_thr in (0.65, 1.0):
            plain = head.predict(feats, [_sample([])], test_cfg=dict(score_thr=0.1, nms_thr=nms_thr))[0]
            with_pose_nms = head.predict(feats, [_sample([])], test_cfg=dict(
                score_thr=0.1, nms_thr=nms_thr, pose_nms=nms_cfg))[0]
            expected = TASK_UTILS.build(nms_cfg).filter_instances(plain)
            assert len(plain) > 0 and len(with_pose_nms) == len(expected) > 0
            for field in ("bboxes", "bbox_scores", "keypoints", "keypoint_scores", "keypoints_visible"):
                np.testing.assert_allclose(with_pose_nms.get(field), expected.get(field), rtol=0, atol=1e-6)
    assert len(plain) == 320, "nms_thr=1.0 must keep every prior above the score threshold for the pose NMS"
