"""The overfit check's driver (``experiments.overfit``): its config edits and a 3-iteration run of each
model with the clock-following decay."""
import json
from pathlib import Path

import pytest

from experiments.overfit import OVERFIT_CONFIG, build_overfit_config, run_overfit
from rtmo_plugin.demo.budget_schedule import budget_schedule_from_config


def test_an_iteration_override_moves_the_decays_end_or_drops_it(shared_data: Path, tmp_path: Path) -> None:
    cfg = build_overfit_config("ours", tmp_path, shared_data / "coco_mini", max_iters=300)
    cosine = [s for s in cfg.param_scheduler if s["type"] == "CosineAnnealingLR"]
    assert len(cosine) == 1 and cosine[0]["end"] == 300 and cosine[0]["T_max"] == 300 - cosine[0]["begin"]
    short = build_overfit_config("reference", tmp_path, shared_data / "coco_mini", max_iters=10)
    assert [s["type"] for s in short.param_scheduler] == ["QuadraticWarmupLR"]  # ends inside the warm-up


def test_the_overfit_config_can_follow_the_clock(shared_data: Path, tmp_path: Path) -> None:
    cfg = build_overfit_config("ours", tmp_path, shared_data / "coco_mini")
    hook = budget_schedule_from_config(cfg, 1200.0)
    assert hook is not None and hook.warmup_epochs == 30  # one iteration per epoch
    assert [s["type"] for s in cfg.param_scheduler] == ["QuadraticWarmupLR"]


def test_run_overfit_reports_both_models_and_our_proxy_ap(shared_data: Path, tmp_path: Path) -> None:
    config = tmp_path / "short_warmup.py"  # a 1-iteration warm-up, so that 2 of the 3 iterations decay
    config.write_text(f"_base_ = ['{OVERFIT_CONFIG}']\nparam_scheduler = [\n"
                      "    dict(type='QuadraticWarmupLR', by_epoch=True, begin=0, end=1),\n"
                      "    dict(type='CosineAnnealingLR', by_epoch=True, eta_min=0.0002, begin=1, end=1200,\n"
                      "         T_max=1199)]\n")
    results = run_overfit(tmp_path / "out", impls=("ours", "reference"), max_iters=3, budget_minutes=30,
                          config=config)

    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == json.loads(json.dumps(results))
    for impl in ("ours", "reference"):
        assert results[impl]["iterations"] == 3
        assert 0.0 <= results[impl]["kpt_AP"] <= 1.0 and 0.0 <= results[impl]["box_AP"] <= 1.0
        assert 0.0 <= results[impl]["vote_kpt_AP"] <= 1.0  # our head's vote / the vote on the reference's results
        assert (tmp_path / "out" / f"curves_{impl}.png").is_file()
        # the clock-following decay ran: its last iteration was 1 of 2 past the warm-up (the clock's share is tiny)
        assert results[impl]["decay_done"] == pytest.approx(0.5)
    # the proxy keypoints' AP is a diagnostic of our head only
    assert 0.0 <= results["ours"]["proxy_kpt_AP"] <= 1.0
    assert "proxy_kpt_AP" not in results["reference"]


def _input_sizes(node) -> list:
    if isinstance(node, dict):
        return [tuple(v) for k, v in node.items() if k == "input_size"] + \
            [s for k, v in node.items() if k != "input_size" for s in _input_sizes(v)]
    if isinstance(node, (list, tuple)):
        return [s for item in node for s in _input_sizes(item)]
    return []


@pytest.mark.parametrize("impl", ["ours", "reference"])
def test_an_input_size_override_reaches_codec_transforms_and_test_cfg(shared_data: Path, tmp_path: Path,
                                                                      impl: str) -> None:
    default = build_overfit_config(impl, tmp_path, shared_data / "coco_mini")
    cfg = build_overfit_config(impl, tmp_path, shared_data / "coco_mini", input_size=320, seed=3)
    assert set(_input_sizes(default.to_dict())) == {(416, 416)}
    assert set(_input_sizes(cfg.to_dict())) == {(320, 320)}
    assert len(_input_sizes(cfg.to_dict())) == len(_input_sizes(default.to_dict()))
    assert cfg.model.test_cfg.input_size == (320, 320)
    assert cfg.train_dataloader.dataset.pipeline[-2].encoder.input_size == (320, 320)  # GenerateTarget's codec
    assert cfg.val_dataloader.dataset.pipeline[1].input_size == (320, 320)  # the letterbox
    assert cfg.randomness.seed == 3 and default.randomness.seed == 0
    # nothing else changed
    assert cfg.optim_wrapper == default.optim_wrapper and cfg.param_scheduler == default.param_scheduler


@pytest.mark.parametrize("size", [0, -32, 330])
def test_an_input_size_that_is_not_a_multiple_of_32_is_refused(shared_data: Path, tmp_path: Path, size: int) -> None:
    with pytest.raises(ValueError, match=f"input_size must be a positive multiple of 32.*got {size}"):
        build_overfit_config("ours", tmp_path, shared_data / "coco_mini", input_size=size)
