"""DDP computes the single-process gradient: two CPU ranks fed the same batch give the gradient of one process.

With identical batches on both ranks, the head's normalisers averaged across ranks (positive counts) and DDP's
gradient averaging must cancel out exactly, so every parameter's gradient equals the one-process gradient of that
batch up to float rounding, and the same parameters are left without a gradient. A rank-dependent normaliser or a
loss summed instead of averaged across ranks would be off by a factor of 2. (A full demo trained on two ranks learns
worse than on one, docs/demo_recipe.md, point 12; this test is what rules out the arithmetic as the cause.)
"""
import os
import pickle
from pathlib import Path
from typing import Any, Dict

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.distributed.elastic.utils.distributed import get_free_port

from rtmo_plugin.datasets.synthetic import SyntheticConfig, generate_split
from rtmo_plugin.demo.run_demo import build_config
from rtmo_plugin.utils.compat import destroy_process_group


def _config(data: Path) -> Any:
    return build_config(data, data / "work")


def _model(cfg: Any, state_file: Path) -> torch.nn.Module:
    from mmpose.registry import MODELS

    model = MODELS.build(cfg.model)
    model.load_state_dict(torch.load(state_file))
    return model.train()


def _gradients(model: torch.nn.Module, wrapped: torch.nn.Module, data: Dict[str, Any]) -> Dict[str, Any]:
    """Loss terms and per-parameter gradients of one backward pass of ``wrapped`` (the model or its DDP wrapper)."""
    inputs = model.data_preprocessor(data, True)
    losses = wrapped(**inputs, mode="loss")
    sum(v.mean() for k, v in losses.items() if k.startswith("loss")).backward()
    return dict(losses={k: float(v.mean()) for k, v in losses.items()},
                grads={k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None})


def _rank(rank: int, port: int, work: str) -> None:
    from mmengine.model import MMDistributedDataParallel
    from mmengine.registry import init_default_scope
    from mmpose.utils import register_all_modules

    import rtmo_plugin  # noqa: F401

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    register_all_modules(init_default_scope=False)
    init_default_scope("mmpose")
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        cfg = _config(Path(work) / "data")
        model = _model(cfg, Path(work) / "init.pth")
        ddp = MMDistributedDataParallel(module=model, device_ids=None, broadcast_buffers=False,
                                        find_unused_parameters=True)
        data = pickle.loads((Path(work) / "batch.pkl").read_bytes())
        out = _gradients(model, ddp, data)
        if rank == 0:
            torch.save(out, Path(work) / "ddp.pth")
    finally:
        destroy_process_group()  # safe on torch 2.1 too (see compat)


def test_two_ranks_with_the_same_batch_give_the_one_process_gradient(tmp_path: Path) -> None:
    from mmengine.dataset import pseudo_collate
    from mmengine.runner import Runner
    from mmpose.registry import MODELS

    synthetic = SyntheticConfig(image_size=(128, 128), max_people=3, height_range=(0.5, 0.9), occluder_prob=0.0)
    generate_split(tmp_path / "data", "train", 4, seed=0, cfg=synthetic, progress=False)
    cfg = _config(tmp_path / "data")
    dataset = Runner.build_dataloader(cfg.train_dataloader).dataset
    data = pseudo_collate([dataset[i] for i in range(4)])
    (tmp_path / "batch.pkl").write_bytes(pickle.dumps(data))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(model.state_dict(), tmp_path / "init.pth")

    mp.start_processes(_rank, args=(get_free_port(), str(tmp_path)), nprocs=2, start_method="spawn")
    model = _model(cfg, tmp_path / "init.pth")
    single = _gradients(model, model, data)
    ddp = torch.load(tmp_path / "ddp.pth")

    assert ddp["losses"]["num_samples"] == single["losses"]["num_samples"] > 0
    for key, value in single["losses"].items():
        # float32 sums in other orders (1 thread per rank, 2 here): loss_mle differed by 1.07e-5 relative on one
        # machine (2026-11-24); a wrong reduction across ranks would be off by a factor
        assert ddp["losses"][key] == pytest.approx(value, rel=1e-4), key
    assert set(ddp["grads"]) == set(single["grads"])
    checked = 0
    for name, grad in single["grads"].items():
        scale = float(grad.norm())
        if scale < 1e-6:  # biases before a norm layer or a softmax: zero up to rounding, no direction to compare
            continue
        # float32 rounding differs (1 thread per rank, 2 here; other kernel orders): ~1e-4 typical, 1e-3 seen
        assert float((ddp["grads"][name] - grad).norm()) <= 1e-2 * scale, name
        checked += 1
    assert checked > 200
    flat = torch.cat([g.flatten() for g in single["grads"].values()])
    flat_ddp = torch.cat([ddp["grads"][name].flatten() for name in single["grads"]])
    # 1.02e-3 of the norm on one machine (2026-11-24, the loss_mle note above); ranks that did not average would
    # be off by about the whole norm
    assert float((flat_ddp - flat).norm()) <= 3e-3 * float(flat.norm())
