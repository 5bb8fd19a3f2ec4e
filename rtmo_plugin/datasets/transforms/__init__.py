"""rtmo_plugin.datasets.transforms."""
__all__: list = []
