"""Latency vs number of people (1, 5, 10, 20, 40): one-stage RTMO-s (MMPose reference, ours fast) against two
two-stage pipelines: MMDet RTMDet-tiny + MMPose RTMPose-s on every person crop, and RMPE (RTMO-s boxes, an SSTN at
RTMPose-s scale on every box, pose NMS). Random weights; the people count is imposed (see
experiments/crowd_benchmark.py). Writes a PNG plot.

Example:
    python -m experiments.benchmark_crowd --repeats 5 --out docs/images/crowd_latency.png
"""
import argparse
import platform


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", nargs="+", type=int, default=[1, 5, 10, 20, 40])
    parser.add_argument("--repeats", type=int, default=5, help="timed interleaved rounds per people count")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--out", default="docs/images/crowd_latency.png", help="PNG plot path")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    import numpy as np
    import torch

    from experiments.benchmarking import time_interleaved
    from experiments.crowd_benchmark import (
        build_sstn,
        build_topdown,
        person_cells,
        plot_latency,
        rmpe_runner,
        rtmo_runner,
        topdown_runner,
    )
    from rtmo_plugin.deploy import convert_to_fast
    from rtmo_plugin.testing.reference import build_reference_model

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    detector, pose = build_topdown()
    sstn = build_sstn()
    rtmo = build_reference_model("s").eval()
    fast = convert_to_fast(rtmo)
    size = tuple(rtmo.test_cfg["input_size"])
    stride = rtmo.head.featmap_strides[0]
    grid = (size[1] // stride, size[0] // stride)
    image = np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    inputs = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].float()
    from mmpose.structures import PoseDataSample

    sample = PoseDataSample()
    sample.set_metainfo(dict(input_size=size, input_center=np.array(size, np.float32) / 2,
                             input_scale=np.array(size, np.float32), ori_shape=size[::-1], img_shape=size[::-1]))
    names = ("RTMO-s (MMPose reference)", "RTMO-s (ours, fast)", "top-down: RTMDet-tiny + RTMPose-s",
             "RMPE: RTMO-s boxes + SSTN-s + pose NMS")
    medians = {n: [] for n in names}
    spreads = {n: [] for n in names}
    for count in args.people:
        cells = person_cells(count, grid)
        boxes = np.array([[c * stride - 40, r * stride - 90, c * stride + 40, r * stride + 90]
                          for r, c in cells], np.float32)
        runners = {
            names[0]: rtmo_runner(lambda x: rtmo.predict(x, [sample]), inputs, rtmo.head.head_module.out_cls[0],
                                  rtmo.head.head_module.out_bbox[0], cells),
            names[1]: rtmo_runner(fast, inputs, fast.dense_head.cls_outs[0], fast.dense_head.pose_outs[0], cells),
            names[2]: topdown_runner(detector, pose, image, boxes),
            names[3]: rmpe_runner(sstn, fast, inputs, fast.dense_head.cls_outs[0], fast.dense_head.pose_outs[0],
                                  cells, image, boxes),
        }
        with torch.no_grad():
            with __import__("experiments.crowd_benchmark", fromlist=["ImposedPeople"]).ImposedPeople(
                    fast.dense_head.cls_outs[0], fast.dense_head.pose_outs[0], cells):
                found = int(fast(inputs).scores.shape[0])
        if found != count:
            raise RuntimeError(f"imposing {count} people gave {found} RTMO detections")
        timings = time_interleaved(runners, args.repeats, warmup=1)
        line = [f"{count:3d} people:"]
        for name in names:
            t = timings[name]
            medians[name].append(t.median * 1e3)
            spreads[name].append((t.percentile(25) * 1e3, t.percentile(75) * 1e3))
            line.append(f"{name} {t.median * 1e3:.0f} ms")
        print("  ".join(line), flush=True)
    title = (f"CPU ({platform.machine()}, {args.threads} torch thread), random weights, {size[0]}x{size[1]} image\n"
             f"median of {args.repeats} interleaved runs per people count, band = p25-p75")
    path = plot_latency(args.people, medians, spreads, args.out, title)
    print(f"plot written to {path}")


if __name__ == "__main__":
    main()
