"""rtmo-plugin: RTMO one-stage multi-person pose estimation as an MMPose plugin.

Dependency metadata (see docs/install.md, "Version matrix"):

* torch, torchvision, numpy and mmengine: the range CI tests at both ends (torch 2.1.2 and 2.14.1
  stacks).
* mmcv and mmdet: the ranges MMPose 1.3 itself accepts, so pip never replaces the mmcv/mmdet of a
  working MMPose environment (mmcv ops are compiled against one torch; replacing mmcv or torch
  breaks them). CI tests 2.1.0 / 3.3.0.
* mmpose itself is not declared: its metadata asks for ``chumpy``, which does not install on current
  Python/pip, so declaring it would make ``pip install rtmo-plugin`` fail in every environment where
  mmpose was installed with ``--no-deps`` (the usual way). The plugin imports mmpose and needs 1.3.x
  (CI tests 1.3.2).

The exact pins of the two verified stacks are in requirements/constraints*.txt
(``make setup`` / ``make setup-compat``).
"""

import re
import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent
VERSION = re.search(
    r'__version__ = "([^"]+)"', (HERE / "rtmo_plugin" / "version.py").read_text()
).group(1)

#: ``mim train rtmo_plugin CONFIG`` runs ``rtmo_plugin/.mim/tools/train.py`` (likewise ``test``).
MIM_TOOL = '''"""`mim {name} rtmo_plugin CONFIG` runs MMPose's tools/{name}.py."""
from rtmo_plugin.utils.mim_tools import run_mmpose_tool

run_mmpose_tool("{name}")
'''


class BuildWithMimFiles(build_py):
    """``build_py`` that also puts the configs and the mim tool scripts in ``rtmo_plugin/.mim``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install uses the configs/ folder of the checkout
        mim_dir = Path(self.build_lib) / "rtmo_plugin" / ".mim"
        if mim_dir.exists():
            shutil.rmtree(mim_dir)
        shutil.copytree(
            HERE / "configs",
            mim_dir / "configs",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        (mim_dir / "tools").mkdir(parents=True)
        for name in ("train", "test"):
            (mim_dir / "tools" / f"{name}.py").write_text(MIM_TOOL.format(name=name))


setup(
    name="rtmo-plugin",
    version=VERSION,
    description="RTMO (CVPR 2024) and RMPE components for MMPose, as a plugin",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    packages=find_packages(include=["rtmo_plugin", "rtmo_plugin.*"]),
    cmdclass={"build_py": BuildWithMimFiles},
    python_requires=">=3.11,<3.12",
    install_requires=[
        "torch>=2.1,<2.15",
        "torchvision>=0.16,<0.30",
        "numpy>=1.26,<2",
        "mmengine>=0.10.7,<0.11",
        "mmcv>=2.0.0rc4,<2.2.0",
        "mmdet>=3.0.0,<3.4",
        "opencv-python<5",
        "xtcocotools>=1.12",
        "scipy",
        "tqdm",
        "matplotlib",
    ],
    extras_require={
        "tests": ["pytest>=8", "hypothesis>=6.100", "onnx", "onnxruntime"],
        # RTMOInferencer modes 'openvino', 'bf16' and 'int8' (nncf needs torch >= 2.3)
        "deploy": ["onnx", "openvino>=2025", "nncf>=3.4"],
    },
)
