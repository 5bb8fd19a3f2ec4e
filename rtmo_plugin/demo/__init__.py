"""The embedded demo (``make demo``): train a small RTMO on synthetic people on the CPU, then evaluate and draw."""
from .budget_schedule import BudgetCosineLRHook, budget_schedule_from_config
from .run_demo import DEMO_BUDGET_MINUTES, DEMO_CONFIG, build_config, prepare_data, run_demo
from .training import ProgressRecorderHook, TrainingRecord, train_with_record

__all__ = ["BudgetCosineLRHook", "budget_schedule_from_config", "DEMO_BUDGET_MINUTES", "DEMO_CONFIG", "build_config",
           "prepare_data", "run_demo", "ProgressRecorderHook", "TrainingRecord", "train_with_record"]
