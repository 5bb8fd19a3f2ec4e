"""Quantise an exported RTMO graph to INT8 for the CPU (NNCF post-training quantisation, OpenVINO IR out),
calibrated on the images of one or more folders, with RTMO's precision-sensitive parts kept in float.

Example:
    python tools/export_onnx.py configs/rtmo-t_8xb32-600e_coco.py --checkpoint rtmo-t.pth --out rtmo-t.onnx
    python tools/quantize.py rtmo-t.onnx --images calib_images/ --out rtmo-t_int8.xml --num-images 300
    python tools/demo.py configs/rtmo-t_8xb32-600e_coco.py --checkpoint rtmo-t.pth --mode int8 \\
        --int8-model rtmo-t_int8.xml --input photo.jpg
"""
import argparse
import sys


def parse_args() -> argparse.Namespace:
    from rtmo_plugin.deploy.quantize import DEFAULT_KEEP_FLOAT, PARTS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="exported float graph (.onnx from tools/export_onnx.py, or OpenVINO .xml)")
    parser.add_argument("--images", nargs="+", required=True,
                        help="calibration image folders: a few hundred images like the ones the model will run on "
                             "(calibrating on other images breaks INT8: docs/deploy_cpu.md)")
    parser.add_argument("--out", required=True, help="output OpenVINO IR (.xml; the .bin goes beside it)")
    parser.add_argument("--num-images", type=int, default=300, help="calibration images used (first N, sorted)")
    parser.add_argument("--keep-float", nargs="*", default=list(DEFAULT_KEEP_FLOAT), choices=sorted(PARTS),
                        help="graph parts kept in float (default: the measured set; give none to quantise all)")
    parser.add_argument("--preset", default="mixed", choices=["mixed", "performance"], help="NNCF preset")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    from rtmo_plugin.deploy.openvino_runtime import require_openvino
    from rtmo_plugin.deploy.quantize import QuantizationError, count_quantized, list_images, quantize_rtmo

    try:
        require_openvino()
        files = list_images(args.images)
        out = quantize_rtmo(args.model, files, args.out, keep_float=args.keep_float, subset_size=args.num_images,
                            preset=args.preset)
    except (QuantizationError, RuntimeError) as exc:
        sys.exit(f"quantize.py: {exc}")
    counts = count_quantized(out)
    print(f"wrote {out} ({min(len(files), args.num_images)} calibration images; {counts['fake_quantize']} quantisers; "
          f"kept in float: {', '.join(args.keep_float) or 'nothing'})")


if __name__ == "__main__":
    main()
