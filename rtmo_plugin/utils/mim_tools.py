"""Entry points behind ``mim train rtmo_plugin CONFIG`` / ``mim test rtmo_plugin CONFIG``.

OpenMMLab's ``mim`` runs ``<package>/.mim/tools/{train,test}.py`` and looks configs up in
``<package>/.mim/configs``. The wheel carries both (``setup.py`` copies ``configs/`` there and
writes two two-line scripts that call :func:`run_mmpose_tool`): training and testing are MMPose's
own scripts, and the configs bring the plugin in with ``custom_imports``.
"""

import runpy
import sys
from pathlib import Path

TOOLS = ("train", "test")


def mmpose_tool(name: str) -> Path:
    """Path of MMPose's ``tools/<name>.py`` as installed with mmpose (``mmpose/.mim/tools``).

    Args:
        name (str): ``'train'`` or ``'test'``.

    Returns:
        Path: the script.

    Raises:
        ValueError: ``name`` is not one of :data:`TOOLS`.
        FileNotFoundError: this mmpose installation carries no such script.
    """
    if name not in TOOLS:
        raise ValueError(f"tool must be one of {TOOLS}, got {name!r}")
    import mmpose

    script = Path(mmpose.__file__).parent / ".mim" / "tools" / f"{name}.py"
    if not script.is_file():
        raise FileNotFoundError(
            f"mmpose has no {script}: install mmpose from its wheel (pip install mmpose)"
        )
    return script


def run_mmpose_tool(name: str) -> None:
    """Run MMPose's ``tools/<name>.py`` as ``__main__`` with this process's command-line arguments.

    Args:
        name (str): ``'train'`` or ``'test'``.
    """
    script = mmpose_tool(name)
    sys.argv[0] = str(script)
    runpy.run_path(str(script), run_name="__main__")
