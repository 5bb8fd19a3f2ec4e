"""Input conversion and letterbox geometry."""
import numpy as np
import pytest

from rtmo_plugin.apis import letterbox, to_bgr_uint8


@pytest.mark.parametrize("img", [
    np.full((5, 7), 200, np.uint8),
    np.full((5, 7, 1), 200, np.uint8),
    np.full((5, 7, 4), 200, np.uint8),
    np.full((5, 7, 3), 51400, np.uint16),
    np.full((5, 7, 3), 200.2, np.float32),
], ids=["gray", "gray1", "bgra", "uint16", "float"])
def test_accepted_images_become_bgr_uint8(img: np.ndarray) -> None:
    out = to_bgr_uint8(img)
    assert out.shape == (5, 7, 3) and out.dtype == np.uint8
    assert np.all(out == 200)


def test_bgra_drops_alpha_and_keeps_channel_order() -> None:
    img = np.zeros((2, 2, 4), np.uint8)
    img[..., 0], img[..., 2], img[..., 3] = 10, 30, 0
    assert to_bgr_uint8(img)[0, 0].tolist() == [10, 0, 30]


@pytest.mark.parametrize("img,exc,msg", [
    ("not an image", TypeError, "numpy array"),
    (np.zeros((0, 5, 3), np.uint8), ValueError, "empty"),
    (np.zeros((4, 4, 2), np.uint8), ValueError, "shape"),
    (np.zeros((4, 4, 3), bool), TypeError, "dtype"),
    (np.full((4, 4, 3), np.nan, np.float32), ValueError, "NaN"),
])
def test_bad_images_raise_clear_errors(img, exc, msg: str) -> None:
    with pytest.raises(exc, match=msg):
        to_bgr_uint8(img, "images[2]")
    with pytest.raises(exc, match=r"images\[2\]"):
        to_bgr_uint8(img, "images[2]")


def test_letterbox_round_trip_and_meta() -> None:
    img = np.random.default_rng(0).integers(0, 255, (240, 400, 3), dtype=np.uint8)
    canvas, info = letterbox(img, (320, 320))
    assert canvas.shape == (320, 320, 3) and info.scale == pytest.approx(0.8)
    assert np.all(canvas[:10] == 114) and np.all(canvas[-10:] == 114), "centred vertical padding"
    pts = np.array([[0.0, 0.0], [400.0, 240.0], [123.0, 45.0]], np.float32)
    into = (pts - info.center) * info.scale + np.array([160.0, 160.0])
    np.testing.assert_allclose(info.to_image(into), pts, atol=1e-4)
    meta = info.meta()
    np.testing.assert_allclose(meta["input_scale"], [400.0, 400.0])
    np.testing.assert_allclose(meta["input_center"], [200.0, 120.0])


def test_letterbox_matches_mmpose_bottomup_resize(shared_data) -> None:
    """Same canvas and meta as MMPose's test-time resize (the reference pipeline)."""
    import cv2
    from mmpose.datasets.transforms import BottomupResize

    img = cv2.imread(str(sorted((shared_data / "coco_mini").glob("*.jpg"))[0]))
    ref = BottomupResize(input_size=(416, 416), resize_mode="fit", pad_val=(114, 114, 114), size_factor=32)(
        dict(img=img.copy(), ori_shape=img.shape[:2]))
    canvas, info = letterbox(img, (416, 416))
    assert np.abs(canvas.astype(int) - ref["img"].astype(int)).max() <= 1
    np.testing.assert_allclose(info.center, ref["input_center"], rtol=1e-6)
    np.testing.assert_allclose(info.input_scale, ref["input_scale"], rtol=1e-5)


def test_tiny_image_letterboxes() -> None:
    canvas, info = letterbox(to_bgr_uint8(np.full((1, 1), 7, np.uint8)), (64, 64))
    assert canvas.shape == (64, 64, 3) and info.scale == 64.0
