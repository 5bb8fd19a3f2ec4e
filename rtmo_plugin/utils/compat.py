"""Make mmengine checkpoints load under torch >= 2.6 without ``weights_only=False``.

torch 2.6 changed ``torch.load``'s default to ``weights_only=True``. mmengine 0.10.7 calls ``torch.load`` without
the argument, and its checkpoints hold more than tensors:

* numpy arrays, dtypes and scalars (dataset metainfo such as OKS sigmas, logged values);
* ``HistoryBuffer`` objects in the message hub (needed by ``--resume``), which pickle their statistics methods as
  ``getattr(HistoryBuffer, 'mean')`` references.

Instead of switching the safe loader off, we allow-list those data types globally, and ``builtins.getattr`` only
while one of mmengine's checkpoint loaders runs (``getattr`` results cannot be called by the safe unpickler unless
they are themselves allow-listed). Importing :mod:`rtmo_plugin` (as ``custom_imports`` does) applies this once.
"""
import builtins
import functools
from typing import Any, Callable, List

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

    A no-op on torch versions without ``torch.serialization.add_safe_globals`` (there the default is
    ``weights_only=False`` anyway).
    """
    if not hasattr(torch.serialization, "add_safe_globals"):  # pragma: no cover - torch < 2.4
        return
    from mmengine.logging.history_buffer import HistoryBuffer
    from mmengine.runner.checkpoint import CheckpointLoader

    torch.serialization.add_safe_globals(_numpy_globals() + [HistoryBuffer])
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        CheckpointLoader._schemes[prefix] = _with_method_references(loader)


allow_mmengine_checkpoints()
