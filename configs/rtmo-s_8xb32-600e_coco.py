# RTMO-s, COCO train2017, 640x640, 8 GPUs x 32 images, 600 epochs (reference: 67.7 AP COCO val).
_base_ = [
    './_base_/rtmo_runtime_600e.py', './_base_/coco_bottomup_640.py',
    './_base_/rtmo_model_s.py'
]
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

# 0-based epoch 280: loss re-weighting + DCC targets for the proxy branch; epoch 579: stage-2 pipeline + aux loss
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
