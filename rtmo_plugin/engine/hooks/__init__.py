"""rtmo_plugin.engine.hooks."""
from .stage_switch_hook import RTMOStageSwitchHook

__all__: list = ["RTMOStageSwitchHook"]
