# RTMO-s on YOUR keypoints: a COCO-format dataset of any keypoint set, 640x640, 8 GPUs x 32 images, 300 epochs.
#
# Set the five lines under "what you set". Everything that depends on the keypoints is derived from the metainfo
# file (MMPose's dataset_info format: keypoint_info with names and flip partners (`swap`), skeleton_info,
# joint_weights, sigmas): the head's num_keypoints (K), the datasets' metainfo (flip indices of PoseHorizontalFlip,
# the keypoint count the data checks expect), the OKS sigmas of the OKS loss and of the SimOTA assigner, and the
# metric's sigmas (CocoMetric reads them from the dataset). The file is checked when this config is loaded: a flip
# partner or skeleton end naming no keypoint, or a sigma / joint-weight count that is not K, stops with a message
# naming the file and the field (rtmo_plugin/datasets/metainfo_check.py).
#
# Fine-tuning from a checkpoint of ANOTHER keypoint set (e.g. the official COCO-17 RTMO-s): set load_from and
# source_metainfo. CheckpointCompatibilityHook then maps the checkpoint by keypoint name (rows of keypoints with
# the same name copied, the others started from named neighbours or freshly initialised; everything that does not
# depend on K copied exactly) and writes keypoint_transfer.json/.md into the work dir. With source_metainfo None a
# checkpoint of another keypoint set is refused, as in every other config. docs/custom_keypoints.md has the
# details and a measured example.
#
#   mim train mmpose configs/custom/rtmo-s_8xb32-300e_custom-coco-format.py --work-dir work_dirs/my_rtmo
_base_ = [
    '../_base_/rtmo_runtime_600e.py', '../_base_/coco_bottomup_640.py',
    '../_base_/rtmo_model_s.py'
]
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

from rtmo_plugin.datasets.metainfo_check import keypoint_settings  # noqa: E402

# ---------------------------------------------------------------- what you set (copy this file and edit these lines:
# the settings below are derived when the file is read, so a child config that only overrides metafile keeps
# the K of this default)
metafile = 'configs/_base_/datasets/halpe26.py'  # your metainfo file (this default: MMPose's Halpe-26)
data_root = 'data/custom/'
train_ann, train_img = 'annotations/train.json', 'images/train/'
val_ann, val_img = 'annotations/val.json', 'images/val/'
load_from = None  # e.g. the official COCO-17 RTMO-s checkpoint (.pth path or URL)
source_metainfo = None  # keypoints of load_from's checkpoint, e.g. 'configs/_base_/datasets/coco.py'

# ---------------------------------------------------------------- derived from the metainfo
kpt = keypoint_settings(metafile)  # checked; num_keypoints, names, flip_indices, sigmas
del keypoint_settings

# ---------------------------------------------------------------- schedule: RTMO's 600-epoch recipe at half length
max_epochs = 300
stage2_epoch = max_epochs // 2 - 10  # RTMO-s COCO: 280 of 600 (proxy DCC targets + loss re-weighting from here)
num_last_epochs = max_epochs // 30  # RTMO-s COCO: 20 of 600 (stage-2 pipeline and aux loss)
train_cfg = dict(max_epochs=max_epochs, val_interval=10, dynamic_intervals=[(max_epochs - num_last_epochs, 1)])
param_scheduler = [
    dict(type='QuadraticWarmupLR', by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0002, begin=5, T_max=stage2_epoch, end=stage2_epoch, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='ConstantLR', by_epoch=True, factor=2.5, begin=stage2_epoch, end=stage2_epoch + 1),
    dict(type='CosineAnnealingLR', eta_min=0.0002, begin=stage2_epoch + 1, T_max=max_epochs // 2,
         end=max_epochs - num_last_epochs, by_epoch=True, convert_to_iter_based=True),
    dict(type='ConstantLR', by_epoch=True, factor=1, begin=max_epochs - num_last_epochs, end=max_epochs),
]
custom_hooks = [
    dict(type='RTMOStageSwitchHook',
         epoch_attributes={
             stage2_epoch: {
                 'proxy_target_cc': True,
                 'loss_mle.loss_weight': 5.0,
                 'loss_oks.loss_weight': 10.0
             },
         },
         num_last_epochs=num_last_epochs,
         new_train_pipeline={{_base_.train_pipeline_stage2}},
         priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002,
         update_buffers=True, strict_load=False, priority=49),
    dict(type='NonFiniteLossHook', action='raise'),
    dict(type='CheckpointCompatibilityHook',
         keypoint_transfer=dict(source_metainfo=source_metainfo) if source_metainfo else None),
]

# ---------------------------------------------------------------- data
train_dataloader = dict(dataset=dict(
    type='CheckedCocoDataset', metainfo=kpt['metainfo'], data_root=data_root, ann_file=train_ann,
    data_prefix=dict(img=train_img)))
val_dataloader = dict(dataset=dict(
    type='CheckedCocoDataset', metainfo=kpt['metainfo'], data_root=data_root, ann_file=val_ann,
    data_prefix=dict(img=val_img)))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + val_ann)  # CocoMetric: OKS sigmas from the dataset's metainfo
test_evaluator = val_evaluator

# ---------------------------------------------------------------- model: K and the OKS sigmas (paper: sigma_k)
model = dict(head=dict(
    num_keypoints=kpt['num_keypoints'],
    assigner=dict(oks_calculator=dict(metainfo=kpt['file'])),
    loss_oks=dict(metainfo=kpt['file'])))
