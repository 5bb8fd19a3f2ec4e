"""IndependentRanksWrapper: the runner sees a wrapper, the module does the steps, nothing is exchanged."""
from typing import Any, Dict, List

import torch
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.optim import OptimWrapper

from mmpose.registry import MODEL_WRAPPERS
from rtmo_plugin.engine.model_wrappers import IndependentRanksWrapper


class _Linear(BaseModel):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(2, 1)

    def forward(self, inputs: torch.Tensor, mode: str = "loss") -> Any:
        out = self.fc(inputs)
        return dict(loss=out.pow(2).mean()) if mode == "loss" else [out]


def test_steps_are_the_modules_own() -> None:
    torch.manual_seed(0)
    model = _Linear()
    reference = _Linear()
    reference.load_state_dict(model.state_dict())
    wrapper = IndependentRanksWrapper(model)
    batch: Dict[str, torch.Tensor] = dict(inputs=torch.rand(4, 2))
    wrapped_opt = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    reference_opt = OptimWrapper(torch.optim.SGD(reference.parameters(), lr=0.1))
    wrapped_losses = wrapper.train_step(dict(batch), wrapped_opt)
    reference_losses = reference.train_step(dict(batch), reference_opt)
    assert torch.equal(wrapped_losses["loss"], reference_losses["loss"])
    for p, q in zip(model.parameters(), reference.parameters()):
        assert torch.equal(p, q)
    assert not torch.equal(model.fc.weight, _Linear().fc.weight)  # the step changed the weights
    predictions: List[torch.Tensor] = wrapper.val_step(dict(batch))
    assert torch.equal(predictions[0], model(batch["inputs"], mode="predict")[0])
    assert torch.equal(wrapper.test_step(dict(batch))[0], predictions[0])


def test_the_runner_unwraps_it_and_its_state_dict_is_the_modules_with_a_prefix() -> None:
    wrapper = MODEL_WRAPPERS.build(dict(type="IndependentRanksWrapper"), default_args=dict(module=_Linear()))
    assert isinstance(wrapper, IndependentRanksWrapper) and is_model_wrapper(wrapper)
    assert set(wrapper.state_dict()) == {"module.fc.weight", "module.fc.bias"}
