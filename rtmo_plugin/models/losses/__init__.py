"""rtmo_plugin.models.losses."""
__all__: list = []
