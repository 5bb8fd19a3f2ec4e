"""rtmo_plugin.engine.hooks."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .channels_last_hook import ChannelsLastHook
from .checkpoint_compat_hook import CheckpointCompatibilityHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .stage_switch_hook import RTMOStageSwitchHook

__all__: list = ["RTMOStageSwitchHook", "AtomicCheckpointHook", "CheckpointCompatibilityHook", "NonFiniteLossError",
                 "NonFiniteLossHook", "ChannelsLastHook"]
