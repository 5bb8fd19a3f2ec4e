# RTMO runtime + optimisation recipe, 600 epochs (COCO). Mirrors MMPose 1.3.2's RTMO recipe.
_base_ = ['mmpose::_base_/default_runtime.py']
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

train_cfg = dict(max_epochs=600, val_interval=20, dynamic_intervals=[(580, 1)])
auto_scale_lr = dict(base_batch_size=256)
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook', interval=40, max_keep_ckpts=3))

optim_wrapper = dict(
    type='OptimWrapper',
    constructor='ForceDefaultOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=0.004, weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0,
        bias_decay_mult=0,
        bypass_duplicate=True,
        force_default_settings=True,
        custom_keys=dict({'neck.encoder': dict(lr_mult=0.05)})),
    clip_grad=dict(max_norm=0.1, norm_type=2))

# quadratic warm-up, cosine to 2e-4 by epoch 280, x2.5 jump (never undone), second cosine, constant tail
param_scheduler = [
    dict(type='QuadraticWarmupLR', by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0002, begin=5, T_max=280,
         end=280, by_epoch=True, convert_to_iter_based=True),
    dict(type='ConstantLR', by_epoch=True, factor=2.5, begin=280, end=281),
    dict(type='CosineAnnealingLR', eta_min=0.0002, begin=281, T_max=300,
         end=580, by_epoch=True, convert_to_iter_based=True),
    dict(type='ConstantLR', by_epoch=True, factor=1, begin=580, end=600),
]
