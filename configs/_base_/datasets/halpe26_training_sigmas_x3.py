# Halpe-26 keypoint metadata with every per-keypoint OKS sigma multiplied by 3, for the *training* losses and the
# SimOTA assigner of the 26-keypoint synthetic demo (configs/demo/rtmo-tiny_synthetic-160_halpe26.py), as
# coco_training_sigmas_x3.py does for COCO-17 (the reason for 3x is given there). Evaluation keeps Halpe's sigmas.
_base_ = ['mmpose::_base_/datasets/halpe26.py']

dataset_info = dict(
    dataset_name='halpe26_training_sigmas_x3',
    sigmas=[0.078, 0.075, 0.075, 0.105, 0.105, 0.237, 0.237, 0.216, 0.216,
            0.186, 0.186, 0.321, 0.321, 0.261, 0.261, 0.267, 0.267,
            0.078, 0.078, 0.198, 0.237, 0.237, 0.237, 0.237, 0.237, 0.237])
