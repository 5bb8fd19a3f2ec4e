"""Two-process training on CPU (gloo) through rtmo_plugin.engine.launch and the real config machinery.

Started by torchrun (``--launcher pytorch``) and, in a faked slurm job step (the variables srun sets, and an
``scontrol`` on PATH), as two tasks with ``--launcher slurm``. Checks that the ranks agree: the same batch-resize
size at every iteration, the positive count averaged across ranks (the head's normaliser), and identical weights
after every optimizer step, while seeing different images.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from torch.distributed.elastic.utils.distributed import get_free_port

from rtmo_plugin.datasets.synthetic import SyntheticConfig, generate_split

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "configs" / "tiny_synthetic_dist.py"


def make_tiny_synthetic(root: Path, num_train: int = 8, num_val: int = 2) -> Path:
    cfg = SyntheticConfig(image_size=(128, 128), max_people=2, height_range=(0.6, 0.9), occluder_prob=0.0)
    generate_split(root, "train", num_train, seed=0, cfg=cfg, progress=False)
    generate_split(root, "val", num_val, seed=0, cfg=cfg, progress=False)
    return root


def data_options(root: Path) -> list:
    r = str(root) + "/"
    return [f"train_dataloader.dataset.data_root={r}", f"val_dataloader.dataset.data_root={r}",
            f"test_dataloader.dataset.data_root={r}", f"val_evaluator.ann_file={r}annotations/val.json",
            f"test_evaluator.ann_file={r}annotations/val.json"]


def run_env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore",
                PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))


def test_two_cpu_ranks_agree(tmp_path: Path) -> None:
    data = make_tiny_synthetic(tmp_path / "data")
    work = tmp_path / "work"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(get_free_port()), "-m", "rtmo_plugin.engine.launch", str(CONFIG),
           "--launcher", "pytorch", "--work-dir", str(work),
           "--cfg-options", *data_options(data)]
    proc = subprocess.run(cmd, env=run_env(), capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    assert_ranks_agree(work)


def test_two_cpu_ranks_agree_under_slurm(tmp_path: Path) -> None:
    """What ``srun --ntasks 2 python -u -m rtmo_plugin.engine.launch CONFIG --launcher slurm`` starts."""
    data = make_tiny_synthetic(tmp_path / "data")
    work = tmp_path / "work"
    scontrol = tmp_path / "bin" / "scontrol"  # the master is the first host of SLURM_NODELIST
    scontrol.parent.mkdir()
    scontrol.write_text('#!/bin/sh\n[ "$1 $2 $3" = "show hostname cpu-node[1]" ] || exit 1\necho 127.0.0.1\n')
    scontrol.chmod(0o755)
    cmd = [sys.executable, "-u", "-m", "rtmo_plugin.engine.launch", str(CONFIG), "--launcher", "slurm",
           "--work-dir", str(work), "--cfg-options", *data_options(data)]
    env = run_env()
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR"):
        env.pop(key, None)
    env.update(SLURM_NTASKS="2", SLURM_NODELIST="cpu-node[1]", MASTER_PORT=str(get_free_port()),
               PATH=f"{scontrol.parent}{os.pathsep}{env['PATH']}")
    logs = [tmp_path / f"task{r}.log" for r in (0, 1)]  # files, not pipes: a full pipe would stall a rank
    tasks = []
    try:
        for r, log in enumerate(logs):
            with log.open("w") as out:
                tasks.append(subprocess.Popen(cmd, env=dict(env, SLURM_PROCID=str(r), SLURM_LOCALID=str(r)),
                                              cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT))
        for task in tasks:
            task.wait(timeout=600)
    finally:
        for task in tasks:
            if task.poll() is None:
                task.kill()
    for task, log in zip(tasks, logs):
        assert task.returncode == 0, log.read_text()[-5000:]
    assert_ranks_agree(work)


def assert_ranks_agree(work: Path) -> None:
    """The probe records of both ranks (written by the test config's hook) show one training, on different images."""
    ranks = [json.loads((work / f"probe_rank{r}.json").read_text()) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 4  # 2 epochs x 8 images / (2 ranks x batch 2)
    sizes = set()
    for a, b in zip(*ranks):
        assert a["iter"] == b["iter"]
        assert a["input_hw"] == b["input_hw"], f"iteration {a['iter']}: batch resize differs across ranks"
        sizes.add(tuple(a["input_hw"]))
        assert set(a["img_ids"]).isdisjoint(b["img_ids"]), "ranks should see different images"
        # the head's normaliser is the mean of the local positive counts over the ranks
        expected = (a["pos_local"][0] + b["pos_local"][0]) / 2
        assert a["pos_mean"][0] == pytest.approx(expected) and b["pos_mean"][0] == pytest.approx(expected)
        assert a["num_samples"] == pytest.approx(max(expected, 1.0))
        assert a["param_sum"] == pytest.approx(b["param_sum"], rel=1e-12, abs=1e-9)
        assert a["param_abs_sum"] == pytest.approx(b["param_abs_sum"], rel=1e-12)
    assert len(sizes) >= 2, f"batch resize never changed the size: {sizes}"
    assert any(a["pos_local"][0] != b["pos_local"][0] for a, b in zip(*ranks)), \
        "local positive counts never differed, so the averaging was not exercised"
    sums = [row["param_sum"] for row in ranks[0]]
    assert not np.allclose(sums[0], sums[-1], rtol=0, atol=1e-12), "weights did not change"
    assert (work / "epoch_2.pth").is_file()
