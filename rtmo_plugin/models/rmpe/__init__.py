"""rtmo_plugin.models.rmpe."""
__all__: list = []
