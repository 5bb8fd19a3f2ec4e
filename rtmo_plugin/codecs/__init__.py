"""rtmo_plugin.codecs."""
__all__: list = []
