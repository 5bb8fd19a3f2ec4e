"""Weight initialisation without mmengine's per-parameter log lines."""
import logging

from torch import nn


def quiet_init_weights(model: nn.Module) -> None:
    """Run ``model.init_weights()`` with mmengine's logger at WARNING (it logs every parameter at INFO).

    Args:
        model (nn.Module): an mmengine ``BaseModule`` (anything with ``init_weights``).
    """
    from mmengine.logging import MMLogger

    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
