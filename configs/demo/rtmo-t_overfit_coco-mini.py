# Overfit check: RTMO-t from scratch on the 4 coco_mini images (train = val), CPU, batch 4, one iteration per
# "epoch". Model = configs/rtmo-t_8xb32-600e_coco.py (unchanged code); only the recipe differs from the 600-epoch
# COCO recipe. `make overfit` (python -m experiments.overfit_check) sets the shared data root and runs the same
# file on MMPose's reference RTMO too.
#
# Recipe (the demo's, docs/demo_recipe.md): DCC learning rate x0.1; 6x COCO's OKS sigmas in the OKS loss and the
# assigner (evaluation keeps COCO's); MLE loss weight 0.01; 64x64 DCC bins; no gradient clipping; cosine decay
# after a short quadratic warm-up (AdamW 4e-3) to an absolute floor of 2e-4; no mosaic / mixup / batch resize;
# EMA kept; the demo's cheaper step (merged param groups, fused AdamW, batched EMA, channels-last). 1,200
# iterations fit about 20 minutes on 2 threads; with --budget-minutes the cosine follows the clock instead.
_base_ = ['../rtmo-t_8xb32-600e_coco.py']
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

input_size = (416, 416)
max_iters = 1200
warmup_iters = 30
val_every = 100
data_root = '../shared/data/coco_mini/'  # experiments/overfit_check.py overrides it with rtmo_plugin's shared data dir
ann_file = 'test_coco.json'

codec = dict(type='BBoxFreeKeypointCodec', input_size=input_size)
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='PoseRandomAffine', input_size=input_size, shift_prob=0,
         rotate_prob=0, scale_prob=0, scale_type='long',
         pad_val=(114, 114, 114), bbox_keep_corner=False, clip_border=True),
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
train_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CocoDataset', data_root=data_root, data_mode='bottomup',
                 ann_file=ann_file, data_prefix=dict(img=''),
                 pipeline=train_pipeline))
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type='CocoDataset', data_root=data_root, data_mode='bottomup',
                 ann_file=ann_file, data_prefix=dict(img=''), test_mode=True,
                 pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file=data_root + ann_file,
                     score_mode='bbox', nms_mode='none')
test_evaluator = val_evaluator

# 4 images / batch 4 = 1 iteration per epoch, so epochs count iterations
train_cfg = dict(_delete_=True, by_epoch=True, max_epochs=max_iters,
                 val_interval=val_every)
# counted in epochs (= iterations here) so that experiments/overfit_check.py --budget-minutes can make the cosine follow
# the clock (rtmo_plugin/demo_data/budget_schedule.py), as the demo's does
param_scheduler = [
    dict(type='QuadraticWarmupLR', by_epoch=True, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=True, eta_min=0.0002, begin=warmup_iters, end=max_iters,
         T_max=max_iters - warmup_iters),
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=max_iters,
                    max_keep_ckpts=1, save_best=None),
    logger=dict(type='LoggerHook', interval=10))
optim_wrapper = dict(constructor='MergedGroupsOptimWrapperConstructor',  # same param-wise rules, 6 groups
                     optimizer=dict(fused=True),
                     clip_grad=None, paramwise_cfg=dict(custom_keys={'head.dcc': dict(lr_mult=0.1)}))
custom_hooks = [
    dict(type='ChannelsLastHook'),
    dict(type='EMAHook', ema_type='ForeachExpMomentumEMA', momentum=0.0002,  # RTMO's ExpMomentumEMA, batched
         update_buffers=True, strict_load=False, priority=49),
]

training_metafile = '{{fileDirname}}/../_base_/datasets/coco_training_sigmas_x6.py'
model = dict(
    data_preprocessor=dict(batch_augments=None),
    head=dict(assigner=dict(oks_calculator=dict(metainfo=training_metafile)),
              loss_oks=dict(metainfo=training_metafile),
              loss_mle=dict(loss_weight=0.01),
              dcc_cfg=dict(num_bins=(64, 64))),
    backbone=dict(init_cfg=None),  # from scratch
    test_cfg=dict(input_size=input_size))
randomness = dict(seed=0)
