# e2e resume test: the tiny synthetic setup with deterministic data (letterbox only, no flip, no batch resize), so an
# interrupted + resumed run must reproduce the uninterrupted run's weights exactly.
_base_ = ['./tiny_synthetic_dist.py']
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='PoseRandomAffine', input_size=(128, 128), shift_prob=0, rotate_prob=0, scale_prob=0,
         scale_type='long', pad_val=(114, 114, 114), bbox_keep_corner=False, clip_border=True),
    dict(type='PoseInstanceFilter', by_kpt=True, by_box=True, keep_empty=False),
    dict(type='GenerateTarget', encoder=dict(type='BBoxFreeKeypointCodec', input_size=(128, 128))),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
train_cfg = dict(max_epochs=4)
custom_hooks = [
    dict(type='RTMOStageSwitchHook', epoch_attributes={2: {'loss_oks.loss_weight': 10.0}}, num_last_epochs=None),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True,
         strict_load=False, priority=49),
]
model = dict(data_preprocessor=dict(_delete_=True, type='PoseDataPreprocessor', pad_size_divisor=32,
                                    mean=[0, 0, 0], std=[1, 1, 1]))
randomness = dict(seed=0, deterministic=True)
