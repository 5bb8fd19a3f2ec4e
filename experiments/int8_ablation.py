"""What breaks INT8 RTMO, measured: quantise the exported graph with each suspect part kept in float (and with
none, and with the default set), then score every variant against the float32 graph on a COCO-format split.

Per variant: keypoint AP and box AP (instance score = box score), the AP difference to float32, and the agreement
with the float32 predictions (per-instance OKS, median and 5th percentile; median instance-score difference).
Calibration: the images of ``--calib`` folders (a few hundred; e.g. the synthetic train split or coco_mini).

Example (the make-demo checkpoint on its synthetic val split)::

    python -m experiments.int8_ablation --config outputs/demo/work_dir/rtmo-tiny_synthetic-160.py \\
        --checkpoint outputs/demo/work_dir/final.pth --ann outputs/demo/data/annotations/val.json \\
        --images outputs/demo/data/val --calib outputs/demo/data/train --out outputs/int8_demo.json
"""
import argparse
import json
import time
from pathlib import Path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--ann", required=True, help="COCO keypoint annotations of the evaluation images")
    parser.add_argument("--images", required=True, help="folder of the evaluation images")
    parser.add_argument("--calib", nargs="+", required=True, help="calibration image folders")
    parser.add_argument("--num-calib", type=int, default=300)
    parser.add_argument("--variants", nargs="+", default=None,
                        help="variants to run: none, default, all, all_but_backbone, keep:<part>, default-<part>, "
                             "default+<part> (default: all of them)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work-dir", default="outputs/int8_ablation")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    return parser.parse_args()


def _variants(names):
    from rtmo_plugin.deploy.quantize import DEFAULT_KEEP_FLOAT, PARTS

    table = {"none": (), "default": DEFAULT_KEEP_FLOAT,
             "all_head_dcc": tuple(p for p in PARTS if p not in ("encoder", "neck", "stem", "backbone")),
             "all_but_backbone": tuple(p for p in PARTS if p not in ("stem", "backbone")), "all": tuple(PARTS)}
    for part in PARTS:
        table[f"keep:{part}"] = (part,)  # only this part in float
        table[f"default-{part}"] = tuple(p for p in DEFAULT_KEEP_FLOAT if p != part)  # default, this part in int8
        table[f"default+{part}"] = tuple(dict.fromkeys(DEFAULT_KEEP_FLOAT + (part,)))  # default, this part in float
    if names is None:
        return table
    unknown = [n for n in names if n not in table]
    if unknown:
        raise SystemExit(f"int8_ablation: unknown variants {unknown}; choose from {sorted(table)}")
    return {n: table[n] for n in names}


def main() -> None:
    args = parse_args()
    import cv2
    import torch
    from mmpose.utils import register_all_modules

    import rtmo_plugin  # noqa: F401
    from rtmo_plugin.apis import RTMOInferencer, load_model
    from rtmo_plugin.deploy import convert_to_fast, export_onnx
    from rtmo_plugin.deploy.quantize import list_images, quantize_rtmo
    from rtmo_plugin.evaluation.box_keypoint_ap import box_and_keypoint_ap
    from rtmo_plugin.evaluation.coco_results import to_coco_results
    from rtmo_plugin.evaluation.prediction_agreement import instance_agreement

    register_all_modules(init_default_scope=False)
    torch.set_num_threads(args.threads)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    model = load_model(args.config, args.checkpoint, device="cpu")
    onnx_path = export_onnx(convert_to_fast(model, kernels="torch"), work / "float.onnx")
    ann = json.loads(Path(args.ann).read_text())
    images = [(img["id"], cv2.imread(str(Path(args.images) / img["file_name"]))) for img in ann["images"]]
    calib = list_images(args.calib)[:args.num_calib]

    def evaluate(inferencer):
        preds = inferencer([im for _, im in images])
        results = [r for (image_id, _), p in zip(images, preds) for r in to_coco_results(p, image_id, decimals=None)]
        return preds, box_and_keypoint_ap(Path(args.ann), results)

    base = RTMOInferencer(model, mode="openvino", onnx_path=onnx_path, num_threads=args.threads, batch_size=1)
    float_preds, float_ap = evaluate(base)
    report = dict(float32=float_ap, calibration_images=len(calib), variants={})
    print(f"float32 (OpenVINO f32): kpt AP {float_ap['kpt_AP']:.4f}, box AP {float_ap['box_AP']:.4f}, "
          f"{int(float_ap['num_predictions'])} predictions")
    bf16 = RTMOInferencer(model, mode="bf16", onnx_path=onnx_path, num_threads=args.threads, batch_size=1)
    bf16_preds, bf16_ap = evaluate(bf16)
    report["bf16"] = dict(**bf16_ap, **instance_agreement(float_preds, bf16_preds),
                          d_kpt_AP=bf16_ap["kpt_AP"] - float_ap["kpt_AP"])
    print(f"bf16 (OpenVINO bf16): kpt AP {bf16_ap['kpt_AP']:.4f} ({report['bf16']['d_kpt_AP']:+.4f}), "
          f"OKS vs f32 median {report['bf16']['oks_median']:.4f} p5 {report['bf16']['oks_p5']:.4f}", flush=True)
    for name, keep in _variants(args.variants).items():
        start = time.perf_counter()
        path = quantize_rtmo(onnx_path, calib, work / f"int8_{name.replace(':', '_')}.xml", keep_float=keep,
                             subset_size=len(calib), progress=False)
        seconds = time.perf_counter() - start
        int8 = RTMOInferencer(model, mode="int8", int8_path=path, num_threads=args.threads, batch_size=1)
        preds, ap = evaluate(int8)
        agree = instance_agreement(float_preds, preds)
        row = dict(keep_float=list(keep), quantize_seconds=seconds, **ap, **agree,
                   d_kpt_AP=ap["kpt_AP"] - float_ap["kpt_AP"], d_box_AP=ap["box_AP"] - float_ap["box_AP"])
        report["variants"][name] = row
        print(f"{name:24s} kpt AP {ap['kpt_AP']:.4f} ({row['d_kpt_AP']:+.4f}) box AP {ap['box_AP']:.4f} "
              f"({row['d_box_AP']:+.4f}) OKS vs f32 median {agree['oks_median']:.4f} p5 {agree['oks_p5']:.4f} "
              f"|score diff| median {agree['score_abs_diff_median']:.4f} preds {int(ap['num_predictions'])}",
              flush=True)
        if args.out:
            Path(args.out).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
