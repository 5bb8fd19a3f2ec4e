"""PoseNMSCocoMetric / evaluate_coco_results on the shared coco_mini sample."""
import contextlib
import io

import pytest
from mmpose.registry import METRICS

from rtmo_plugin.evaluation import PoseNMSCocoMetric, evaluate_coco_results

#: known answer of shared/data/README.md (AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl)
KNOWN = [0.8609, 0.9931, 0.9109, 0.7756, 0.9373, 0.8750, 1.0000, 0.9167, 0.7800, 0.9429]


def _eval(shared_data, mode, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):
        return evaluate_coco_results(shared_data / 'eval_refs' / 'example_coco_preds.json',
                                     shared_data / 'coco_mini' / 'test_coco.json', mode, **kwargs)


def test_no_nms_reproduces_known_answer(shared_data):
    stats = _eval(shared_data, 'none')
    assert [round(v, 4) for k, v in stats.items() if k != 'num_results'] == KNOWN
    assert stats['num_results'] == 73


def test_pose_nms_removes_duplicates_and_keeps_ap(shared_data):
    stats = _eval(shared_data, 'pose_nms')
    assert 12 <= stats['num_results'] < 73  # 12 annotated people; duplicates removed
    assert stats['AP'] > 0.8 and stats['AP .5'] >= KNOWN[1]


def test_metric_registered_and_validates_mode(shared_data):
    ann = str(shared_data / 'coco_mini' / 'test_coco.json')
    metric = METRICS.build(dict(type='PoseNMSCocoMetric', ann_file=ann, nms_mode='pose_nms',
                                pose_nms_cfg=dict(type='ParametricPoseNMS', preset='mpii')))
    assert isinstance(metric, PoseNMSCocoMetric) and metric.pose_nms.merge_score == 'max'
    assert metric.nms_mode == 'none' and metric.extra_nms_mode == 'pose_nms'
    with pytest.raises(ValueError, match='nms_mode'):
        PoseNMSCocoMetric(ann_file=ann, nms_mode='pose')


@pytest.mark.slow
def test_raw_predictions_of_a_bottomup_model_evaluate(shared_data, repo_root, tmp_path):
    """End to end with an (untrained) RTMO from the demo config: dump without box NMS, evaluate."""
    import json

    import numpy as np

    from rtmo_plugin.evaluation import dump_raw_predictions
    ann = shared_data / 'coco_mini' / 'test_coco.json'
    out = tmp_path / 'raw.json'
    raw = dump_raw_predictions(repo_root / 'configs' / 'demo' / 'rtmo-tiny_synthetic-160.py',
                               None, ann, ann.parent, out, score_thr=0.01)
    assert json.loads(out.read_text()) == raw and len(raw) > 0
    assert all(np.isfinite(r['keypoints']).all() and len(r['keypoints']) == 51 for r in raw)
    for mode in ('none', 'pose_nms'):
        stats = _eval_file(out, ann, mode)
        assert 0 < stats['num_results'] <= len(raw)


def _eval_file(pred_file, ann_file, mode):
    with contextlib.redirect_stdout(io.StringIO()):
        return evaluate_coco_results(pred_file, ann_file, mode)
