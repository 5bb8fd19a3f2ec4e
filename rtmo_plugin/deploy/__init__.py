"""rtmo_plugin.deploy."""
__all__: list = []
