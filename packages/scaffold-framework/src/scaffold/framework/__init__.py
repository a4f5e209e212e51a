"""scaffold.framework: the umbrella distribution and the `scaffold` command."""

__all__: list[str] = []
