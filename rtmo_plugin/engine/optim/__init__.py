"""rtmo_plugin.engine.optim: faster drop-ins for the optimiser constructor and the EMA."""
from .foreach_ema import ForeachExpMomentumEMA
from .merged_groups_constructor import MergedGroupsOptimWrapperConstructor, merge_param_groups

__all__: list = ["ForeachExpMomentumEMA", "MergedGroupsOptimWrapperConstructor", "merge_param_groups"]
