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
