"""rtmo_plugin.models.utils."""
__all__: list = []
