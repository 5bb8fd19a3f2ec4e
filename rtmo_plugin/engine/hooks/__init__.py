"""rtmo_plugin.engine.hooks."""
from .stage_switch_hook import RTMOStageSwitchHook
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .checkpoint_compat_hook import CheckpointCompatibilityHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .channels_last_hook import ChannelsLastHook

__all__: list = ["RTMOStageSwitchHook", "AtomicCheckpointHook", "CheckpointCompatibilityHook", "NonFiniteLossError",
                 "NonFiniteLossHook", "ChannelsLastHook"]
