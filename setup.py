"""rtmo-plugin: RTMO one-stage multi-person pose estimation as an MMPose plugin."""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"',
                    (HERE / "rtmo_plugin" / "version.py").read_text()).group(1)

setup(
    name="rtmo-plugin",
    version=VERSION,
    description="RTMO (CVPR 2024) and RMPE components for MMPose, as a plugin",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    packages=find_packages(include=["rtmo_plugin", "rtmo_plugin.*"]),
    python_requires=">=3.11,<3.12",
    # The ranges that were verified to work together (see README "Version matrix").
    install_requires=[
        "torch>=2.14,<2.15",
        "torchvision>=0.29,<0.30",
        "numpy>=1.26,<2",
        "opencv-python<5",
        "mmengine>=0.10.7,<0.11",
        "mmcv>=2.1.0,<2.2.0",
        "mmdet>=3.3.0,<3.4",
        "mmpose>=1.3.2,<1.4",
        "xtcocotools>=1.14.3,<1.15",
        "scipy",
        "tqdm",
        "matplotlib",
    ],
    extras_require={"tests": ["pytest>=8", "hypothesis>=6.100", "onnx", "onnxruntime"]},
)
