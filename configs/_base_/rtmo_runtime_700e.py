# RTMO runtime + optimisation recipe, 700 epochs (CrowdPose).
_base_ = ['./rtmo_runtime_600e.py']
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

train_cfg = dict(max_epochs=700, val_interval=50, dynamic_intervals=[(670, 1)])
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook', interval=50, max_keep_ckpts=3))
param_scheduler = [
    dict(type='QuadraticWarmupLR', by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0002, begin=5, T_max=350,
         end=349, by_epoch=True, convert_to_iter_based=True),
    dict(type='ConstantLR', by_epoch=True, factor=2.5, begin=349, end=350),
    dict(type='CosineAnnealingLR', eta_min=0.0002, begin=350, T_max=320,
         end=670, by_epoch=True, convert_to_iter_based=True),
    dict(type='ConstantLR', by_epoch=True, factor=1, begin=670, end=700),
]
