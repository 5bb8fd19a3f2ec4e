"""rtmo-plugin: RTMO (CVPR 2024) and RMPE components registered in MMPose's registries.

Importing this package registers every component; a config does it with
``custom_imports = dict(imports=['rtmo_plugin'], allow_failed_imports=False)``.
"""
# isort: off
from .version import __version__
from .utils import compat  # noqa: F401  (torch>=2.6 checkpoint loading; must come first)
from . import apis, codecs, datasets, deploy, engine, evaluation, models  # noqa: E402
# isort: on

__all__ = ["__version__", "apis", "codecs", "datasets", "deploy", "engine", "evaluation", "models"]
