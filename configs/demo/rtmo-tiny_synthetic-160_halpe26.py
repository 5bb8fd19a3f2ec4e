# The embedded demo's small RTMO on the 26-keypoint synthetic figures (Halpe-26: COCO-17 plus head top, neck,
# pelvis and six foot points), data from rtmo_plugin.datasets.synthetic with keypoint_set='halpe26'.
#
# Every keypoint-dependent setting is derived from the metainfo files below (see configs/custom/ for the general
# recipe): the head's K, the dataset's flip pairs and the metric's sigmas (Halpe's), the OKS loss / assigner
# sigmas (3x Halpe's, as in the COCO-17 demo). experiments/keypoint_transfer_example.py trains it from scratch and
# from a COCO-17 demo checkpoint (load_from + CheckpointCompatibilityHook's keypoint_transfer).
_base_ = ['./rtmo-tiny_synthetic-160.py']

from rtmo_plugin.datasets.metainfo_check import keypoint_settings  # noqa: E402

metafile = 'configs/_base_/datasets/halpe26.py'  # resolved inside mmpose's package
training_metafile = '{{fileDirname}}/../_base_/datasets/halpe26_training_sigmas_x3.py'
kpt = keypoint_settings(metafile)  # checked: names, flip pairs, sigma / joint-weight counts
del keypoint_settings

train_dataloader = dict(dataset=dict(metainfo=kpt['metainfo']))
val_dataloader = dict(dataset=dict(metainfo=kpt['metainfo']))
test_dataloader = val_dataloader
model = dict(head=dict(
    num_keypoints=kpt['num_keypoints'],
    assigner=dict(oks_calculator=dict(metainfo=training_metafile)),
    loss_oks=dict(metainfo=training_metafile)))
