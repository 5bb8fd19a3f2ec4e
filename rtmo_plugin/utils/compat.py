"""Make mmengine checkpoints load under torch >= 2.6 without ``weights_only=False``.

torch 2.6 changed ``torch.load``'s default to ``weights_only=True``. mmengine 0.10.7 calls ``torch.load`` without
the argument, and its checkpoints hold more than tensors:

* numpy arrays, dtypes and scalars (dataset metainfo such as OKS sigmas, logged values);
* ``HistoryBuffer`` objects in the message hub (needed by ``--resume``), which pickle their statistics methods as
  ``getattr(HistoryBuffer, 'mean')`` references.

Instead of switching the safe loader off, we allow-list those data types globally, and ``builtins.getattr`` only
while one of mmengine's checkpoint loaders runs (``getattr`` results cannot be called by the safe unpickler unless
they are themselves allow-listed). Importing :mod:`rtmo_plugin` (as ``custom_imports`` does) applies this once.

The module also holds the other switches the plugin needs to run unchanged from torch 2.1 to
2.14 (both ends are tested in CI):

* :func:`fused_optimizer_supported`: torch < 2.4 fuses AdamW only on CUDA; on the CPU a
  ``fused=True`` config falls back to ``foreach`` (see ``MergedGroupsOptimWrapperConstructor``);
* :func:`onnx_export_kwargs`: ``torch.onnx.export`` gained (and later defaulted) the ``dynamo``
  switch; older torch only has the TorchScript exporter and refuses the keyword;
* :func:`destroy_process_group`: torch 2.1's gloo backend can hang in
  ``torch.distributed.destroy_process_group`` at the end of a two-rank CPU run; there the ranks
  meet at a barrier and leave the group to the process exit.

This file imports nothing from the package: tests load it on its own (``tests/test_robustness``).
"""
import builtins
import functools
import inspect
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import torch

_PATCHED_FLAG = "_rtmo_plugin_safe_globals"


def _numpy_globals() -> List[Any]:
    """Numpy constructors that appear in pickled arrays, dtypes and scalars."""
    try:  # numpy 1.x keeps them in numpy.core, numpy 2.x in numpy._core
        from numpy.core import multiarray
    except ImportError:  # pragma: no cover - numpy 2
        from numpy._core import multiarray  # type: ignore[no-redef]
    found: List[Any] = [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    dtype_classes = [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith("DType")]
    return found + [cls for cls in dtype_classes if isinstance(cls, type)]


def _with_method_references(loader: Callable) -> Callable:
    """Wrap an mmengine checkpoint loader so ``getattr`` method references unpickle during the call."""
    if getattr(loader, _PATCHED_FLAG, False):
        return loader

    @functools.wraps(loader)
    def load(filename: str, map_location: Any = None, *args: Any, **kwargs: Any) -> Any:
        with torch.serialization.safe_globals([builtins.getattr]):
            return loader(filename, map_location, *args, **kwargs)

    setattr(load, _PATCHED_FLAG, True)
    return load


def allow_mmengine_checkpoints() -> None:
    """Let ``torch.load(weights_only=True)`` read mmengine checkpoints. Idempotent.

    A no-op on torch without ``torch.serialization.add_safe_globals`` and ``safe_globals``
    (torch < 2.5; there the default is ``weights_only=False`` anyway).
    """
    serialization = torch.serialization
    if not (hasattr(serialization, "add_safe_globals") and hasattr(serialization, "safe_globals")):
        return  # torch < 2.5 (torch < 2.6 loads with weights_only=False by default)
    from mmengine.logging.history_buffer import HistoryBuffer
    from mmengine.runner.checkpoint import CheckpointLoader

    torch.serialization.add_safe_globals(_numpy_globals() + [HistoryBuffer])
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        CheckpointLoader._schemes[prefix] = _with_method_references(loader)



def torch_version() -> Tuple[int, int]:
    """The installed torch's ``(major, minor)``, e.g. ``(2, 1)`` for ``2.1.2+cu121``."""
    major, minor = torch.__version__.split("+")[0].split(".")[:2]
    return int(major), int(minor)


@functools.lru_cache(maxsize=None)
def fused_optimizer_supported(optimizer: type, device_type: str) -> bool:
    """Whether ``optimizer(params, fused=True)`` accepts float32 parameters on ``device_type``.

    Tried on a one-element tensor (cached per optimiser class and device type): torch 2.1 fuses
    Adam/AdamW only on CUDA, torch >= 2.4 also on the CPU.

    Args:
        optimizer (type): a ``torch.optim.Optimizer`` subclass, e.g. ``torch.optim.AdamW``.
        device_type (str): ``'cpu'``, ``'cuda'``, ...

    Returns:
        bool: False when the constructor refuses ``fused=True`` there (or has no such argument).
    """
    probe = torch.zeros(1, device=device_type, requires_grad=True)
    try:
        optimizer([probe], fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def onnx_export_kwargs() -> Dict[str, Any]:
    """Keywords that select the TorchScript-based exporter in ``torch.onnx.export`` on this torch.

    Returns:
        dict: ``{'dynamo': False}`` where the exporter has that switch (torch >= 2.5), else ``{}``
        (older torch only has the TorchScript exporter).
    """
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        return {"dynamo": False}
    return {}


def destroy_process_group() -> None:
    """Leave the default process group at the end of a rank's process, on every torch.

    All ranks meet at a barrier; then torch >= 2.2 destroys the group. On torch 2.1,
    ``destroy_process_group`` with gloo hung in about half of the two-rank CPU test runs (in one
    rank, while the other had already left), with or without the barrier; there the group is left
    to the process exit, which never hung. A no-op outside a process group. Call it where every
    rank ends (e.g. in a ``finally`` block); the process is not meant to start another group.
    """
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return
    dist.barrier()
    if torch_version() < (2, 2):
        return  # torch 2.1: the gloo teardown races with the other rank's exit; the exit frees it
    dist.destroy_process_group()


allow_mmengine_checkpoints()
