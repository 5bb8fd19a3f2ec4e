"""proxy_keypoints_as_output: inside the block the head returns each detection's proxy-regression keypoints."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from mmpose.utils import register_all_modules

import rtmo_plugin  # noqa: F401
from experiments.proxy_keypoints import proxy_keypoints_as_output
from rtmo_plugin.demo.run_demo import DEMO_CONFIG

SIZE = (256, 256)


@pytest.fixture(scope="module")
def model_and_feats():
    register_all_modules(init_default_scope=True)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(DEMO_CONFIG)).model).eval()
    with torch.no_grad():  # freshly initialised, the priors' scores tie; spread them so they identify the prior
        for p in model.head.head_module.parameters():
            p.add_(0.05 * torch.randn_like(p))
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(2, 3, *SIZE))
    samples = [PoseDataSample(metainfo=dict(input_size=SIZE)) for _ in range(2)]
    return model, feats, samples


def _proxy_rows(head, feats):
    """Decoded proxy keypoints and box scores of every prior: the training-mode outputs, BatchNorms frozen."""
    head.head_module.train()
    for m in head.head_module.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
    try:
        flat = head._flatten(head.forward(feats))
    finally:
        head.head_module.eval()
    return flat["keypoints"], flat["cls"][..., 0].sigmoid()


def test_detections_get_the_proxy_keypoints_of_their_own_prior(model_and_feats):
    model, feats, samples = model_and_feats
    head, test_cfg = model.head, dict(score_thr=0.0, nms_thr=0.65)
    dcc_out = head.predict(feats, samples, test_cfg)
    with proxy_keypoints_as_output(head):
        proxy_out = head.predict(feats, samples, test_cfg)
    with torch.no_grad():
        proxy_rows, prior_scores = _proxy_rows(head, feats)
    for i, (dcc, proxy) in enumerate(zip(dcc_out, proxy_out)):
        assert len(proxy.bboxes) > 0
        np.testing.assert_array_equal(proxy.bboxes, dcc.bboxes)  # same detections, only the keypoints differ
        np.testing.assert_array_equal(proxy.bbox_scores, dcc.bbox_scores)
        assert not np.allclose(proxy.keypoints, dcc.keypoints)
        for score, kpts in zip(proxy.bbox_scores, proxy.keypoints):
            # the priors with this exact score (almost always one): the keypoints are one of theirs
            match = (prior_scores[i] == float(score)).nonzero().flatten()
            assert 1 <= len(match) <= 3
            assert any(np.allclose(kpts, proxy_rows[i, j].numpy(), rtol=0, atol=1e-4) for j in match)


def test_the_head_is_restored_after_the_block(model_and_feats):
    model, feats, samples = model_and_feats
    head, test_cfg = model.head, dict(score_thr=0.0, nms_thr=0.65)
    before = head.predict(feats, samples, test_cfg)
    with pytest.raises(RuntimeError, match="inside"):
        with proxy_keypoints_as_output(head):
            raise RuntimeError("inside")
    after = head.predict(feats, samples, test_cfg)
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a.keypoints, b.keypoints)
    assert not head.head_module.training
    assert "_flatten" not in vars(head)
    assert "forward" not in vars(head.head_module) and "forward_test" not in vars(head.dcc)


def test_no_detection_gives_empty_keypoints(model_and_feats):
    model, feats, samples = model_and_feats
    with proxy_keypoints_as_output(model.head):
        out = model.head.predict(feats, samples, dict(score_thr=1.1))
    assert all(o.keypoints.shape == (0, 17, 2) for o in out)


def test_other_heads_are_refused():
    with pytest.raises(TypeError, match="RTMODCCHead"):
        with proxy_keypoints_as_output(torch.nn.Linear(2, 2)):
            pass
