# RTMO-s, CrowdPose trainval, 640x640, 8 GPUs x 32 images, 700 epochs (reference: 67.3 AP CrowdPose test).
_base_ = [
    './_base_/rtmo_runtime_700e.py', './_base_/crowdpose_bottomup_640.py',
    './_base_/rtmo_model_s.py'
]
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

metafile = 'configs/_base_/datasets/crowdpose.py'  # 14 keypoints, resolved inside mmpose's package

# 0-based epoch 350: loss re-weighting; epoch 669: stage-2 pipeline + aux loss (30 last epochs)
custom_hooks = [
    dict(type='RTMOStageSwitchHook',
         epoch_attributes={
             350: {
                 'proxy_target_cc': True,
                 'overlaps_power': 1.0,
                 'loss_cls.loss_weight': 2.0,
                 'loss_mle.loss_weight': 5.0,
                 'loss_oks.loss_weight': 10.0
             },
         },
         num_last_epochs=30,
         new_train_pipeline={{_base_.train_pipeline_stage2}},
         priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002,
         update_buffers=True, strict_load=False, priority=49),
    # robustness (docs/robustness.md): stop on a NaN/inf loss before it reaches the weights; refuse a checkpoint
    # of another variant / keypoint set with the list of mismatched keys
    dict(type='NonFiniteLossHook', action='raise'),
    dict(type='CheckpointCompatibilityHook'),
]

model = dict(
    head=dict(
        num_keypoints=14,
        assigner=dict(
            _delete_=True,
            type='SimOTAAssigner',
            dynamic_k_indicator='oks',
            oks_calculator=dict(type='PoseOKS', metainfo=metafile)),
        loss_oks=dict(metainfo=metafile),
        loss_mle=dict(loss_weight=1e-3)))
