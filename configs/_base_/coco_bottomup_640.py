# COCO bottom-up data for RTMO at 640x640 (RTMO-s recipe; m/l change the stage-2 affine, t uses 416 and no MixUp).
# (custom_imports comes with the runtime base; mmengine forbids the same key in sibling bases)
# Transforms are the plugin's YOLOX-Pose pipeline with the reference transforms' constructor arguments.

input_size = (640, 640)
codec = dict(type='BBoxFreeKeypointCodec', input_size=input_size)

train_pipeline_stage1 = [
    dict(type='LoadImage', backend_args=None),
    dict(type='PoseMosaic', img_scale=(640, 640), pad_val=114.0,
         pre_transform=[dict(type='LoadImage', backend_args=None)]),
    dict(type='PoseRandomAffine', input_size=(640, 640), shift_factor=0.1,
         rotate_factor=10, scale_factor=(0.75, 1.0), pad_val=114,
         distribution='uniform', transform_mode='perspective',
         bbox_keep_corner=False, clip_border=True),
    dict(type='PoseMixUp', img_scale=(640, 640), ratio_range=(0.8, 1.6),
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
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CheckedCocoDataset',
        data_root=data_root,
        data_mode=data_mode,
        ann_file='coco/annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='coco/train2017/'),
        pipeline=train_pipeline_stage1,
    ))

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
        type='CheckedCocoDataset',
        data_root=data_root,
        data_mode=data_mode,
        ann_file='coco/annotations/person_keypoints_val2017.json',
        data_prefix=dict(img='coco/val2017/'),
        test_mode=True,
        pipeline=val_pipeline,
    ))
test_dataloader = val_dataloader

# instance score = box score, no OKS-NMS (RTMO already ran box NMS)
val_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'coco/annotations/person_keypoints_val2017.json',
    score_mode='bbox',
    nms_mode='none')
test_evaluator = val_evaluator
