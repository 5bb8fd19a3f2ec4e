# RTMO-m, CrowdPose trainval, 640x640, 16 GPUs x 16 images, 700 epochs (reference: 71.1 AP CrowdPose test).
_base_ = ['./rtmo-s_8xb32-700e_crowdpose.py']
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

train_dataloader = dict(batch_size=16)
widen_factor = 0.75
deepen_factor = 0.67
model = dict(
    backbone=dict(
        deepen_factor=deepen_factor,
        widen_factor=widen_factor,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/v1/'
            'pretrained_models/yolox_m_8x8_300e_coco_20230829.pth',
            prefix='backbone.')),
    neck=dict(
        in_channels=[192, 384, 768],
        deepen_factor=deepen_factor,
        widen_factor=widen_factor,
        projector=dict(out_channels=384)),
    head=dict(
        head_module_cfg=dict(widen_factor=widen_factor, pose_vec_channels=384),
        dcc_cfg=dict(in_channels=384)))
