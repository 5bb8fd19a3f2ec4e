"""Export an RTMO model end to end to ONNX (image tensor in; boxes, scores, keypoints, keypoint scores out; score
threshold and NMS inside the graph; dynamic batch) and optionally check it against PyTorch in onnxruntime.

Example:
    python tools/export_onnx.py configs/rtmo-t_8xb32-600e_coco.py --checkpoint rtmo-t.pth --out rtmo-t.onnx --check
"""
import argparse


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="model config (ours or MMPose's RTMO config)")
    parser.add_argument("--checkpoint", help="weights (ours or official RTMO); random weights if omitted")
    parser.add_argument("--out", required=True, help="output .onnx path")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (>= 17)")
    parser.add_argument("--input-size", type=int, nargs=2, default=None, metavar=("W", "H"),
                        help="export input size (default: the config's test_cfg input_size)")
    parser.add_argument("--score-thr", type=float, default=None, help="score threshold baked into the graph")
    parser.add_argument("--nms-thr", type=float, default=None, help="NMS IoU threshold baked into the graph")
    parser.add_argument("--max-per-image", type=int, default=None, help="cap of people per image")
    parser.add_argument("--check", action="store_true", help="compare onnxruntime with PyTorch on a test batch")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    import torch

    from rtmo_plugin.apis import load_model
    from rtmo_plugin.deploy import compare_with_torch, convert_to_fast, export_onnx, onnx_session

    model = load_model(args.config, args.checkpoint, device="cpu")
    fast = convert_to_fast(model, args.input_size, args.score_thr, args.nms_thr, args.max_per_image,
                           kernels="torch")
    path = export_onnx(fast, args.out, opset=args.opset)
    w, h = fast.input_size
    print(f"exported {path} (input images: (batch, 3, {h}, {w}) float32 BGR 0-255; score_thr {fast.score_thr}, "
          f"nms_thr {fast.nms_thr})")
    if args.check:
        images = torch.rand(2, 3, h, w, generator=torch.Generator().manual_seed(0)) * 255
        report = compare_with_torch(fast, onnx_session(path), images)
        print("onnxruntime vs PyTorch, max |difference|: " + ", ".join(f"{k} {v:.3g}" for k, v in report.items()))


if __name__ == "__main__":
    main()
