"""The errors a user can fix, raised before anything is written: a setting (ConfigError) or the code
building a stack using a construct in a way it does not support (ConstructError). Anything else is a
bug of this package: the command line says to report it (exit 70)."""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """A configuration value is not allowed.

    The message always names the field, the value that was given and what is allowed,
    so a user can fix the input without reading the code.
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}: {value!r} is not allowed; expected {allowed}")


class ConstructError(TypeError):
    """A construct used in a way it does not support (a policy statement with a wildcard action, a
    stream given both ways): a mistake in the code that builds the stack, which no setting causes."""
