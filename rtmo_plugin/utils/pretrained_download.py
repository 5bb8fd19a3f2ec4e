"""A clear error when pretrained weights named by an ``init_cfg`` cannot be downloaded.

The shipped configs (as MMPose's) initialise the backbone from a URL::

    model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='https://...')))

Without network access, ``mim train`` used to end in a urllib traceback deep inside mmengine.
With the plugin imported (``custom_imports``), mmengine's ``Pretrained`` initialiser raises
:class:`PretrainedDownloadError` instead, naming the URL, the config key that asked for it
(``model.backbone.init_cfg``) and the two ways on: a local copy of the file, or training that part
from scratch.

The config key is found by recording the dotted module names during the top-level
``init_weights`` call (the runner calls it on the whole model), so it is right for any module
with a ``Pretrained`` ``init_cfg``.
"""
import functools
from typing import Any, Callable, Dict, Optional

from mmengine.model import BaseModule
from mmengine.model.weight_init import PretrainedInit
from torch import nn

_PATCHED_FLAG = "_rtmo_plugin_download_hint"
_URL_PREFIXES = ("http://", "https://")

#: ``id(module) -> dotted name`` of every submodule, while a top-level ``init_weights`` runs.
_module_names: Dict[int, str] = {}


class PretrainedDownloadError(RuntimeError):
    """Pretrained weights given by URL in an ``init_cfg`` could not be downloaded.

    Args:
        url (str): the checkpoint URL.
        config_key (str): where the config sets it, e.g. ``'model.backbone.init_cfg'``.
        reason (BaseException): the download error.
    """

    def __init__(self, url: str, config_key: str, reason: BaseException) -> None:
        self.url = url
        self.config_key = config_key
        self.reason = reason
        super().__init__(download_failure_message(url, config_key, reason))


def download_failure_message(url: str, config_key: str, reason: BaseException) -> str:
    """The text of :class:`PretrainedDownloadError`.

    Args:
        url (str): the checkpoint URL.
        config_key (str): the config key holding the ``init_cfg``.
        reason (BaseException): the download error.

    Returns:
        str: what failed and the two ways on, as ``--cfg-options`` a user can paste.
    """
    file_name = url.rstrip("/").rsplit("/", 1)[-1] or "weights.pth"
    return (f"could not download the pretrained weights that {config_key} asks for:\n"
            f"    {url}\n"
            f"    ({type(reason).__name__}: {reason})\n"
            "This machine is offline or cannot reach that address. Two ways on:\n"
            "  1. download the file where there is network access, copy it here and point the\n"
            "     config at it:\n"
            f"       --cfg-options {config_key}.checkpoint=/path/to/{file_name}\n"
            "  2. train this part from scratch (random initialisation, no pretrained weights):\n"
            f"       --cfg-options {config_key}=None")


def _config_key(module: nn.Module) -> str:
    """``model.<dotted name>.init_cfg`` of ``module`` (names recorded by the top-level call)."""
    name = _module_names.get(id(module))
    if name is None:
        return (f"the init_cfg of {type(module).__name__} "
                "(model.backbone.init_cfg in the plugin's configs)")
    return f"model.{name}.init_cfg" if name else "model.init_cfg"


def _recording_names(init_weights: Callable) -> Callable:
    """Wrap ``BaseModule.init_weights``: the outermost call records every submodule's name."""
    if getattr(init_weights, _PATCHED_FLAG, False):
        return init_weights

    @functools.wraps(init_weights)
    def wrapped(self: nn.Module, *args: Any, **kwargs: Any) -> Any:
        if _module_names:  # a nested call: the outermost one has recorded the names
            return init_weights(self, *args, **kwargs)
        _module_names.update({id(module): name for name, module in self.named_modules()})
        try:
            return init_weights(self, *args, **kwargs)
        finally:
            _module_names.clear()

    setattr(wrapped, _PATCHED_FLAG, True)
    return wrapped


def _explaining_failures(call: Callable) -> Callable:
    """Wrap ``PretrainedInit.__call__``: a failed URL download raises PretrainedDownloadError."""
    if getattr(call, _PATCHED_FLAG, False):
        return call

    @functools.wraps(call)
    def wrapped(self: PretrainedInit, module: nn.Module) -> Any:
        url: Optional[str] = self.checkpoint if isinstance(self.checkpoint, str) else None
        if url is None or not url.startswith(_URL_PREFIXES):
            return call(self, module)
        try:
            return call(self, module)
        except OSError as err:  # URLError, HTTPError, refused connections, timeouts: all OSErrors
            raise PretrainedDownloadError(url, _config_key(module), err) from err

    setattr(wrapped, _PATCHED_FLAG, True)
    return wrapped


def explain_download_failures() -> None:
    """Install the clear error for failed ``Pretrained`` downloads in mmengine. Idempotent."""
    BaseModule.init_weights = _recording_names(BaseModule.init_weights)
    PretrainedInit.__call__ = _explaining_failures(PretrainedInit.__call__)
