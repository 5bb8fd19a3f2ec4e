"""Training entry point that also works for multi-process training on CPU-only machines (gloo).

``mim train mmpose CONFIG --launcher pytorch|slurm --gpus N`` goes through mmengine's ``init_dist``, which calls
``torch.cuda.set_device`` and therefore fails without a GPU; mmengine's default DDP wrapper also passes
``device_ids=[LOCAL_RANK]``, which DDP rejects for CPU modules. This module runs the same config machinery (Config,
``--cfg-options``, ``Runner.from_cfg``) and, only when ``--launcher pytorch`` or ``--launcher slurm`` is used on a
machine without CUDA:

* for slurm, reads the rank, the world size and the local rank from the variables ``srun`` sets (``SLURM_PROCID``,
  ``SLURM_NTASKS``, ``SLURM_LOCALID``) and the master's address as mmengine does (``MASTER_ADDR`` if set, else the
  first host of ``scontrol show hostname $SLURM_NODELIST``; ``MASTER_PORT`` if set, else 29500);
* initialises the default process group itself with the gloo backend (mmengine then skips its own ``init_dist``);
* wraps the model with ``MMDistributedDataParallel(device_ids=None)``; a wrapper the config names that is not DDP
  (e.g. ``model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel')``) is left as configured.

On GPU machines nothing is changed, so the behaviour equals ``mim train``. Usage::

    torchrun --nproc_per_node 2 -m rtmo_plugin.engine.launch CONFIG --launcher pytorch [--cfg-options ...]
    srun --ntasks 2 python -u -m rtmo_plugin.engine.launch CONFIG --launcher slurm [--cfg-options ...]
"""
import argparse
import os
import os.path as osp
import subprocess
from typing import Any, Dict, List, Optional

import torch
import torch.distributed as dist

_TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
_SLURM_VARIABLES = ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NODELIST")


def slurm_to_torch_environment(environ: Dict[str, str]) -> Dict[str, str]:
    """The torch.distributed variables for one task of a slurm job step, derived as mmengine's slurm launcher does.

    Args:
        environ: the process environment (``srun`` sets the ``SLURM_*`` variables of each task).

    Returns:
        dict: ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``. An address or port already
        in ``environ`` is kept; otherwise the address is the first host that ``scontrol show hostname`` lists for
        ``SLURM_NODELIST`` and the port 29500.

    Raises:
        RuntimeError: a ``SLURM_*`` variable is missing or not an integer, or scontrol gives no host (names which).
    """
    missing = [k for k in _SLURM_VARIABLES if k not in environ]
    if missing:
        raise RuntimeError(f"--launcher slurm needs the variables srun sets; missing {missing} "
                           "(start with `srun --ntasks N python -u -m rtmo_plugin.engine.launch CONFIG "
                           "--launcher slurm ...`)")
    ranks = {}
    for key in ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"):
        try:
            ranks[key] = int(environ[key])
        except ValueError:
            raise RuntimeError(f"--launcher slurm: {key}={environ[key]!r} is not an integer") from None
    address = environ.get("MASTER_ADDR")
    if not address:
        command = ["scontrol", "show", "hostname", environ["SLURM_NODELIST"]]
        try:
            hosts = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
        except (OSError, subprocess.CalledProcessError) as err:
            raise RuntimeError(f"--launcher slurm: `{' '.join(command)}` failed ({err}); set MASTER_ADDR to the "
                               "first node's address instead") from err
        if not hosts:
            raise RuntimeError(f"--launcher slurm: `{' '.join(command)}` listed no host")
        address = hosts[0]
    return dict(RANK=str(ranks["SLURM_PROCID"]), WORLD_SIZE=str(ranks["SLURM_NTASKS"]),
                LOCAL_RANK=str(ranks["SLURM_LOCALID"]), MASTER_ADDR=address,
                MASTER_PORT=environ.get("MASTER_PORT") or "29500")


def setup_cpu_distributed(cfg: Any, launcher: str) -> bool:
    """Prepare a gloo process group and a CPU DDP wrapper for ``launcher`` 'pytorch' or 'slurm' when CUDA is absent.

    Args:
        cfg: the mmengine Config (modified in place).
        launcher: 'none', 'pytorch', 'slurm' or 'mpi'.

    Returns:
        bool: True if the CPU path was set up.

    Raises:
        RuntimeError: if the torchrun (pytorch) or srun (slurm) environment variables are missing.
    """
    if launcher not in ("pytorch", "slurm") or torch.cuda.is_available():
        return False
    if launcher == "slurm":
        os.environ.update(slurm_to_torch_environment(dict(os.environ)))
    missing = [k for k in _TORCHRUN_VARIABLES if k not in os.environ]
    if missing:
        raise RuntimeError(f"--launcher pytorch needs the torchrun environment; missing {missing} "
                           "(start with `torchrun --nproc_per_node N -m rtmo_plugin.engine.launch ...`)")
    if not dist.is_initialized():
        dist.init_process_group("gloo", rank=int(os.environ["RANK"]), world_size=int(os.environ["WORLD_SIZE"]))
    env_cfg = dict(cfg.get("env_cfg") or {})  # (Config.setdefault returns a copy of a new entry, so set it whole)
    env_cfg["dist_cfg"] = dict(env_cfg.get("dist_cfg") or {}, backend="gloo")
    cfg.env_cfg = env_cfg
    wrapper = dict(cfg.get("model_wrapper_cfg") or {})
    wrapper.setdefault("type", "MMDistributedDataParallel")
    if _is_ddp_wrapper(wrapper["type"]):  # other wrappers take no DDP arguments
        wrapper["device_ids"] = None  # CPU module: DDP requires device_ids=None
        wrapper.setdefault("broadcast_buffers", False)
        wrapper.setdefault("find_unused_parameters", cfg.get("find_unused_parameters", False))
    cfg.model_wrapper_cfg = wrapper
    return True


def _is_ddp_wrapper(wrapper_type: Any) -> bool:
    """Whether a ``model_wrapper_cfg`` type (class or registry name, scoped or not) is a DDP subclass.

    A name that no registry knows counts as DDP, so the runner's own error names it.
    """
    from mmengine.registry import MODEL_WRAPPERS
    from torch.nn.parallel import DistributedDataParallel

    cls = wrapper_type if isinstance(wrapper_type, type) else MODEL_WRAPPERS.get(wrapper_type)
    return cls is None or issubclass(cls, DistributedDataParallel)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Arguments of MMPose's ``tools/train.py`` that the plugin supports."""
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(description="Train a pose model (CPU-distributed capable)")
    parser.add_argument("config", help="train config file path")
    parser.add_argument("--work-dir", help="the dir to save logs and models")
    parser.add_argument("--resume", nargs="?", type=str, const="auto",
                        help="resume from the given checkpoint, or from the latest one in work_dir")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, help="override config settings")
    parser.add_argument("--launcher", choices=["none", "pytorch", "slurm", "mpi"], default="none")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("LOCAL_RANK", str(args.local_rank))
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Build the runner like MMPose's ``tools/train.py`` and train."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get("work_dir") is None:
        cfg.work_dir = osp.join("./work_dirs", osp.splitext(osp.basename(args.config))[0])
    if args.resume == "auto":
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == "__main__":
    main()
