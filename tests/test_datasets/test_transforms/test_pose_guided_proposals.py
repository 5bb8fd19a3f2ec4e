"""PGPG: fitting on coco_mini, sampling keeps the person inside, determinism, errors."""
import json

import numpy as np
import pytest
from mmpose.registry import TRANSFORMS

from rtmo_plugin.models.rmpe.pgpg import fit_pgpg, load_pgpg, save_pgpg


@pytest.fixture(scope='module')
def pgpg_file(shared_data, tmp_path_factory):
    mini = shared_data / 'coco_mini'
    model = fit_pgpg(mini / 'test_coco.json', mini / 'test_coco_det_AP_H_56.json', num_atoms=3,
                     seed=0)
    path = tmp_path_factory.mktemp('pgpg') / 'pgpg.json'
    save_pgpg(model, path)
    return path


def _gt_instances(shared_data):
    coco = json.loads((shared_data / 'coco_mini' / 'test_coco.json').read_text())
    out = []
    for ann in coco['annotations']:
        kp = np.asarray(ann['keypoints'], np.float32).reshape(-1, 3)
        if (kp[:, 2] > 0).sum() >= 4:
            x, y, w, h = ann['bbox']
            out.append((np.array([[x, y, x + w, y + h]], np.float32), kp[None, :, :2],
                        (kp[None, :, 2] > 0).astype(np.float32)))
    return out


def test_fit_is_deterministic_and_well_formed(shared_data, pgpg_file):
    model = load_pgpg(pgpg_file)
    assert model['num_keypoints'] == 17 and len(model['atoms']) == 3
    assert sum(model['atom_sizes']) == model['num_poses'] == 12
    for gmm in model['atom_gmms'] + [model['global_gmm']]:
        assert abs(sum(gmm['weights']) - 1) < 1e-6 and min(min(v) for v in gmm['vars']) > 0
    mini = shared_data / 'coco_mini'
    again = fit_pgpg(mini / 'test_coco.json', mini / 'test_coco_det_AP_H_56.json', num_atoms=3,
                     seed=0)
    assert again['atoms'] == model['atoms'] and again['atom_gmms'] == model['atom_gmms']


@pytest.mark.parametrize('mode', ['atomic', 'simple'])
def test_sampled_boxes_contain_most_of_the_person(shared_data, pgpg_file, mode):
    t = TRANSFORMS.build(dict(type='PoseGuidedProposals', mode=mode, seed=1,
                              model_file=str(pgpg_file) if mode == 'atomic' else None))
    fractions, changed = [], 0
    for box, kpts, vis in _gt_instances(shared_data):
        for _ in range(40):
            res = t(dict(bbox=box.copy(), keypoints=kpts, keypoints_visible=vis,
                         img_shape=(2000, 2000)))
            b = res['bbox'][0]
            changed += not np.allclose(b, box[0])
            pts = kpts[0][vis[0] > 0]
            inside = (pts[:, 0] >= b[0]) & (pts[:, 0] <= b[2]) & (pts[:, 1] >= b[1]) & \
                (pts[:, 1] <= b[3])
            fractions.append(inside.mean())
    assert changed > 0.9 * len(fractions)  # the boxes really move
    assert np.mean(fractions) > 0.85 and np.median(fractions) >= 0.9


def test_same_seed_same_boxes(shared_data, pgpg_file):
    box, kpts, vis = _gt_instances(shared_data)[0]

    def draw(seed):
        t = TRANSFORMS.build(dict(type='PoseGuidedProposals', model_file=str(pgpg_file),
                                  seed=seed))
        return np.stack([t(dict(bbox=box.copy(), keypoints=kpts, keypoints_visible=vis))['bbox']
                         for _ in range(5)])

    np.testing.assert_array_equal(draw(3), draw(3))
    assert not np.array_equal(draw(3), draw(4))


def test_clipping_and_errors(pgpg_file, tmp_path):
    t = TRANSFORMS.build(dict(type='PoseGuidedProposals', mode='simple', seed=0))
    res = t(dict(bbox=np.array([[0., 0., 50., 80.]]), img_shape=(60, 40)))
    b = res['bbox'][0]
    assert b[0] >= 0 and b[1] >= 0 and b[2] <= 39 + 2 and b[3] <= 59 + 2 and (b[2:] > b[:2]).all()
    np.testing.assert_array_equal(res['bbox_before_pgpg'], [[0., 0., 50., 80.]])
    with pytest.raises(ValueError, match='model_file'):
        TRANSFORMS.build(dict(type='PoseGuidedProposals', mode='atomic'))
    bad = tmp_path / 'bad.json'
    bad.write_text('{"atoms": []}')
    with pytest.raises(ValueError, match='no field'):
        TRANSFORMS.build(dict(type='PoseGuidedProposals', model_file=str(bad)))
    t = TRANSFORMS.build(dict(type='PoseGuidedProposals', model_file=str(pgpg_file)))
    with pytest.raises(ValueError, match='17 keypoints'):
        t(dict(bbox=np.zeros((1, 4)), keypoints=np.zeros((1, 14, 2)),
               keypoints_visible=np.ones((1, 14))))
    with pytest.raises(KeyError, match='bbox'):
        t(dict(keypoints=np.zeros((1, 17, 2))))
