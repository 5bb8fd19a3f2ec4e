"""rtmo_plugin.models.heads."""
__all__: list = []
