"""Config + checkpoint loading: our runner checkpoints, bare (official-style) state dicts, clear errors."""
import pytest
import torch

from rtmo_plugin.apis import load_model
from rtmo_plugin.testing.reference import plugin_config_path

CONFIG = plugin_config_path("t")


def test_runner_checkpoint_round_trip(detecting_model, detecting_checkpoint) -> None:
    model = load_model(CONFIG, detecting_checkpoint)
    assert not model.training
    ref = detecting_model.state_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(value, ref[key]), key
    assert model.dataset_meta["num_keypoints"] == 17


def test_bare_state_dict_with_module_prefix(detecting_model, tmp_path) -> None:
    path = tmp_path / "bare.pth"
    torch.save({f"module.{k}": v for k, v in detecting_model.state_dict().items()}, path)
    model = load_model(CONFIG, path)
    key = "head.dcc.gau.uv.weight"
    assert torch.equal(model.state_dict()[key], detecting_model.state_dict()[key])


def test_wrong_variant_and_missing_keys_are_clear_errors(detecting_model, tmp_path) -> None:
    state = detecting_model.state_dict()
    bad = dict(state)
    bad["head.dcc.gau.uv.weight"] = torch.zeros(3, 3)
    torch.save(dict(state_dict=bad), tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="head.dcc.gau.uv.weight"):
        load_model(CONFIG, tmp_path / "bad.pth")
    partial = {k: v for k, v in state.items() if not k.startswith("neck.")}
    torch.save(partial, tmp_path / "partial.pth")
    with pytest.raises(ValueError, match="missing"):
        load_model(CONFIG, tmp_path / "partial.pth")
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        load_model(CONFIG, tmp_path / "nope.pth")
    with pytest.raises(FileNotFoundError, match="config"):
        load_model(tmp_path / "none.py")
