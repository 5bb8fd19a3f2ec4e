"""Side-by-side latency measurement of RTMO backends (logic behind ``experiments/benchmark.py``).

All backends get the same weights and the same input tensor in the same process, and are timed *interleaved*:
every round runs each backend once (in a rotating order), so slow phases of a shared machine hit all of them.
Reported per backend: median latency, spread (25th-75th percentile and min-max), throughput (images/s),
ratio to the reference (reference median / backend median; > 1 means faster) and achieved GFLOP/s
(model FLOPs / median latency, FLOPs = 2 x multiply-adds of backbone + neck + dense head convs/matmuls counted
by ``torch.utils.flop_counter``; the DCC runs on a data-dependent number of instances and is not counted).
"""
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence

import numpy as np
import torch


@dataclass
class Timing:
    """Latency samples of one backend (seconds per call)."""

    name: str
    samples: List[float]

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.samples, q))


def time_interleaved(runners: Dict[str, Callable[[], object]], repeats: int, warmup: int = 2) -> Dict[str, Timing]:
    """Time callables in interleaved rounds.

    Args:
        runners (dict[str, Callable]): name -> zero-argument callable running one batch.
        repeats (int): timed rounds.
        warmup (int): untimed rounds first (allocator, oneDNN kernel selection, onnxruntime arenas).

    Returns:
        dict[str, Timing]: per name, ``repeats`` samples.
    """
    names = list(runners)
    for _ in range(warmup):
        for name in names:
            runners[name]()
    timings = {name: Timing(name, []) for name in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]  # rotate who goes first
        for name in order:
            start = time.perf_counter()
            runners[name]()
            timings[name].samples.append(time.perf_counter() - start)
    return timings


@torch.no_grad()
def dense_flops(model: torch.nn.Module, inputs: torch.Tensor) -> float:
    """FLOPs (2 x MACs) of backbone + neck + dense head for ``inputs`` (see module docstring)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        model.head.forward(model.extract_feat(inputs))
    return float(counter.get_total_flops())


def format_table(rows: Sequence[Dict], reference: str) -> str:
    """Markdown table of timing rows (keys: setting, backend, timing, batch, flops)."""
    lines = ["| setting | backend | median ms | p25-p75 ms | min-max ms | img/s | x reference | GFLOP/s |",
             "|---|---|---|---|---|---|---|---|"]
    ref_median = {row["setting"]: row["timing"].median for row in rows if row["backend"] == reference}
    for row in rows:
        t: Timing = row["timing"]
        ratio = ref_median[row["setting"]] / t.median
        lines.append(
            f"| {row['setting']} | {row['backend']} | {t.median * 1e3:.1f} | {t.percentile(25) * 1e3:.1f}-"
            f"{t.percentile(75) * 1e3:.1f} | {min(t.samples) * 1e3:.1f}-{max(t.samples) * 1e3:.1f} | "
            f"{row['batch'] / t.median:.2f} | {ratio:.2f} | {row['flops'] / t.median / 1e9:.1f} |")
    return "\n".join(lines)
