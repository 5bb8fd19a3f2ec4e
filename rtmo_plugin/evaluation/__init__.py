"""rtmo_plugin.evaluation."""
__all__: list = []
