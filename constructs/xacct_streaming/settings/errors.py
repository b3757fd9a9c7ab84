"""The one error type for bad configuration, raised before anything is written."""

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
