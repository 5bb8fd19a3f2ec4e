"""Images/second of the stage-1 RTMO training pipeline: rtmo_plugin vs. MMPose 1.3.2, same process.

Usage: python -m experiments.benchmark_pipeline [--rounds 6] [--samples 40] [--seed 0]
Data: <shared data>/coco_mini (``$RTMO_SHARED_DATA`` or ../shared/data).
"""
import argparse
import os
import platform
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="measured rounds per pipeline (alternating)")
    parser.add_argument("--samples", type=int, default=40, help="samples per round")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from mmengine.registry import init_default_scope
    from mmpose.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    import rtmo_plugin  # noqa: F401
    from experiments.pipeline_benchmark import benchmark_pipelines
    from rtmo_plugin.utils import shared_data_dir

    init_default_scope("mmpose")
    root = shared_data_dir() / "coco_mini"
    if not (root / "test_coco.json").is_file():
        print(f"coco_mini not found under {root} (set RTMO_SHARED_DATA)", file=sys.stderr)
        return 2
    res = benchmark_pipelines(root, rounds=args.rounds, samples_per_round=args.samples, seed=args.seed)
    print(f"stage-1 pipeline (LoadImage .. PackPoseInputs) on {root}, {int(res['images'])} samples each, "
          f"{platform.processor() or platform.machine()}, 1 process, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    print(f"  rtmo_plugin : {res['ours_ips']:.1f} img/s")
    print(f"  mmpose 1.3.2: {res['reference_ips']:.1f} img/s")
    print(f"  ratio ours/reference = {res['ratio']:.2f}x (per-round {res['ratio_min']:.2f}..{res['ratio_max']:.2f})")
    print(f"  per CPU second of this process: {res['ours_cpu_ips']:.1f} vs {res['reference_cpu_ips']:.1f} img/s, "
          f"ratio {res['cpu_ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
