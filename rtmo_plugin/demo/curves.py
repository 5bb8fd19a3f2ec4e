"""Training curves of the demo: losses and validation AP against iterations (matplotlib, no display needed)."""
from pathlib import Path
from typing import Dict, List, Tuple


def with_final_evaluation(ap_steps: List[int], aps: Dict[str, List[float]], final_step: int,
                          final_aps: Dict[str, float]) -> Tuple[List[int], Dict[str, List[float]]]:
    """The validation curve with the run's final evaluation as its last point.

    When a wall-clock budget stops training between two validations, the last validation is older than the
    final weights; this appends the final evaluation at ``final_step`` (unless a validation already ran there).

    Args:
        ap_steps: iteration of every validation during training.
        aps: name -> values (same length as ``ap_steps``).
        final_step: iteration of the final weights.
        final_aps: name -> the final evaluation's value, for every name in ``aps``.

    Returns:
        tuple: the new steps and values (the inputs are not modified).

    Raises:
        KeyError: when ``final_aps`` lacks one of the curve's names.
    """
    steps = list(ap_steps)
    curves = {name: list(values) for name, values in aps.items()} if steps else {name: [] for name in final_aps}
    if steps and steps[-1] >= final_step:
        return steps, curves
    missing = sorted(set(curves) - set(final_aps))
    if missing:
        raise KeyError(f"with_final_evaluation: the final evaluation has no value for {missing}")
    steps.append(final_step)
    for name in curves:
        curves[name].append(float(final_aps[name]))
    return steps, curves


def plot_curves(loss_steps: List[int], losses: Dict[str, List[float]], ap_steps: List[int],
                aps: Dict[str, List[float]], out_file: Path, title: str = "",
                val_title: str = "validation AP (synthetic val split)") -> None:
    """Training losses (left) and validation AP (right) against the iteration, saved as a PNG.

    Args:
        loss_steps: iteration of every loss sample.
        losses: name -> values (same length as ``loss_steps``).
        ap_steps: iteration of every evaluation.
        aps: name -> values (same length as ``ap_steps``).
        out_file: PNG path.
        title: figure title.
        val_title: title of the AP panel.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_l, ax_r) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=90)
    for name, values in losses.items():
        ax_l.plot(loss_steps, values, label=name, linewidth=1)
    ax_l.set_xlabel("iteration")
    ax_l.set_ylabel("loss")
    ax_l.set_title("training loss")
    ax_l.legend(fontsize=7)
    for name, values in aps.items():
        ax_r.plot(ap_steps, values, marker="o", label=name)
    ax_r.set_xlabel("iteration")
    ax_r.set_ylim(0, 1)
    ax_r.set_title(val_title)
    ax_r.grid(alpha=0.3)
    ax_r.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    Path(out_file).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(str(out_file))
    plt.close(fig)
