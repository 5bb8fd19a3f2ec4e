"""Our RTMO models have the released checkpoints' state-dict layout, for every variant, so they load strict."""
import pytest
import torch

from rtmo_plugin.testing.reference import (
    PLUGIN_CONFIGS,
    build_model_skeleton,
    build_plugin_model,
    build_reference_model,
    count_parameters,
    state_dict_shapes,
)
from rtmo_plugin.utils import shared_data_dir

# the released checkpoints' key lists live beside the shared data: ../shared/docs/state_dict_keys
KEY_LISTS = shared_data_dir().parent / "docs" / "state_dict_keys"

# MMPose / paper numbers (millions of parameters, 2 decimals)
REFERENCE_PARAMS_M = {("t", "coco"): 6.83, ("s", "coco"): 9.87, ("m", "coco"): 22.53, ("l", "coco"): 44.69}


@pytest.mark.parametrize("variant,dataset", sorted(PLUGIN_CONFIGS))
def test_keys_and_shapes_equal_reference(variant, dataset):
    ours = state_dict_shapes(build_model_skeleton(variant, dataset, "plugin"))
    ref = state_dict_shapes(build_model_skeleton(variant, dataset, "reference"))
    assert sorted(ours) == sorted(ref), (set(ours) ^ set(ref))
    mismatched = {k: (ours[k], ref[k]) for k in ref if ours[k] != ref[k]}
    assert not mismatched
    num_kpts = 14 if dataset == "crowdpose" else 17
    assert ours["head.dcc.pos_enc"] == (num_kpts, 128)
    assert ours["head.loss_oks.sigmas"] == (num_kpts,)


@pytest.mark.parametrize("variant", ["t", "s", "m", "l"])
def test_keys_match_the_released_checkpoint_lists(variant):
    """The published key lists (shared docs) are the checkpoints' layout."""
    path = KEY_LISTS / f"rtmo-{variant}.txt"
    if not path.is_file():
        pytest.skip(f"key list not found: {path}")
    listed = {}
    for line in path.read_text().splitlines():
        if line.strip():
            key, shape = line.split("\t")
            listed[key] = tuple(int(x) for x in shape.strip("[]").split(",") if x.strip())
    ours = state_dict_shapes(build_model_skeleton(variant, "coco", "plugin"))
    assert ours == listed


@pytest.mark.parametrize("variant,dataset", sorted(PLUGIN_CONFIGS))
def test_parameter_counts(variant, dataset):
    ours = count_parameters(build_model_skeleton(variant, dataset, "plugin"))
    ref = count_parameters(build_model_skeleton(variant, dataset, "reference"))
    assert ours == ref
    if (variant, dataset) in REFERENCE_PARAMS_M:
        assert round(ours / 1e6, 2) == REFERENCE_PARAMS_M[(variant, dataset)]


def test_reference_weights_load_strict_and_roundtrip():
    """A real (non-meta) reference state dict loads with strict=True and every tensor arrives unchanged."""
    torch.manual_seed(0)
    ref = build_reference_model("s", "crowdpose")
    ours = build_plugin_model("s", "crowdpose")
    result = ours.load_state_dict(ref.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for key, value in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key
