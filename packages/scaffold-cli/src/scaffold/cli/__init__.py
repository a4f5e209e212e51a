"""scaffold.cli: see the package README for what it offers."""

__all__: list[str] = []
