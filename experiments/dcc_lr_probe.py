"""Train RTMO's DCC alone on ideal inputs at several learning rates (why the DCC collapses from scratch).
Logic: experiments.dcc_probe. Example: `python -m experiments.dcc_lr_probe --lrs 4e-3 4e-4`."""
import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    from mmpose.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    import rtmo_plugin  # noqa: F401
    from experiments.dcc_probe import make_inputs, train_dcc

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lrs", type=float, nargs="+", default=[4e-3, 4e-4])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    inputs = make_inputs()
    print(f"{'lr':>8} {'step':>5} {'loss':>8} {'err px':>7} {'x entropy':>9} {'sigma':>6}")
    for lr in args.lrs:
        for r in train_dcc(lr, args.steps, inputs=inputs):
            print(f"{lr:>8.0e} {r['step']:>5} {r['loss']:>8.3f} {r['error_px']:>7.1f} {r['x_entropy']:>9.2f} "
                  f"{r['sigma']:>6.3f}")


if __name__ == "__main__":
    main()
