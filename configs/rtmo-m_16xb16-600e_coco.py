# RTMO-m, COCO train2017, 640x640, 16 GPUs x 16 images, 600 epochs (reference: 70.9 AP COCO val).
# Differs from RTMO-s: width/depth, YOLOX-m backbone, box-centre SimOTA candidates, loss_mle 0.01 -> 5,
# cls weight 1 -> 2 and overlaps power 0.5 -> 1 at epoch 280, stage-2 affine with default jitter.
_base_ = ['./rtmo-s_8xb32-600e_coco.py']
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

train_pipeline_stage2 = [
    dict(type='LoadImage'),
    dict(type='PoseRandomAffine', input_size=(640, 640), scale_type='long',
         pad_val=(114, 114, 114), bbox_keep_corner=False, clip_border=True),
    dict(type='PoseHSVJitter'),
    dict(type='PoseHorizontalFlip'),
    dict(type='PoseHeatmapMaskFromInvalid', get_invalid=True),
    dict(type='PoseInstanceFilter', by_kpt=True, by_box=True, keep_empty=False),
    dict(type='GenerateTarget', encoder={{_base_.codec}}),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(batch_size=16)

custom_hooks = [
    dict(type='RTMOStageSwitchHook',
         epoch_attributes={
             280: {
                 'proxy_target_cc': True,
                 'overlaps_power': 1.0,
                 'loss_cls.loss_weight': 2.0,
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

widen_factor = 0.75
deepen_factor = 0.67
model = dict(
    backbone=dict(
        deepen_factor=deepen_factor,
        widen_factor=widen_factor,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/v1/'
            'pretrained_models/yolox_m_8x8_300e_coco_20230829.pth',
            prefix='backbone.')),
    neck=dict(
        in_channels=[192, 384, 768],
        deepen_factor=deepen_factor,
        widen_factor=widen_factor,
        projector=dict(out_channels=384)),
    head=dict(
        head_module_cfg=dict(widen_factor=widen_factor, pose_vec_channels=384),
        assigner=dict(
            _delete_=True,
            type='SimOTAAssigner',
            dynamic_k_indicator='oks',
            oks_calculator=dict(type='PoseOKS', metainfo={{_base_.metafile}})),
        dcc_cfg=dict(in_channels=384),
        loss_mle=dict(loss_weight=1e-2)))
