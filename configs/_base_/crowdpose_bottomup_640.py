# CrowdPose bottom-up data for RTMO at 640x640: the COCO data base with CrowdPose's files, its evaluation (crowd AP
# E/M/H) and a stronger stage-1 affine / MixUp jitter. The stage-2 pipeline and the val pipeline are COCO's.
# (custom_imports comes with the runtime base; mmengine forbids the same key in sibling bases)
_base_ = ['./coco_bottomup_640.py']

train_pipeline_stage1 = [
    dict(type='LoadImage', backend_args=None),
    dict(type='PoseMosaic', img_scale=(640, 640), pad_val=114.0,
         pre_transform=[dict(type='LoadImage', backend_args=None)]),
    dict(type='PoseRandomAffine', input_size=(640, 640), shift_factor=0.2,
         rotate_factor=30, scale_factor=(0.5, 1.5), pad_val=114,
         distribution='uniform', transform_mode='perspective',
         bbox_keep_corner=False, clip_border=True),
    dict(type='PoseMixUp', img_scale=(640, 640), ratio_range=(0.6, 1.6),
         pad_val=114.0,
         pre_transform=[dict(type='LoadImage', backend_args=None)]),
    dict(type='PoseHSVJitter'),
    dict(type='PoseHorizontalFlip'),
    dict(type='PoseInstanceFilter', by_kpt=True, by_box=True, keep_empty=False),
    dict(type='GenerateTarget', encoder={{_base_.codec}}),
    dict(type='PackPoseInputs'),
]

train_dataloader = dict(
    dataset=dict(
        type='CheckedCrowdPoseDataset',
        ann_file='crowdpose/annotations/mmpose_crowdpose_trainval.json',
        data_prefix=dict(img='pose/CrowdPose/images/'),
        pipeline=train_pipeline_stage1))
val_dataloader = dict(
    dataset=dict(
        type='CheckedCrowdPoseDataset',
        ann_file='crowdpose/annotations/mmpose_crowdpose_test.json',
        data_prefix=dict(img='pose/CrowdPose/images/')))
test_dataloader = val_dataloader

# instance score = box score, no OKS-NMS; CrowdPose AP (E/M/H) from the dataset's own GT (no annotation file)
val_evaluator = dict(
    _delete_=True,
    type='CocoMetric',
    score_mode='bbox',
    nms_mode='none',
    iou_type='keypoints_crowd',
    prefix='crowdpose',
    use_area=False)
test_evaluator = val_evaluator
