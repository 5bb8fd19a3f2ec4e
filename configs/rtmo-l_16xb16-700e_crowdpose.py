# RTMO-l, CrowdPose trainval, 640x640, 16 GPUs x 16 images, 700 epochs (reference: 73.2 AP CrowdPose test).
_base_ = ['./rtmo-s_8xb32-700e_crowdpose.py']
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

train_dataloader = dict(batch_size=16)
widen_factor = 1.0
deepen_factor = 1.0
model = dict(
    backbone=dict(
        deepen_factor=deepen_factor,
        widen_factor=widen_factor,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmdetection/v2.0/'
            'yolox/yolox_l_8x8_300e_coco/yolox_l_8x8_300e_coco'
            '_20211126_140236-d3bd2b23.pth',
            prefix='backbone.')),
    neck=dict(
        in_channels=[256, 512, 1024],
        deepen_factor=deepen_factor,
        widen_factor=widen_factor,
        projector=dict(out_channels=512)),
    head=dict(
        head_module_cfg=dict(widen_factor=widen_factor, pose_vec_channels=512),
        dcc_cfg=dict(in_channels=512)))
