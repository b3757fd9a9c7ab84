"""Small checks used by the props dataclasses; each raises ConfigError naming the field."""

from __future__ import annotations

import re
from typing import Any, Collection

from xacct_streaming.errors import ConfigError


def require_int(field: str, value: Any, low: int, high: int) -> None:
    # bool is an int subclass; `batch_size = true` in a config file is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(field, value, f"an integer from {low} to {high}")
    if not low <= value <= high:
        raise ConfigError(field, value, f"an integer from {low} to {high}")


def require_one_of(field: str, value: Any, allowed: Collection[Any]) -> None:
    if value not in allowed:
        raise ConfigError(field, value, "one of " + ", ".join(repr(a) for a in allowed))


def require_match(field: str, value: Any, pattern: str, description: str) -> None:
    if not isinstance(value, str) or re.fullmatch(pattern, value) is None:
        raise ConfigError(field, value, description)


def require_bool(field: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(field, value, "true or false")
