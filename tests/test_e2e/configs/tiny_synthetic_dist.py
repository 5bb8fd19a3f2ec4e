# e2e test config: the demo model/recipe at 128x128 on a few synthetic images, with RTMO's batch-synchronised
# random resize and the test probe hook. The data root is set by the test (--cfg-options).
_base_ = ['../../../configs/demo/rtmo-tiny_synthetic-160.py']
custom_imports = dict(imports=['rtmo_plugin', 'e2e_probe'], allow_failed_imports=False)

input_size = (128, 128)
codec = dict(type='BBoxFreeKeypointCodec', input_size=input_size)
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='PoseRandomAffine', input_size=input_size, shift_prob=0, rotate_prob=0, scale_prob=0,
         scale_type='long', pad_val=(114, 114, 114), bbox_keep_corner=False, clip_border=True),
    dict(type='PoseHorizontalFlip'),
    dict(type='PoseInstanceFilter', by_kpt=True, by_box=True, keep_empty=False),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='PoseLetterboxResize', input_size=input_size, pad_val=(114, 114, 114)),
    dict(type='PackPoseInputs',
         meta_keys=('id', 'img_id', 'img_path', 'ori_shape', 'img_shape',
                    'input_size', 'input_center', 'input_scale')),
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=2, dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

train_cfg = dict(max_epochs=2, val_interval=100)
param_scheduler = [dict(type='ConstantLR', by_epoch=False, factor=1.0, begin=0)]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3, save_best=None),
                     logger=dict(type='LoggerHook', interval=1))
custom_hooks = [
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True,
         strict_load=False, priority=49),
    dict(type='E2EProbeHook'),
]
find_unused_parameters = True  # a rank may have a batch without positives (then the DCC is unused there)
model = dict(
    data_preprocessor=dict(batch_augments=[
        dict(type='RTMOBatchSyncResize', random_size_range=(64, 192), size_divisor=32, interval=1)]),
    test_cfg=dict(input_size=input_size))
