# RTMO-t, COCO train2017, 416x416, 8 GPUs x 32 images, 600 epochs. MMPose ships RTMO-t only for body7; this is
# its model and recipe on COCO data (no MixUp, batch resize range 320-640, YOLOX-tiny backbone).
_base_ = ['./rtmo-s_8xb32-600e_coco.py']
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

input_size = (416, 416)
codec = dict(type='BBoxFreeKeypointCodec', input_size=input_size)

train_pipeline_stage1 = [
    dict(type='LoadImage', backend_args=None),
    dict(type='PoseMosaic', img_scale=(416, 416), pad_val=114.0,
         pre_transform=[dict(type='LoadImage', backend_args=None)]),
    dict(type='PoseRandomAffine', input_size=(416, 416), shift_factor=0.1,
         rotate_factor=10, scale_factor=(0.75, 1.0), pad_val=114,
         distribution='uniform', transform_mode='perspective',
         bbox_keep_corner=False, clip_border=True),
    dict(type='PoseHSVJitter'),
    dict(type='PoseHorizontalFlip'),
    dict(type='PoseInstanceFilter', by_kpt=True, by_box=True, keep_empty=False),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
train_pipeline_stage2 = [
    dict(type='LoadImage'),
    dict(type='PoseRandomAffine', input_size=(416, 416), shift_prob=0,
         rotate_prob=0, scale_prob=0, scale_type='long',
         pad_val=(114, 114, 114), bbox_keep_corner=False, clip_border=True),
    dict(type='PoseHSVJitter'),
    dict(type='PoseHorizontalFlip'),
    dict(type='PoseHeatmapMaskFromInvalid', get_invalid=True),
    dict(type='PoseInstanceFilter', by_kpt=True, by_box=True, keep_empty=False),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='PoseLetterboxResize', input_size=input_size,
         pad_val=(114, 114, 114)),
    dict(type='PackPoseInputs',
         meta_keys=('id', 'img_id', 'img_path', 'ori_shape', 'img_shape',
                    'input_size', 'input_center', 'input_scale')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline_stage1))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

custom_hooks = [
    dict(type='RTMOStageSwitchHook',
         epoch_attributes={
             280: {
                 'proxy_target_cc': True,
                 'loss_mle.loss_weight': 5.0,
                 'loss_oks.loss_weight': 10.0
             },
         },
         num_last_epochs=20,
         new_train_pipeline=train_pipeline_stage2,
         priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002,
         update_buffers=True, strict_load=False, priority=49),
    # robustness (docs/robustness.md): stop on a NaN/inf loss before it reaches the weights; refuse a checkpoint
    # of another variant / keypoint set with the list of mismatched keys
    dict(type='NonFiniteLossHook', action='raise'),
    dict(type='CheckpointCompatibilityHook'),
]

widen_factor = 0.375
deepen_factor = 0.33
model = dict(
    data_preprocessor=dict(batch_augments=[
        dict(type='RTMOBatchSyncResize', random_size_range=(320, 640),
             size_divisor=32, interval=1),
    ]),
    backbone=dict(
        deepen_factor=deepen_factor,
        widen_factor=widen_factor,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmdetection/v2.0/'
            'yolox/yolox_tiny_8x8_300e_coco/yolox_tiny_8x8_300e_coco_'
            '20211124_171234-b4047906.pth',
            prefix='backbone.')),
    neck=dict(
        in_channels=[96, 192, 384],
        deepen_factor=deepen_factor,
        widen_factor=widen_factor,
        projector=dict(out_channels=192)),
    head=dict(
        head_module_cfg=dict(widen_factor=widen_factor, pose_vec_channels=192),
        dcc_cfg=dict(in_channels=192)),
    test_cfg=dict(input_size=input_size))
