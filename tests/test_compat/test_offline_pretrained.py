"""Offline first run: a pretrained ``init_cfg`` URL that cannot be downloaded gives a clear error.

The URL points at a local port nobody listens on (refused at once; no network, nothing cached).
"""
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.model import BaseModule
from torch import nn

from rtmo_plugin.utils.pretrained_download import PretrainedDownloadError

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "rtmo-t_8xb32-600e_coco.py"
PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
KEY = "model.backbone.init_cfg"


@pytest.fixture
def dead_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``http://127.0.0.1:<closed port>/...pth``, with an empty torch hub cache and no proxy."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    return f"http://127.0.0.1:{port}/yolox_tiny_{port}.pth"


class _Backbone(BaseModule):
    def __init__(self, init_cfg: dict) -> None:
        super().__init__(init_cfg=init_cfg)
        self.conv = nn.Conv2d(3, 4, 1)


class _Model(BaseModule):
    def __init__(self, checkpoint: str) -> None:
        super().__init__()
        self.backbone = _Backbone(dict(type="Pretrained", checkpoint=checkpoint))


def _assert_helpful(message: str, url: str) -> None:
    assert url in message
    assert f"{KEY}.checkpoint=/path/to/" in message  # way 1: a local copy
    assert f"{KEY}=None" in message  # way 2: from scratch


def test_error_names_url_and_config_key(dead_url: str) -> None:
    with pytest.raises(PretrainedDownloadError) as info:
        _Model(dead_url).init_weights()
    assert info.value.url == dead_url and info.value.config_key == KEY
    _assert_helpful(str(info.value), dead_url)
    assert isinstance(info.value.__cause__, OSError)


def test_shipped_config_offline(dead_url: str) -> None:
    from mmengine.config import Config
    from mmpose.registry import MODELS

    cfg = Config.fromfile(str(CONFIG))
    assert cfg.model.backbone.init_cfg.checkpoint.startswith("https://")  # a first run downloads
    cfg.model.backbone.init_cfg.checkpoint = dead_url
    model = MODELS.build(cfg.model)
    with pytest.raises(PretrainedDownloadError, match=KEY):
        model.init_weights()


def test_local_paths_keep_their_own_errors(tmp_path: Path) -> None:
    with pytest.raises(Exception) as info:
        _Model(str(tmp_path / "nowhere.pth")).init_weights()
    assert not isinstance(info.value, PretrainedDownloadError)


def test_mim_train_offline_says_what_to_do(dead_url: str, tmp_path: Path,
                                           shared_data: Path) -> None:
    """A whole first run: ``mim train mmpose <plugin config>`` stops with the message."""
    coco = shared_data / "coco_mini"
    options = [f"{KEY}.checkpoint={dead_url}", f"val_evaluator.ann_file={coco}/test_coco.json"]
    for split in ("train", "val"):
        options += [f"{split}_dataloader.dataset.data_root={coco}/",
                    f"{split}_dataloader.dataset.ann_file=test_coco.json",
                    f"{split}_dataloader.dataset.data_prefix.img=",
                    f"{split}_dataloader.num_workers=0",
                    f"{split}_dataloader.persistent_workers=False"]
    mim = Path(sys.executable).with_name("mim")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run([str(mim), "train", "mmpose", str(CONFIG), "--work-dir",
                           str(tmp_path / "work"), "--cfg-options", *options],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    # MMPose's train.py ends with our error (mim then reports the failed subprocess)
    assert "PretrainedDownloadError: could not download the pretrained weights" in out, out[-3000:]
    _assert_helpful(out, dead_url)
