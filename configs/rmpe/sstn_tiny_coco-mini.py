# A tiny RMPE SSTN top-down model (STN -> CSPNeXt-tiny + HeatmapHead -> SDTN, with the frozen
# parallel SPPE regulariser and PGPG box augmentation) for smoke training on the 4-image
# coco_mini sample. Real training: point `data_root`/`ann_file` at COCO, enlarge the model,
# give `parallel_sppe.checkpoint` a trained single-person model and fit PGPG with
# tools/fit_pgpg.py.
_base_ = ['mmpose::_base_/default_runtime.py']
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

data_root = '../shared/data/coco_mini/'
ann_file = 'test_coco.json'
input_size = (96, 128)  # (w, h)
heatmap_size = (24, 32)

train_cfg = dict(by_epoch=False, max_iters=3, val_interval=1000)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = []
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1000, by_epoch=False),
                     logger=dict(type='LoggerHook', interval=1))
log_processor = dict(by_epoch=False)

codec = dict(type='MSRAHeatmap', input_size=input_size, heatmap_size=heatmap_size, sigma=2)

_tiny_backbone = dict(type='CSPNeXt', arch='P5', deepen_factor=0.167, widen_factor=0.125,
                      out_indices=(4, ), channel_attention=False)
_tiny_head = dict(type='HeatmapHead', in_channels=128, out_channels=17,
                  deconv_out_channels=(32, 32, 32), deconv_kernel_sizes=(4, 4, 4),
                  loss=dict(type='KeypointMSELoss', use_target_weight=True), decoder=codec)

model = dict(
    type='SSTNTopdownEstimator',
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    localization=dict(type='AffineLocalizationNet', channels=(8, 16, 32), in_size=(64, 48)),
    backbone=_tiny_backbone,
    head=_tiny_head,
    # training-only regulariser: a frozen single-person network on the STN crop
    parallel_sppe=dict(backbone=_tiny_backbone, head=_tiny_head, checkpoint=None),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=False))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='PoseGuidedProposals', mode='simple', prob=1.0),  # PGPG box jitter
    dict(type='GetBBoxCenterScale', padding=1.3),  # AlphaPose scaleRate 0.3
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs', pack_transformed=True),  # parallel SPPE needs the keypoints
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.3),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CocoDataset', data_root=data_root, data_mode='topdown',
                 ann_file=ann_file, data_prefix=dict(img=''), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type='CocoDataset', data_root=data_root, data_mode='topdown',
                 ann_file=ann_file, data_prefix=dict(img=''), test_mode=True,
                 pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='PoseNMSCocoMetric', ann_file=data_root + ann_file,
                     nms_mode='pose_nms')
test_evaluator = val_evaluator
