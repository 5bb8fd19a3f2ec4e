# CrowdPose bottom-up data for RTMO at 640x640 (stronger stage-1 affine/MixUp jitter than COCO).
# (custom_imports comes with the runtime base; mmengine forbids the same key in sibling bases)
# Transforms are the plugin's YOLOX-Pose pipeline with the reference transforms' constructor arguments.

input_size = (640, 640)
codec = dict(type='BBoxFreeKeypointCodec', input_size=input_size)

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
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
# last epochs: letterbox only (probabilities 0 -> no shift/rotate/scale jitter), invalid-region mask
train_pipeline_stage2 = [
    dict(type='LoadImage'),
    dict(type='PoseRandomAffine', input_size=(640, 640), shift_prob=0,
         rotate_prob=0, scale_prob=0, scale_type='long',
         pad_val=(114, 114, 114), bbox_keep_corner=False, clip_border=True),
    dict(type='PoseHSVJitter'),
    dict(type='PoseHorizontalFlip'),
    dict(type='PoseHeatmapMaskFromInvalid', get_invalid=True),
    dict(type='PoseInstanceFilter', by_kpt=True, by_box=True, keep_empty=False),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]

data_mode = 'bottomup'
data_root = 'data/'
dataset_crowdpose = dict(
    type='CheckedCrowdPoseDataset',
    data_root=data_root,
    data_mode=data_mode,
    ann_file='crowdpose/annotations/mmpose_crowdpose_trainval.json',
    data_prefix=dict(img='pose/CrowdPose/images/'),
    pipeline=train_pipeline_stage1,
)
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dataset_crowdpose)

val_pipeline = [
    dict(type='LoadImage'),
    dict(type='PoseLetterboxResize', input_size=input_size,
         pad_val=(114, 114, 114)),
    dict(type='PackPoseInputs',
         meta_keys=('id', 'img_id', 'img_path', 'ori_shape', 'img_shape',
                    'input_size', 'input_center', 'input_scale')),
]
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    pin_memory=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type='CheckedCrowdPoseDataset',
        data_root=data_root,
        data_mode=data_mode,
        ann_file='crowdpose/annotations/mmpose_crowdpose_test.json',
        data_prefix=dict(img='pose/CrowdPose/images/'),
        test_mode=True,
        pipeline=val_pipeline,
    ))
test_dataloader = val_dataloader

# instance score = box score, no OKS-NMS; CrowdPose AP (E/M/H) from the dataset's own GT
val_evaluator = dict(
    type='CocoMetric',
    score_mode='bbox',
    nms_mode='none',
    iou_type='keypoints_crowd',
    prefix='crowdpose',
    use_area=False)
test_evaluator = val_evaluator
