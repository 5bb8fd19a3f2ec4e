"""NonFiniteLossHook: a NaN loss stops the run naming iteration and term, or the step is skipped exactly."""
import pytest
import torch
from mmengine.runner.checkpoint import _load_checkpoint

from rtmo_plugin.engine.hooks import NonFiniteLossError, NonFiniteLossHook

from .toy_runner import ToyDataset, make_runner


def test_raise_names_iteration_term_and_keeps_last_good_checkpoint(tmp_path):
    # sample 4 (0-based) is poisoned -> iteration 5 (1-based, as the logger counts); checkpoints every 2 iterations
    runner = make_runner(str(tmp_path), ToyDataset(8, nan_at=[4]), 8, "nf-raise",
                         custom_hooks=[dict(type="NonFiniteLossHook")])
    with pytest.raises(NonFiniteLossError) as info:
        runner.train()
    msg = str(info.value)
    assert "iteration 5" in msg and "loss_aux=nan" in msg and "loss=nan" in msg, msg
    assert "loss_main=" in msg and "loss_main=nan" not in msg, msg  # finite terms are reported as such
    assert str(tmp_path / "iter_4.pth") in msg, msg
    assert sorted(p.name for p in tmp_path.glob("iter_*.pth")) == ["iter_2.pth", "iter_4.pth"]
    ckpt = _load_checkpoint(str(tmp_path / "iter_4.pth"), map_location="cpu")
    assert ckpt["meta"]["iter"] == 4
    # the weights were not touched by the bad step: they equal the ones saved after iteration 4
    for key, value in runner.model.state_dict().items():
        assert torch.isfinite(value).all(), key
        assert torch.equal(value, ckpt["state_dict"][key]), key


def test_without_hook_nan_reaches_the_weights(tmp_path):
    """Negative control: the failure the hook prevents."""
    runner = make_runner(str(tmp_path), ToyDataset(8, nan_at=[4]), 6, "nf-none")
    runner.train()
    assert not torch.isfinite(runner.model.linear.weight).all()


@pytest.mark.parametrize("optimizer", [dict(type="SGD", lr=0.05), dict(type="AdamW", lr=0.01, weight_decay=0.1)])
def test_skip_is_an_exact_skip(tmp_path, optimizer):
    """Skipping poisoned samples 2 and 5 == training on the other 6 samples (not even weight decay is applied)."""
    hook = dict(type="NonFiniteLossHook", action="skip")
    skipped = make_runner(str(tmp_path / "a"), ToyDataset(8, nan_at=[2, 5]), 8, f"nf-skip-{optimizer['type']}",
                          custom_hooks=[hook], optimizer=optimizer)
    skipped.train()
    clean = make_runner(str(tmp_path / "b"), ToyDataset(8, keep=[0, 1, 3, 4, 6, 7]), 6,
                        f"nf-clean-{optimizer['type']}", optimizer=optimizer)
    clean.train()
    guard = next(h for h in skipped.hooks if isinstance(h, NonFiniteLossHook))
    assert guard.skipped_steps == 2
    assert skipped.message_hub.get_scalar("train/skipped_steps").current() == 2
    for key, value in skipped.model.state_dict().items():
        torch.testing.assert_close(value, clean.model.state_dict()[key], rtol=1e-6, atol=1e-7)
    # the wrappers are removed after training
    assert "parse_losses" not in vars(skipped.model) and "update_params" not in vars(skipped.optim_wrapper)


def test_skip_gives_up_after_consecutive_bad_steps(tmp_path):
    hook = dict(type="NonFiniteLossHook", action="skip", max_consecutive_skips=2)
    runner = make_runner(str(tmp_path), ToyDataset(8, nan_at=[1, 2, 3]), 8, "nf-diverged", custom_hooks=[hook])
    with pytest.raises(NonFiniteLossError, match=r"iteration 4 .*\n3 non-finite steps in a row"):
        runner.train()


def test_invalid_arguments():
    with pytest.raises(ValueError, match="action"):
        NonFiniteLossHook(action="ignore")
    with pytest.raises(ValueError, match="max_consecutive_skips"):
        NonFiniteLossHook(action="skip", max_consecutive_skips=0)
