"""SSTNTopdownEstimator: losses, gradients, frozen parallel SPPE, prediction, Runner training."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmpose.registry import DATASETS, MODELS

from rtmo_plugin.models.rmpe import AffineLocalizationNet, centred_heatmap_targets

CONFIG = 'configs/rmpe/sstn_tiny_coco-mini.py'


@pytest.fixture(scope='module')
def cfg(shared_data, repo_root):
    c = Config.fromfile(str(repo_root / CONFIG))
    root = str(shared_data / 'coco_mini') + '/'
    for loader in (c.train_dataloader, c.val_dataloader, c.test_dataloader):
        loader.dataset.data_root = root
    c.val_evaluator.ann_file = root + 'test_coco.json'
    c.test_evaluator = c.val_evaluator
    return c


def _batch(cfg, model, n=3, train=True):
    ds_cfg = cfg.train_dataloader.dataset if train else cfg.val_dataloader.dataset
    ds = DATASETS.build(copy.deepcopy(ds_cfg))
    data = pseudo_collate([ds[i] for i in range(n)])
    return model.data_preprocessor(data, training=train)


def test_localization_starts_at_identity():
    net = AffineLocalizationNet()
    net.init_weights()
    theta = net(torch.rand(2, 3, 128, 96))
    assert theta.shape == (2, 2, 3)
    torch.testing.assert_close(theta, torch.eye(2, 3).expand(2, 2, 3), atol=0.02, rtol=0)
    with pytest.raises(ValueError, match='max_offset'):
        AffineLocalizationNet(max_offset=0.5)


def test_centred_targets_peak_at_image_centre():
    kpts = torch.tensor([[[10., 20.], [30., 40.], [0., 0.]]])
    vis = torch.tensor([[1., 1., 0.]])
    t = centred_heatmap_targets(kpts, vis, (96, 128), (24, 32), sigma=1.0)
    # pose centre (20, 30) -> image centre (48, 64); joint 0 -> (38, 54) -> heatmap (9.5, 13.5)
    peak = t[0, 0].flatten().argmax()
    assert {int(peak % 24), int(peak // 24)} <= {9, 10, 13, 14}
    assert t[0, 2].abs().sum() == 0  # unlabelled joint: empty map


def test_loss_gradients_and_frozen_branch(cfg):
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    model.train()
    assert not model.parallel_sppe.training  # frozen branch stays in eval mode
    batch = _batch(cfg, model)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    assert {'loss_kpt', 'acc_pose', 'loss_parallel'} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    losses['loss_parallel'].backward(retain_graph=True)
    # the parallel SPPE's error reaches only the STN
    assert model.localization.theta_fc.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.backbone.parameters())
    assert all(p.grad is None for p in model.parallel_sppe.parameters())
    losses['loss_kpt'].backward()
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
        else:
            assert name.startswith('parallel_sppe.') and p.grad is None, name


def test_predict_in_image_coordinates_with_flip(cfg):
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    model.eval()
    batch = _batch(cfg, model, n=2, train=False)
    with torch.no_grad():
        out = model.predict(batch['inputs'], batch['data_samples'])
        hm = model._forward(batch['inputs'])
    assert hm.shape == (2, 17, 32, 24)
    for sample in out:
        kpts = sample.pred_instances.keypoints
        assert kpts.shape == (1, 17, 2) and torch.isfinite(torch.as_tensor(kpts)).all()
        x1, y1, x2, y2 = sample.gt_instances.bboxes[0]
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        side = max(x2 - x1, y2 - y1) * 1.3
        assert (abs(kpts[0, :, 0] - cx) <= side).all() and (abs(kpts[0, :, 1] - cy) <= side).all()


def test_regression_head_is_supported_and_simcc_rejected(cfg):
    m = copy.deepcopy(cfg.model)
    m.parallel_sppe = None
    m.neck = dict(type='GlobalAveragePooling')
    reg_codec = dict(type='RegressionLabel', input_size=(96, 128))
    m.head = dict(type='RegressionHead', in_channels=128, num_joints=17,
                  loss=dict(type='SmoothL1Loss', use_target_weight=True), decoder=reg_codec)
    model = MODELS.build(m)
    model.init_weights()
    c = copy.deepcopy(cfg)
    pipe = c.train_dataloader.dataset.pipeline
    pipe[[t['type'] for t in pipe].index('GenerateTarget')] = dict(type='GenerateTarget',
                                                                   encoder=reg_codec)
    batch = _batch(c, model, n=2)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    losses['loss_kpt'].backward()
    assert model.localization.theta_fc.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        out = model.predict(*_batch(c, model, n=1, train=False).values())
    assert out[0].pred_instances.keypoints.shape == (1, 17, 2)
    # identity θ: coordinates map to themselves
    coords = torch.rand(2, 17, 2)
    eye = torch.eye(2, 3).expand(2, 2, 3)
    torch.testing.assert_close(model._coords_to_proposal(coords, eye, 96, 128), coords)
    m.head = dict(type='SimCCHead', in_channels=128, out_channels=17, input_size=(96, 128),
                  in_featuremap_size=(3, 4), simcc_split_ratio=2.0, deconv_out_channels=None,
                  loss=dict(type='KLDiscretLoss', use_target_weight=True),
                  decoder=dict(type='SimCCLabel', input_size=(96, 128), sigma=(4, 4),
                               simcc_split_ratio=2.0))
    m.neck = None
    with pytest.raises(TypeError, match='heatmaps or'):
        MODELS.build(m)._forward(torch.rand(1, 3, 128, 96))


def test_config_trains_with_runner(cfg, tmp_path):
    from mmengine.runner import Runner
    c = copy.deepcopy(cfg)
    c.work_dir = str(tmp_path)
    c.train_cfg.max_iters = 2
    c.default_hooks.logger.interval = 1
    c.default_hooks.checkpoint.save_last = False  # keep the test light: no checkpoint file
    c.model.test_cfg.flip_test = False  # flip test is covered by the predict test
    c.randomness = dict(seed=0)
    runner = Runner.from_cfg(c)
    before = copy.deepcopy(runner.model.localization.state_dict())
    frozen = copy.deepcopy(runner.model.parallel_sppe.state_dict())
    runner.train()  # 2 iterations, then the end-of-training validation with pose NMS
    after = runner.model.localization.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)  # the STN learns
    for k, v in runner.model.parallel_sppe.state_dict().items():
        assert torch.equal(v, frozen[k]), k  # the parallel SPPE does not
    metrics = runner.val_loop.evaluator.metrics[0]
    assert type(metrics).__name__ == 'PoseNMSCocoMetric'


def test_parallel_branch_loads_checkpoint(cfg, tmp_path):
    from rtmo_plugin.models.rmpe import FrozenPoseBranch
    spec = copy.deepcopy(cfg.model.parallel_sppe)
    src = FrozenPoseBranch(**spec)
    torch.save({'state_dict': src.state_dict()}, tmp_path / 'sppe.pth')
    spec.checkpoint = str(tmp_path / 'sppe.pth')
    dst = FrozenPoseBranch(**spec)
    dst.init_weights()
    for k, v in src.state_dict().items():
        assert torch.equal(v, dst.state_dict()[k]), k
    assert not any(p.requires_grad for p in dst.parameters())


def test_unlabelled_instances_give_finite_zero_losses(cfg):
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    batch = _batch(cfg, model, n=2)
    for d in batch['data_samples']:
        d.gt_instance_labels.keypoint_weights = torch.zeros_like(
            torch.as_tensor(d.gt_instance_labels.keypoint_weights))
        d.gt_instances.keypoints_visible = d.gt_instances.keypoints_visible * 0
    losses = model.loss(batch['inputs'], batch['data_samples'])
    assert float(losses['loss_kpt']) == 0 and float(losses['loss_parallel']) == 0
    t = centred_heatmap_targets(torch.zeros(1, 3, 2), torch.zeros(1, 3), (96, 128), (24, 32))
    assert torch.isfinite(t).all() and t.abs().sum() == 0
