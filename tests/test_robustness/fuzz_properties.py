"""Hypothesis properties for the codec, every RTMO pipeline transform, the pose NMS and the DCC decode.

Invariants checked on every example (see docs/robustness.md):

* no exception other than the component's documented errors (ValueError/KeyError with a message);
* no NaN/inf in any output geometry, given finite inputs;
* shapes preserved and aligned (N instances in every instance array, K keypoints, image shape == img_shape);
* keypoints inside the output canvas or marked invisible (1 px tolerance for the ``w - 1 - x`` flip convention).

Each property is a plain function of hypothesis strategies; :func:`run_property` runs one with a given number
of examples (``derandomize=True``: the same examples on every run). test_fuzz.py runs 100 per property in
``make test`` and ≥ 10,000 in total under the ``slow`` marker.
"""
from collections import Counter
from typing import Any, Callable, Dict, Tuple

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from mmpose.registry import KEYPOINT_CODECS, TRANSFORMS

K = 17
COCO_FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
#: examples actually executed per property (the slow test reports the total)
EXECUTED: Counter = Counter()
FINITE = dict(allow_nan=False, allow_infinity=False, width=32)


# ---------------------------------------------------------------------------- strategies
@st.composite
def samples(draw: Callable, max_n: int = 5, max_side: int = 48, min_side: int = 1) -> Dict[str, Any]:
    """A bottom-up sample as an MMPose dataset + LoadImage produce it (visible keypoints inside the image)."""
    w, h = draw(st.integers(min_side, max_side)), draw(st.integers(min_side, max_side))
    n = draw(st.integers(0, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 31 - 1)))
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    unit = hnp.arrays(np.float32, (n, K, 2), elements=st.floats(0, 1, **FINITE))
    kpts = draw(unit) * np.array([w - 1, h - 1], dtype=np.float32)
    vis = draw(hnp.arrays(np.float32, (n, K), elements=st.sampled_from([0.0, 1.0])))  # datasets give min(1, v)
    far = draw(hnp.arrays(np.float32, (n, K, 2), elements=st.floats(-64, 160, **FINITE)))
    kpts = np.where(vis[..., None] > 0, kpts, far)  # unlabelled keypoints may hold any coordinate
    corner = draw(hnp.arrays(np.float32, (n, 2), elements=st.floats(-8, max_side, **FINITE)))
    size = draw(hnp.arrays(np.float32, (n, 2), elements=st.floats(0, max_side, **FINITE)))  # includes 0-area
    bbox = np.concatenate([corner, corner + size], axis=1)
    segs = [[(draw(hnp.arrays(np.float32, (6,), elements=st.floats(-4, max_side + 4, **FINITE)))).tolist()]
            for _ in range(draw(st.integers(0, 2)))]
    return dict(img=img, img_shape=(h, w), ori_shape=(h, w), img_id=0, img_path="fuzz.jpg", keypoints=kpts,
                keypoints_visible=vis, bbox=bbox, bbox_score=np.ones(n, np.float32),
                category_id=np.ones(n, np.int64), area=np.maximum(size.prod(1), 1.0).astype(np.float32),
                flip_indices=list(COCO_FLIP), invalid_segs=segs)


class FuzzDataset:
    """What PoseMosaic/PoseMixUp draw their extra images from (``len`` + ``get_data_info``)."""

    def __init__(self, items: list) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def get_data_info(self, idx: int) -> Dict[str, Any]:
        item = self.items[idx]
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in item.items()}


# ---------------------------------------------------------------------------- invariants
def check_sample(out: Dict[str, Any], who: str, canvas_check: bool = True, tol: float = 1e-3) -> None:
    """The shared invariants on a transformed sample."""
    img = out["img"]
    assert img.ndim == 3 and img.shape[2] == 3 and min(img.shape[:2]) >= 1, f"{who}: image shape {img.shape}"
    assert tuple(out["img_shape"][:2]) == img.shape[:2], f"{who}: img_shape {out['img_shape']} vs {img.shape}"
    kpts, vis = np.asarray(out["keypoints"]), np.asarray(out["keypoints_visible"])
    n = kpts.shape[0]
    assert kpts.shape == (n, K, 2) and vis.shape[:2] == (n, K), f"{who}: {kpts.shape} / {vis.shape}"
    for key in ("bbox", "bbox_score", "category_id", "area"):
        if out.get(key) is not None:
            assert len(out[key]) == n, f"{who}: {key} has {len(out[key])} rows for {n} instances"
    if out.get("bbox") is not None:
        assert np.asarray(out["bbox"]).shape == (n, 4) and np.isfinite(out["bbox"]).all(), f"{who}: bbox"
    if out.get("area") is not None:
        assert np.isfinite(out["area"]).all(), f"{who}: area not finite"
    flags = vis[..., 0] if vis.ndim == 3 else vis
    assert np.isfinite(flags).all() and np.isin(flags, (0, 1, 2)).all(), f"{who}: visibility {np.unique(flags)}"
    shown = flags > 0
    assert np.isfinite(kpts[shown]).all(), f"{who}: non-finite visible keypoint"
    if canvas_check:
        h, w = img.shape[:2]
        x, y = kpts[..., 0][shown], kpts[..., 1][shown]
        inside = (x >= -tol) & (x <= w + tol) & (y >= -tol) & (y <= h + tol)
        assert inside.all(), f"{who}: visible keypoints outside the {w}x{h} canvas: {np.c_[x, y][~inside][:3]}"


def _copy(sample: Dict[str, Any]) -> Dict[str, Any]:
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in sample.items()}


def _seed(seed: int) -> None:
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------------------- properties
def prop_codec_encode(sample: Dict[str, Any], use_bbox: bool, expand: bool) -> None:
    codec = KEYPOINT_CODECS.build(dict(type="BBoxFreeKeypointCodec", input_size=(64, 64), expand_bbox=expand))
    n = len(sample["keypoints"])
    enc = codec.encode(sample["keypoints"], sample["keypoints_visible"], sample["bbox"] if use_bbox else None,
                       sample["category_id"], None)
    assert enc["bbox"].shape == (n, 4) and enc["bbox_labels"].shape == (n,) and enc["area"].shape == (n,)
    assert np.isfinite(enc["bbox"]).all() and np.isfinite(enc["area"]).all() and (enc["area"] >= 1).all()
    if not use_bbox:  # boxes from visible keypoints lie on the canvas
        assert (enc["bbox"] >= 0).all()


def prop_codec_decode(kpts: np.ndarray, center: np.ndarray, scale: np.ndarray) -> None:
    codec = KEYPOINT_CODECS.build(dict(type="BBoxFreeKeypointCodec", input_size=(64, 48)))
    boxes = np.concatenate([kpts[:, 0], kpts[:, 1]], axis=1)
    out, out_boxes = codec.decode(kpts, center, scale, bboxes=boxes)
    assert out.shape == kpts.shape and out_boxes.shape == (len(kpts), 4)
    assert np.isfinite(out).all() and np.isfinite(out_boxes).all()


def prop_codec_bad_shapes(shape: Tuple[int, ...]) -> None:
    """Any keypoint array shape (K >= 1): either encodes or raises the documented ValueError."""
    codec = KEYPOINT_CODECS.build(dict(type="BBoxFreeKeypointCodec", input_size=(64, 64)))
    try:
        codec.encode(np.zeros(shape, np.float32))
    except ValueError as err:
        assert "BBoxFreeKeypointCodec" in str(err)


def prop_random_affine(sample: Dict[str, Any], mode: str, seed: int) -> None:
    _seed(seed)
    t = TRANSFORMS.build(dict(type="PoseRandomAffine", input_size=(40, 32), transform_mode=mode,
                              scale_type="long", pad_val=114, distribution="uniform", clip_border=True,
                              bbox_keep_corner=False, shift_factor=0.1, rotate_factor=10,
                              scale_factor=(0.75, 1.0)))
    out = t(_copy(sample))
    check_sample(out, f"PoseRandomAffine({mode})")
    assert out["img"].shape[:2] == (32, 40)


def prop_random_affine_letterbox(sample: Dict[str, Any]) -> None:
    """Stage-2 settings of RTMO-t/s: all probabilities 0 = a pure letterbox."""
    t = TRANSFORMS.build(dict(type="PoseRandomAffine", input_size=(32, 32), scale_type="long", pad_val=(114,) * 3,
                              bbox_keep_corner=False, clip_border=True, shift_prob=0, rotate_prob=0,
                              scale_prob=0))
    check_sample(t(_copy(sample)), "PoseRandomAffine(letterbox)")


def prop_flip(sample: Dict[str, Any], direction: str) -> None:
    t = TRANSFORMS.build(dict(type="PoseHorizontalFlip", prob=1.0, direction=direction))
    out = t(_copy(sample))
    check_sample(out, f"PoseHorizontalFlip({direction})", tol=1.0)
    assert out["img"].shape == sample["img"].shape


def prop_letterbox(sample: Dict[str, Any], size: Tuple[int, int]) -> None:
    t = TRANSFORMS.build(dict(type="PoseLetterboxResize", input_size=size, pad_val=(114, 114, 114),
                              transform_annotations=True))
    out = t(_copy(sample))
    check_sample(out, "PoseLetterboxResize", canvas_check=False)
    assert np.isfinite(out["input_center"]).all() and np.isfinite(out["input_scale"]).all()
    assert (np.asarray(out["input_scale"]) > 0).all()


def prop_instance_filter(sample: Dict[str, Any], by_box: bool, by_area: bool, keep_empty: bool) -> None:
    t = TRANSFORMS.build(dict(type="PoseInstanceFilter", by_box=by_box, by_area=by_area, by_kpt=True,
                              keep_empty=keep_empty))
    out = t(_copy(sample))
    if out is None:  # documented (FilterAnnotations semantics): keep_empty=True drops a sample left empty
        assert keep_empty and len(sample["keypoints"]) > 0 and not t.keep_mask(_copy(sample)).any()
        return
    check_sample(out, "PoseInstanceFilter")
    flags = np.asarray(out["keypoints_visible"])
    assert ((flags > 0).sum(1) >= 1).all(), "an instance without visible keypoints survived the filter"


def prop_hsv(sample: Dict[str, Any], seed: int) -> None:
    _seed(seed)
    t = TRANSFORMS.build(dict(type="PoseHSVJitter"))
    before = _copy(sample)
    out = t(_copy(sample))
    check_sample(out, "PoseHSVJitter")
    assert out["img"].dtype == np.uint8 and out["img"].shape == before["img"].shape
    np.testing.assert_array_equal(out["keypoints"], before["keypoints"])


def prop_mosaic(sample: Dict[str, Any], others: list, seed: int) -> None:
    _seed(seed)
    t = TRANSFORMS.build(dict(type="PoseMosaic", img_scale=(32, 24), pad_val=114.0))
    data = _copy(sample)
    data["dataset"] = FuzzDataset(others)
    out = t(data)
    check_sample(out, "PoseMosaic")
    assert out["img"].shape[:2] == (48, 64)


def prop_mixup(sample: Dict[str, Any], others: list, seed: int) -> None:
    _seed(seed)
    t = TRANSFORMS.build(dict(type="PoseMixUp", img_scale=(32, 24), pad_val=114.0))
    data = _copy(sample)
    data["dataset"] = FuzzDataset(others)
    out = t(data)
    check_sample(out, "PoseMixUp")
    assert out["img"].shape == sample["img"].shape


def prop_heatmap_mask(sample: Dict[str, Any], get_invalid: bool) -> None:
    t = TRANSFORMS.build(dict(type="PoseHeatmapMaskFromInvalid", get_invalid=get_invalid))
    out = t(_copy(sample))
    mask = np.asarray(out["heatmap_mask"])
    assert mask.shape == tuple(sample["img_shape"]), f"mask {mask.shape} vs image {sample['img_shape']}"
    check_sample(out, "PoseHeatmapMaskFromInvalid")


def prop_pose_nms(kpts: np.ndarray, scores: np.ndarray, dup: int, box_mode: str) -> None:
    from rtmo_plugin.models.rmpe.pose_nms import ParametricPoseNMS

    if dup and len(kpts):  # exact duplicates and all-identical poses are the hard cases for pose NMS
        kpts = np.concatenate([kpts, np.repeat(kpts[:1], dup, axis=0)])
        scores = np.concatenate([scores, np.repeat(scores[:1], dup, axis=0)])
    n, k = scores.shape
    boxes = None
    if box_mode == "given":
        boxes = np.concatenate([kpts.min(1), kpts.max(1)], axis=1)
    nms = ParametricPoseNMS(preset="coco")
    res = nms(kpts, scores, bboxes=boxes)
    m = res.keep.numel()
    assert m <= n and len(set(res.keep.tolist())) == m and all(0 <= i < n for i in res.keep.tolist())
    assert tuple(res.keypoints.shape) == (m, k, 2) and tuple(res.keypoint_scores.shape) == (m, k)
    assert tuple(res.scores.shape) == (m,)
    for name in ("keypoints", "keypoint_scores", "scores"):
        assert torch.isfinite(getattr(res, name)).all(), f"ParametricPoseNMS: non-finite {name}"
    if m and n:  # merged keypoints stay within the extent of the input poses
        lo, hi = kpts.reshape(-1, 2).min(0) - 1e-3, kpts.reshape(-1, 2).max(0) + 1e-3
        pts = res.keypoints.reshape(-1, 2).numpy()
        assert ((pts >= lo) & (pts <= hi)).all(), "merged keypoints outside the input extent"


_DCC_CACHE: Dict[str, Any] = {}


def _dcc():
    if "dcc" not in _DCC_CACHE:
        from rtmo_plugin.models.heads.dcc import DCC

        torch.manual_seed(0)
        dcc = DCC(in_channels=16, num_keypoints=5, feat_channels=16, num_bins=(24, 32), spe_channels=16,
                  gau_cfg=dict(s=16, expansion_factor=2, dropout_rate=0.0, drop_path=0.0, act_fn="SiLU",
                               bias=False, pos_enc="add"))
        _DCC_CACHE["dcc"] = dcc.eval()
    return _DCC_CACHE["dcc"]


def prop_dcc_decode(vecs: np.ndarray, xyxy: np.ndarray, grids: np.ndarray) -> None:
    dcc = _dcc()
    n = len(vecs)
    boxes = torch.from_numpy(xyxy)
    with torch.no_grad():
        kpts = dcc.forward_test(torch.from_numpy(vecs), boxes, torch.from_numpy(grids))
    assert tuple(kpts.shape) == (n, 5, 2) and torch.isfinite(kpts).all(), "DCC: shape or NaN"
    x_bins, y_bins, _, _ = dcc.dynamic_bins(boxes)
    for axis, bins in ((0, x_bins), (1, y_bins)):  # an expectation over the bins lies between the extreme bins
        lo, hi = bins.min(1).values[:, None], bins.max(1).values[:, None]
        span = (hi - lo).abs() * 1e-4 + 1e-2
        assert ((kpts[..., axis] >= lo - span) & (kpts[..., axis] <= hi + span)).all(), "DCC: outside its bins"


def prop_dcc_static_decode(logits_x: np.ndarray, logits_y: np.ndarray, scale: float) -> None:
    from rtmo_plugin.models.heads.dcc import DCC, stable_softmax

    px, py = stable_softmax(torch.from_numpy(logits_x)), stable_softmax(torch.from_numpy(logits_y))
    assert torch.isfinite(px).all() and torch.isfinite(py).all()
    n = logits_x.shape[0]
    xb = torch.linspace(-0.5, 0.5, logits_x.shape[-1])[None].repeat(n, 1) * scale
    yb = torch.linspace(-0.5, 0.5, logits_y.shape[-1])[None].repeat(n, 1) * scale
    out = DCC.decode(px, py, xb, yb)
    assert tuple(out.shape) == (n, logits_x.shape[1], 2) and torch.isfinite(out).all()
    assert (out.abs() <= abs(scale) * 0.5 * (1 + 1e-4) + 1e-4).all()


# ---------------------------------------------------------------------------- registry of properties
def _pose_arrays(max_n: int = 6, max_k: int = 17, lo: float = -50, hi: float = 700):
    return st.integers(0, max_n).flatmap(lambda n: st.integers(1, max_k).flatmap(lambda k: st.tuples(
        hnp.arrays(np.float32, (n, k, 2), elements=st.floats(lo, hi, **FINITE)),
        hnp.arrays(np.float32, (n, k), elements=st.floats(0, 1, **FINITE)))))


def _dcc_inputs():
    def build(n: int):
        corner = hnp.arrays(np.float32, (n, 2), elements=st.floats(-100, 700, **FINITE))
        size = hnp.arrays(np.float32, (n, 2), elements=st.floats(-20, 600, **FINITE))  # < 0: inverted, 0: empty
        return st.tuples(hnp.arrays(np.float32, (n, 16), elements=st.floats(-1e3, 1e3, **FINITE)),
                         st.tuples(corner, size).map(lambda cs: np.concatenate([cs[0], cs[0] + cs[1]], 1)),
                         hnp.arrays(np.float32, (n, 2), elements=st.floats(0, 640, **FINITE)))
    return st.integers(0, 6).flatmap(build)


PROPERTIES: Dict[str, Tuple[Callable, Dict[str, Any]]] = {
    "codec_encode": (prop_codec_encode, dict(sample=samples(), use_bbox=st.booleans(), expand=st.booleans())),
    "codec_decode": (prop_codec_decode, dict(
        kpts=st.integers(0, 5).flatmap(lambda n: hnp.arrays(np.float32, (n, K, 2),
                                                            elements=st.floats(-1e4, 1e4, **FINITE))),
        center=hnp.arrays(np.float32, (2,), elements=st.floats(-1e4, 1e4, **FINITE)),
        scale=hnp.arrays(np.float32, (2,), elements=st.floats(2.0 ** -10, 1e4, **FINITE)))),
    "codec_bad_shapes": (prop_codec_bad_shapes, dict(shape=st.lists(st.integers(1, 4), min_size=0, max_size=4)
                                                     .map(tuple))),
    "random_affine": (prop_random_affine, dict(sample=samples(), mode=st.sampled_from(["affine", "perspective"]),
                                               seed=st.integers(0, 2 ** 31 - 1))),
    "random_affine_letterbox": (prop_random_affine_letterbox, dict(sample=samples())),
    "flip": (prop_flip, dict(sample=samples(), direction=st.sampled_from(["horizontal", "vertical", "diagonal"]))),
    "letterbox": (prop_letterbox, dict(sample=samples(), size=st.tuples(st.sampled_from([32, 64, 96]),
                                                                         st.sampled_from([32, 64, 96])))),
    "instance_filter": (prop_instance_filter, dict(sample=samples(), by_box=st.booleans(), by_area=st.booleans(),
                                                   keep_empty=st.booleans())),
    "hsv": (prop_hsv, dict(sample=samples(max_n=1), seed=st.integers(0, 2 ** 31 - 1))),
    "mosaic": (prop_mosaic, dict(sample=samples(max_n=3), others=st.lists(samples(max_n=3), min_size=1, max_size=3),
                                 seed=st.integers(0, 2 ** 31 - 1))),
    "mixup": (prop_mixup, dict(sample=samples(max_n=3), others=st.lists(samples(max_n=3), min_size=1, max_size=2),
                               seed=st.integers(0, 2 ** 31 - 1))),
    "heatmap_mask": (prop_heatmap_mask, dict(sample=samples(max_n=2), get_invalid=st.booleans())),
    "pose_nms": (lambda arrays, dup, box_mode: prop_pose_nms(arrays[0], arrays[1], dup, box_mode),
                 dict(arrays=_pose_arrays(), dup=st.integers(0, 3), box_mode=st.sampled_from(["given", "none"]))),
    "dcc_decode": (lambda inputs: prop_dcc_decode(*inputs), dict(inputs=_dcc_inputs())),
    "dcc_static_decode": (lambda logits, scale: prop_dcc_static_decode(logits[0], logits[1], scale), dict(
        logits=st.integers(0, 4).flatmap(lambda n: st.tuples(*(
            hnp.arrays(np.float32, (n, 3, bins), elements=st.floats(-2.0 ** 100, 2.0 ** 100, **FINITE))
            for bins in (8, 6)))),
        scale=st.floats(-1e4, 1e4, **FINITE))),
}


def run_property(name: str, max_examples: int) -> int:
    """Run one property for ``max_examples`` deterministic examples; return how many were executed."""
    body, strategies = PROPERTIES[name]

    def counted(**kwargs: Any) -> None:
        EXECUTED[name] += 1
        body(**kwargs)

    before = EXECUTED[name]
    test = settings(max_examples=max_examples, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)(given(**strategies)(counted))
    test()
    return EXECUTED[name] - before

