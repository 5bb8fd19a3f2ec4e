"""The recipe probe trains a few iterations and reports finite errors for both keypoint branches."""
import math
from pathlib import Path

import numpy as np
import pytest

from experiments.recipe_probe import ProbeOptions, build_probe_config, run_probe
from rtmo_plugin.datasets.synthetic import SyntheticConfig, generate_split
from rtmo_plugin.datasets.synthetic.render import textured_background
from rtmo_plugin.demo.run_demo import DEMO_CONFIG


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    generate_split(root, "train", 4, seed=3, progress=False)
    generate_split(root, "val", 2, seed=3, progress=False)
    return root


def test_probe_reports_finite_errors(tiny_data):
    opts = ProbeOptions(config=DEMO_CONFIG, data_root=tiny_data, iters=3, log_every=1, memorize=2, batch_size=2,
                        warmup=1)
    rows = run_probe(opts, progress=False)
    assert [r["iter"] for r in rows] == [1, 2, 3]
    for row in rows:
        for key in ("loss_bbox", "loss_cls", "reg_err", "dcc_err", "sigma", "x_entropy"):
            assert math.isfinite(row[key]), (key, row)
        assert 0 <= row["x_entropy"] <= math.log(192) + 1e-4


def test_probe_config_applies_the_recipe(tiny_data):
    opts = ProbeOptions(config=DEMO_CONFIG, data_root=tiny_data, dcc_lr_mult=0.3, clip=0, loss_mle=5.0,
                        training_metainfo="x.py", memorize=2)
    cfg = build_probe_config(opts)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys["head.dcc"]["lr_mult"] == 0.3
    assert "clip_grad" not in cfg.optim_wrapper
    assert cfg.model.head.loss_mle.loss_weight == 5.0
    assert cfg.model.head.loss_oks.metainfo == cfg.model.head.assigner.oks_calculator.metainfo == "x.py"
    assert cfg.train_dataloader.dataset.ann_file == "annotations/memorize_2.json"
    assert (tiny_data / "annotations" / "memorize_2.json").is_file()


def test_background_contrast_knob():
    full = textured_background(np.random.default_rng(5), (64, 64))
    same = textured_background(np.random.default_rng(5), (64, 64), contrast=1.0)
    low = textured_background(np.random.default_rng(5), (64, 64), contrast=0.4)
    assert np.array_equal(full, same)
    assert low.astype(float).std() < 0.5 * full.astype(float).std()
    assert SyntheticConfig().background_contrast > 0
