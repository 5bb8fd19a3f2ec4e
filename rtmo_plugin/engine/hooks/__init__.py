"""rtmo_plugin.engine.hooks."""
__all__: list = []
