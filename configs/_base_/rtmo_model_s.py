# RTMO-s model (COCO, 17 keypoints): CSPDarknet + HybridEncoder (by registry name) + our RTMODCCHead.
# (custom_imports comes with the runtime base; mmengine forbids the same key in sibling bases)
# Variant configs override the width/depth dependent numbers.

metafile = 'configs/_base_/datasets/coco.py'  # resolved inside mmpose's package
widen_factor = 0.5
deepen_factor = 0.33
model = dict(
    type='BottomupPoseEstimator',
    init_cfg=dict(type='Kaiming', layer='Conv2d', a=2.23606797749979,
                  distribution='uniform', mode='fan_in',
                  nonlinearity='leaky_relu'),
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        pad_size_divisor=32,
        mean=[0, 0, 0],
        std=[1, 1, 1],
        batch_augments=[
            dict(type='RTMOBatchSyncResize', random_size_range=(480, 800),
                 size_divisor=32, interval=1),
        ]),
    backbone=dict(
        type='CSPDarknet',
        deepen_factor=0.33,
        widen_factor=0.5,
        out_indices=(2, 3, 4),
        spp_kernal_sizes=(5, 9, 13),
        norm_cfg=dict(type='BN', momentum=0.03, eps=0.001),
        act_cfg=dict(type='Swish'),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmdetection/v2.0/'
            'yolox/yolox_s_8x8_300e_coco/yolox_s_8x8_300e_coco_'
            '20211121_095711-4592a793.pth',
            prefix='backbone.')),
    neck=dict(
        type='HybridEncoder',
        in_channels=[128, 256, 512],
        deepen_factor=0.33,
        widen_factor=0.5,
        hidden_dim=256,
        output_indices=[1, 2],
        encoder_cfg=dict(
            self_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.0),
            ffn_cfg=dict(embed_dims=256, feedforward_channels=1024,
                         ffn_drop=0.0, act_cfg=dict(type='GELU'))),
        projector=dict(type='ChannelMapper', in_channels=[256, 256],
                       kernel_size=1, out_channels=256, act_cfg=None,
                       norm_cfg=dict(type='BN'), num_outs=2)),
    head=dict(
        type='RTMODCCHead',
        num_keypoints=17,
        featmap_strides=(16, 32),
        head_module_cfg=dict(
            num_classes=1,
            in_channels=256,
            cls_feat_channels=256,
            channels_per_group=36,
            pose_vec_channels=256,
            widen_factor=0.5,
            stacked_convs=2,
            norm_cfg=dict(type='BN', momentum=0.03, eps=0.001),
            act_cfg=dict(type='Swish')),
        assigner=dict(
            type='SimOTAAssigner',
            dynamic_k_indicator='oks',
            oks_calculator=dict(type='PoseOKS', metainfo=metafile),
            use_keypoints_for_center=True),
        prior_generator=dict(type='MlvlPointGenerator',
                             centralize_points=True, strides=[16, 32]),
        dcc_cfg=dict(
            in_channels=256,
            feat_channels=128,
            num_bins=(192, 256),  # (x, y) dynamic bins
            spe_channels=128,
            gau_cfg=dict(s=128, expansion_factor=2, dropout_rate=0.0,
                         drop_path=0.0, act_fn='SiLU', pos_enc='add')),
        overlaps_power=0.5,
        loss_cls=dict(type='VariFocalLoss', reduction='sum',
                      use_target_weight=True, loss_weight=1.0),
        loss_bbox=dict(type='IoULoss', mode='square', eps=1e-16,
                       reduction='sum', loss_weight=5.0),
        loss_oks=dict(type='OKSLoss', reduction='none', metainfo=metafile,
                      loss_weight=30.0),
        loss_vis=dict(type='BCELoss', use_target_weight=True,
                      reduction='mean', loss_weight=1.0),
        loss_mle=dict(type='MLECoordClsLoss', use_target_weight=True,
                      loss_weight=1.0),
        loss_bbox_aux=dict(type='L1Loss', reduction='sum', loss_weight=1.0)),
    test_cfg=dict(input_size=(640, 640), score_thr=0.1, nms_thr=0.65))
