"""rtmo_plugin.apis."""
__all__: list = []
