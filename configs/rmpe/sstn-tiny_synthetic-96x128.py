# RMPE's SSTN top-down model (STN -> CSPNeXt-tiny + HeatmapHead -> SDTN, parallel SPPE, PGPG) on the
# synthetic figures of `make demo` (outputs/demo/data: 800 train / 100 val images of 256 px, 2.5 people each).
# The RMPE counterpart of configs/demo/rtmo-tiny_synthetic-160.py: it trains on a 2-core CPU in minutes and is
# what `python -m experiments.rmpe_ablation` ablates (docs/rmpe.md). For COCO, point `data_root` at it and
# enlarge the backbone.
#
# The parallel SPPE (training only) needs a trained single-person model: train this config with
# `model.type='TopdownPoseEstimator'` first (the ablation's "no STN" row does that) and set
# `parallel_sppe_checkpoint` to its weights. Without one the branch is left out.
_base_ = ['./sstn_tiny_coco-mini.py']

data_root = 'outputs/demo/data/'
input_size = (96, 128)  # (w, h): the person crop, enlarged box padding 1.3 (AlphaPose scaleRate 0.3)
parallel_sppe_checkpoint = None

max_epochs = 100  # a cap: the demo's budget schedule ends training on the wall clock
warmup_epochs = 1
base_lr = 1e-3  # Adam, AlphaPose's rate
train_cfg = dict(_delete_=True, by_epoch=True, max_epochs=max_epochs, val_interval=10**6)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10**6, by_epoch=True, save_last=True),
                     logger=dict(type='LoggerHook', interval=50))
log_processor = dict(by_epoch=True)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=base_lr))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=base_lr * 0.01, by_epoch=True, begin=warmup_epochs, T_max=max_epochs,
         end=max_epochs, convert_to_iter_based=True),
]

_tiny_backbone = {{_base_._tiny_backbone}}
_tiny_head = {{_base_._tiny_head}}
model = dict(
    # pooled to a 4x3 grid: global pooling keeps too little of where the person is for θ to learn (docs/rmpe.md)
    localization=dict(type='AffineLocalizationNet', channels=(8, 16, 32), in_size=(64, 48), pool_size=(4, 3)),
    parallel_sppe=dict(backbone=_tiny_backbone, head=_tiny_head, checkpoint=parallel_sppe_checkpoint)
    if parallel_sppe_checkpoint else None)

train_dataloader = dict(
    batch_size=32,
    dataset=dict(data_root=data_root, ann_file='annotations/train.json', data_prefix=dict(img='train/')))
val_dataloader = dict(
    batch_size=32,
    dataset=dict(data_root=data_root, ann_file='annotations/val.json', data_prefix=dict(img='val/')))
test_dataloader = val_dataloader
# ground-truth boxes here; RMPE with detected boxes: RMPEInferencer / tools/demo.py --rmpe-boxes
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
