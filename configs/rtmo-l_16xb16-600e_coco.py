# RTMO-l, COCO train2017, 640x640, 16 GPUs x 16 images, 600 epochs (reference: 72.4 AP COCO val).
_base_ = ['./rtmo-m_16xb16-600e_coco.py']
custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)

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
