"""RTMO or RMPE demo: poses on an image, a folder, a video file or a webcam; writes drawings + COCO-style JSON.

Examples:
    python tools/demo.py configs/rtmo-t_8xb32-600e_coco.py --checkpoint work_dirs/demo/latest.pth \
        --input ../shared/data/coco_mini --out-dir outputs/demo --device cpu --batch-size 4

    # RMPE: person boxes (a detection file, `gt` of --ann, or rtmo:CONFIG[:CHECKPOINT]) -> SSTN -> pose NMS
    python tools/demo.py configs/rmpe/sstn_tiny_coco-mini.py --checkpoint sstn.pth \
        --rmpe-boxes ../shared/data/coco_mini/test_coco_det_AP_H_56.json --ann ../shared/data/coco_mini/test_coco.json \
        --input ../shared/data/coco_mini --out-dir outputs/rmpe
"""
import argparse
from pathlib import Path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="model config: RTMO (ours or MMPose's), or with --rmpe-boxes a top-down one")
    parser.add_argument("--checkpoint", help="weights: our checkpoints or the official RTMO .pth files")
    parser.add_argument("--rmpe-boxes", metavar="SPEC",
                        help="run RMPE with these person boxes: DETECTIONS.json | gt | rtmo:CONFIG[:CHECKPOINT]")
    parser.add_argument("--ann", help="COCO annotation file: boxes for 'gt', file names -> ids for a detection file")
    parser.add_argument("--box-jitter", action="store_true", help="jitter 'gt' boxes like a detector (AlphaPose DPG)")
    parser.add_argument("--jitter-seed", type=int, default=0, help="seed of --box-jitter")
    parser.add_argument("--proposals-per-person", type=int, default=1,
                        help="with --box-jitter: jittered boxes per person (a detector's duplicate proposals)")
    parser.add_argument("--box-thr", type=float, default=0.0, help="RMPE: person boxes scoring below are not used")
    parser.add_argument("--proposal-nms", type=float, default=None, metavar="IOU",
                        help="RMPE: box NMS on the proposals at this IoU before pose estimation (default: none; "
                             "the pose NMS removes duplicates)")
    parser.add_argument("--input", required=True, help="image file, image folder, video file or webcam index")
    parser.add_argument("--out-dir", default="outputs/demo", help="where drawings and the JSON go")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    parser.add_argument("--mode", default="fast", choices=["eval", "fast", "onnx", "openvino", "bf16", "int8"],
                        help="inference backend (docs/deploy_cpu.md: which to use where)")
    parser.add_argument("--int8-model", default=None, help="quantised model for --mode int8 (tools/quantize.py)")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime / OpenVINO threads")
    parser.add_argument("--batch-size", type=int, default=4, help="frames per forward pass")
    parser.add_argument("--score-thr", type=float, default=None,
                        help="RTMO instance score threshold, also for rtmo: boxes (default: config)")
    parser.add_argument("--kpt-thr", type=float, default=0.3, help="keypoint score threshold for drawing")
    parser.add_argument("--max-frames", type=int, default=None, help="stop after N frames (videos, webcams)")
    parser.add_argument("--no-vis", action="store_true", help="only write the JSON")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    from rtmo_plugin.apis import FrameSource, RMPEInferencer, RTMOInferencer, box_source_from_spec, run_demo

    source = FrameSource(args.input, max_frames=args.max_frames)
    try:
        if args.rmpe_boxes:
            boxes = box_source_from_spec(args.rmpe_boxes, ann_file=args.ann, jitter=args.box_jitter,
                                         seed=args.jitter_seed, device=args.device, mode=args.mode,
                                         batch_size=args.batch_size, score_thr=args.score_thr,
                                         proposals_per_person=args.proposals_per_person)
            inferencer = RMPEInferencer(boxes, config=args.config, checkpoint=args.checkpoint, device=args.device,
                                        batch_size=args.batch_size, box_score_thr=args.box_thr,
                                        proposal_nms_thr=args.proposal_nms)
        else:
            inferencer = RTMOInferencer(config=args.config, checkpoint=args.checkpoint, device=args.device,
                                        mode=args.mode, batch_size=args.batch_size, score_thr=args.score_thr,
                                        int8_path=args.int8_model, num_threads=args.threads)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        raise SystemExit(f"demo.py: {exc}") from None
    summary = run_demo(inferencer, source, Path(args.out_dir), kpt_thr=args.kpt_thr,
                       progress=not args.no_progress, save_vis=not args.no_vis)
    print(f"{summary['frames']} frames, {summary['instances']} people -> {summary['json']}"
          + (f", drawings in {summary['visualisation']}" if summary["visualisation"] else ""))


if __name__ == "__main__":
    main()
