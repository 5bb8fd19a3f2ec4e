"""Latency of RTMO backends, side by side: (a) MMPose's reference RTMO, (b) ours in eval mode, (c) ours in fast
mode, (d) our ONNX graph in onnxruntime, (e) the same graph in OpenVINO at float32, (f) its NNCF INT8 model
(default mixed precision, calibrated on the coco_mini photos), and with ``--bf16`` (g) OpenVINO with bf16 float
layers and (h) INT8 with bf16 for its float layers. Same weights, same inputs, same process, interleaved rounds.

Weights: random, with the head's output layers rescaled so the models detect people (``make_detecting``), or
``--checkpoint`` (ours or official; loaded into both). Inputs: the coco_mini photos letterboxed to the model input
(repeated to fill the batch), uniform noise when the shared data is absent.

Example:
    python -m experiments.benchmark --repeats 15 --threads 1
"""
import argparse
import platform
import tempfile
from pathlib import Path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=["t", "s"], help="RTMO variants (t@416, s/m/l@640)")
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8], help="batch sizes")
    parser.add_argument("--repeats", type=int, default=15, help="timed interleaved rounds per setting")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds per setting")
    parser.add_argument("--threads", type=int, default=1,
                        help="intra-op threads for torch and onnxruntime (1: on a shared CPU, multi-threaded torch "
                             "timings collapse under contention)")
    parser.add_argument("--checkpoint", default=None, help="weights for every variant given (else random)")
    parser.add_argument("--device", default="cpu", help="cpu | cuda (cuda: reference/eval/fast only)")
    parser.add_argument("--fp16", action="store_true",
                        help="cuda only: float16 autocast for the torch backends (weights stay float32; autocast is "
                             "what mmengine's AmpOptimWrapper uses, and the reference's encoder builds float32 "
                             "position embeddings, so a plain .half() model does not run)")
    parser.add_argument("--dense-only", action="store_true",
                        help="add a row for the reference's dense forward alone (backbone, neck, head convolutions; "
                             "no decoding, no NMS): the latency left if all of its post-processing were free")
    parser.add_argument("--no-openvino", action="store_true", help="skip the OpenVINO rows (e, f, g, h)")
    parser.add_argument("--bf16", action="store_true",
                        help="add OpenVINO rows with bf16 float layers (CPUs with AMX or AVX-512 BF16)")
    parser.add_argument("--markdown", default=None, help="also write the table to this file")
    return parser.parse_args()


def _inputs(size, batch):
    import numpy as np
    import torch

    from rtmo_plugin.apis import letterbox
    from rtmo_plugin.utils import shared_data_dir

    files = sorted((shared_data_dir() / "coco_mini").glob("*.jpg"))
    if not files:
        return torch.rand(batch, 3, size[1], size[0], generator=torch.Generator().manual_seed(0)) * 255
    import cv2

    canvases = [letterbox(cv2.imread(str(f)), size)[0] for f in files]
    stack = np.stack([canvases[i % len(canvases)] for i in range(batch)]).transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(stack)).float()


def cpu_description() -> str:
    """CPU model, its low-precision vector flags and the load average (for the table header)."""
    import os

    model, flags = "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model == "unknown CPU":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return (f"{model}, {os.cpu_count()} cores, flags: {' '.join(f for f in wanted if f in flags) or 'none'}, "
            f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def _openvino_runners(onnx_path: Path, work: Path, threads: int, bf16: bool) -> dict:
    """Compiled OpenVINO models by row name: float32, INT8 (quantised here on the coco_mini photos), bf16."""
    from rtmo_plugin.deploy.openvino_runtime import execution_precision, openvino_compile
    from rtmo_plugin.deploy.quantize import list_images, quantize_rtmo
    from rtmo_plugin.utils import shared_data_dir

    compiled = {"(e) ours openvino f32": openvino_compile(onnx_path, threads, "f32")}
    calib = shared_data_dir() / "coco_mini"
    if calib.is_dir():
        int8 = quantize_rtmo(onnx_path, list_images([calib]), work / f"{onnx_path.stem}_int8.xml", progress=False)
        compiled["(f) ours int8 (openvino)"] = openvino_compile(int8, threads, "f32")
        if bf16:
            compiled["(h) ours int8 + bf16 (openvino)"] = openvino_compile(int8, threads, "bf16")
    if bf16:
        compiled["(g) ours openvino bf16"] = openvino_compile(onnx_path, threads, "bf16")
    for name, model in compiled.items():
        print(f"{name}: float layers run in {execution_precision(model)}")
    return compiled


def main() -> None:
    args = parse_args()
    if args.fp16 and args.device == "cpu":
        raise SystemExit("benchmark.py: --fp16 needs --device cuda (CPU autocast would time a different kernel mix)")
    import numpy as np
    import torch
    from mmpose.structures import PoseDataSample

    from experiments.benchmarking import dense_flops, format_table, time_interleaved
    from rtmo_plugin.apis import load_checkpoint
    from rtmo_plugin.deploy import convert_to_fast, export_onnx, make_detecting, onnx_session, run_onnx
    from rtmo_plugin.deploy.openvino_runtime import run_openvino
    from rtmo_plugin.testing.reference import build_plugin_model, build_reference_model

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rows = []
    tmp = tempfile.TemporaryDirectory(prefix="rtmo_bench_")
    for variant in args.variants:
        torch.manual_seed(0)
        ours = build_plugin_model(variant).eval()
        size = tuple(ours.test_cfg["input_size"])
        if args.checkpoint:
            load_checkpoint(ours, args.checkpoint)
        else:
            make_detecting(ours, size, seed=0, positive_fraction=0.02)
        ref = build_reference_model(variant).eval()
        ref.load_state_dict(ours.state_dict(), strict=True)
        fast = convert_to_fast(ours, kernels="auto" if device.type == "cpu" else "torch")
        onnx_path = export_onnx(convert_to_fast(ours, kernels="torch"), Path(tmp.name) / f"rtmo_{variant}.onnx")
        session = onnx_session(onnx_path, num_threads=args.threads) if device.type == "cpu" else None
        openvino_models = {} if device.type != "cpu" or args.no_openvino else _openvino_runners(
            onnx_path, Path(tmp.name), args.threads, args.bf16)
        autocast = torch.autocast(device.type, dtype=torch.float16, enabled=args.fp16)
        for model in (ours, ref, fast):
            model.to(device=device)
        for batch in args.batches:
            inputs = _inputs(size, batch)
            flops = dense_flops(ours.cpu(), inputs)  # FLOPs counted on the CPU
            ours.to(device=device)
            x = inputs.to(device=device)
            meta = dict(input_size=size, input_center=np.array(size, np.float32) / 2,
                        input_scale=np.array(size, np.float32),
                        ori_shape=size[::-1], img_shape=size[::-1])
            samples = []
            for _ in range(batch):
                sample = PoseDataSample()
                sample.set_metainfo(meta)
                samples.append(sample)

            def sync():
                if device.type == "cuda":
                    torch.cuda.synchronize()

            def predict(model):
                def run():
                    with torch.no_grad(), autocast:
                        model.predict(x, samples)
                    sync()
                return run

            def run_fast():
                with torch.no_grad(), autocast:
                    fast(x)
                sync()

            def run_reference_dense():
                with torch.no_grad(), autocast:
                    ref.head.forward(ref.extract_feat(x))
                sync()

            runners = {"(a) mmpose reference": predict(ref), "(b) ours eval": predict(ours),
                       "(c) ours fast": run_fast}
            if args.dense_only:
                runners["(a') reference, dense forward only"] = run_reference_dense
            if session is not None:
                batch_np = inputs.numpy()
                runners["(d) ours onnxruntime"] = lambda: run_onnx(session, batch_np)
                for name, compiled in openvino_models.items():
                    runners[name] = lambda compiled=compiled: run_openvino(compiled, batch_np)
            with torch.no_grad(), autocast:
                n_people = int(fast(x).scores.shape[0])
            timings = time_interleaved(runners, args.repeats, args.warmup)
            setting = f"RTMO-{variant}@{size[0]} b{batch}"
            print(f"{setting}: {n_people} people detected in the batch; {flops / 1e9:.2f} GFLOP per batch")
            for name, timing in timings.items():
                rows.append(dict(setting=setting, backend=name, timing=timing, batch=batch, flops=flops))
    table = format_table(rows, "(a) mmpose reference")
    header = (f"machine: {platform.processor() or platform.machine()}; {cpu_description()}; "
              f"{torch.get_num_threads()} threads (torch, onnxruntime, OpenVINO), "
              f"torch {torch.__version__}, device {args.device}{' fp16' if args.fp16 else ''}, "
              f"{args.repeats} interleaved rounds")
    print(header)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(header + "\n\n" + table + "\n")


if __name__ == "__main__":
    main()
