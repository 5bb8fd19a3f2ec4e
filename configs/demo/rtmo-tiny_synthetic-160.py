# Embedded demo: a small RTMO (YOLOX-nano-like widths, 128-d encoder) trained from scratch on the CPU on the
# synthetic figures of rtmo_plugin.datasets.synthetic (256x256 images, fed at 160x160). `make demo` generates the
# data under outputs/demo/data and runs this config (tools/make_demo.py sets the data root and the time budget).
#
# Same model code as RTMO-t/s (only widths differ). The recipe for a short from-scratch run differs from RTMO's:
# DCC learning rate x0.1, 3x COCO's OKS sigmas in the OKS loss and assigner (evaluation keeps COCO's), MLE loss
# weight 0.01, no shift/rotate/scale jitter, 64x64 DCC bins, no gradient clipping, batch 4, head on the stride-8/16
# levels, AdamW over merged param groups (fused) with a batched EMA and channels-last convolutions.
# docs/demo_recipe.md gives each change and its measured effect.
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)
default_scope = 'mmpose'

input_size = (160, 160)
max_epochs = 22  # 4,400 iterations at batch 4. `make demo` replaces this epoch-based decay by one that follows
# its 17.5-minute budget (rtmo_plugin/demo/budget_schedule.py; 60 epochs as a cap); `mim train` runs it as written
warmup_epochs = 1
data_root = 'outputs/demo/data/'
metafile = 'configs/_base_/datasets/coco.py'  # resolved inside mmpose's package
# 3x COCO sigmas for the OKS loss and the assigner only (evaluation uses COCO's): see that file
training_metafile = '{{fileDirname}}/../_base_/datasets/coco_training_sigmas_x3.py'
widen_factor = 0.25
deepen_factor = 0.33
hidden = 128

# ---------------------------------------------------------------- runtime
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=2, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='PoseVisualizationHook', enable=False))
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='gloo'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='PoseLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True, num_digits=6)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)

train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=3)
val_cfg = dict()
test_cfg = dict()

optim_wrapper = dict(
    type='OptimWrapper',
    # MMPose's param-wise rules with same-option groups merged (6 instead of 278) so AdamW can run fused: the same
    # rule per parameter, fused rounding, a training step ~0.88x as long (rtmo_plugin/engine/optim;
    # experiments/benchmark_optim.py)
    constructor='MergedGroupsOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=0.004, weight_decay=0.05, fused=True),
    paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0, bypass_duplicate=True,
                       force_default_settings=True,
                       custom_keys=dict({'neck.encoder': dict(lr_mult=0.05),
                                         'head.dcc': dict(lr_mult=0.1)})),
    clip_grad=None)  # RTMO clips at 0.1 (paper recipe); see the header
param_scheduler = [
    dict(type='QuadraticWarmupLR', by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0002, begin=warmup_epochs,
         T_max=max_epochs, end=max_epochs, by_epoch=True, convert_to_iter_based=True),
]

custom_hooks = [
    dict(type='ChannelsLastHook'),  # NHWC convolutions: faster on the CPU (rtmo_plugin/engine/hooks)
    # RTMO's ExpMomentumEMA, updated in batched calls (same values)
    dict(type='EMAHook', ema_type='ForeachExpMomentumEMA', momentum=0.0002,
         update_buffers=True, strict_load=False, priority=49),
]

# ---------------------------------------------------------------- data
codec = dict(type='BBoxFreeKeypointCodec', input_size=input_size)
train_pipeline = [
    dict(type='LoadImage'),
    # no random shift / rotation / scale: the generator already draws every figure's position, size and pose
    dict(type='PoseRandomAffine', input_size=input_size, shift_factor=0.0,
         rotate_factor=0.0, scale_factor=(1.0, 1.0), pad_val=114,
         distribution='uniform', transform_mode='affine',
         bbox_keep_corner=False, clip_border=True),
    dict(type='PoseHSVJitter'),
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
train_dataloader = dict(
    batch_size=4,  # RTMO: 32 per GPU; see the header
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CocoDataset', data_root=data_root, data_mode='bottomup',
                 ann_file='annotations/train.json', data_prefix=dict(img='train/'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type='CocoDataset', data_root=data_root, data_mode='bottomup',
                 ann_file='annotations/val.json', data_prefix=dict(img='val/'),
                 test_mode=True, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file=data_root + 'annotations/val.json',
                     score_mode='bbox', nms_mode='none')
test_evaluator = val_evaluator

# ---------------------------------------------------------------- model
model = dict(
    type='BottomupPoseEstimator',
    init_cfg=dict(type='Kaiming', layer='Conv2d', a=2.23606797749979,
                  distribution='uniform', mode='fan_in', nonlinearity='leaky_relu'),
    data_preprocessor=dict(type='PoseDataPreprocessor', pad_size_divisor=32,
                           mean=[0, 0, 0], std=[1, 1, 1]),
    backbone=dict(type='CSPDarknet', deepen_factor=deepen_factor, widen_factor=widen_factor,
                  out_indices=(2, 3, 4), spp_kernal_sizes=(5, 9, 13),
                  norm_cfg=dict(type='BN', momentum=0.03, eps=0.001),
                  act_cfg=dict(type='Swish')),
    neck=dict(
        type='HybridEncoder',
        in_channels=[64, 128, 256],
        deepen_factor=deepen_factor,
        widen_factor=widen_factor,
        hidden_dim=hidden,
        output_indices=[0, 1],  # strides 8 and 16 (RTMO: [1, 2], 16 and 32); see the header
        encoder_cfg=dict(
            self_attn_cfg=dict(embed_dims=hidden, num_heads=4, dropout=0.0),
            ffn_cfg=dict(embed_dims=hidden, feedforward_channels=hidden * 4,
                         ffn_drop=0.0, act_cfg=dict(type='GELU'))),
        projector=dict(type='ChannelMapper', in_channels=[hidden, hidden], kernel_size=1,
                       out_channels=hidden, act_cfg=None, norm_cfg=dict(type='BN'),
                       num_outs=2)),
    head=dict(
        type='RTMODCCHead',
        num_keypoints=17,
        featmap_strides=(8, 16),
        head_module_cfg=dict(num_classes=1, in_channels=256, cls_feat_channels=256,
                             channels_per_group=36, pose_vec_channels=hidden,
                             widen_factor=widen_factor, stacked_convs=2,
                             norm_cfg=dict(type='BN', momentum=0.03, eps=0.001),
                             act_cfg=dict(type='Swish')),
        assigner=dict(type='SimOTAAssigner', dynamic_k_indicator='oks',
                      oks_calculator=dict(type='PoseOKS', metainfo=training_metafile),
                      use_keypoints_for_center=True),
        prior_generator=dict(type='MlvlPointGenerator', centralize_points=True,
                             strides=[8, 16]),
        dcc_cfg=dict(in_channels=hidden, feat_channels=128, num_bins=(64, 64),  # RTMO: (192, 256); see the header
                     spe_channels=128,
                     gau_cfg=dict(s=128, expansion_factor=2, dropout_rate=0.0,
                                  drop_path=0.0, act_fn='SiLU', pos_enc='add')),
        overlaps_power=0.5,
        loss_cls=dict(type='VariFocalLoss', reduction='sum', use_target_weight=True,
                      loss_weight=1.0),
        loss_bbox=dict(type='IoULoss', mode='square', eps=1e-16, reduction='sum',
                       loss_weight=5.0),
        loss_oks=dict(type='OKSLoss', reduction='none', metainfo=training_metafile, loss_weight=30.0),
        loss_vis=dict(type='BCELoss', use_target_weight=True, reduction='mean',
                      loss_weight=1.0),
        loss_mle=dict(type='MLECoordClsLoss', use_target_weight=True, loss_weight=0.01),
        loss_bbox_aux=dict(type='L1Loss', reduction='sum', loss_weight=1.0)),
    test_cfg=dict(input_size=input_size, score_thr=0.1, nms_thr=0.65))
