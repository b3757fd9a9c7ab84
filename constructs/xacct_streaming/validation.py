"""Small checks used by the props dataclasses; each raises ConfigError naming the field."""

from __future__ import annotations

import re
from typing import Any, Collection, Mapping

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


def require_tags(field: str, value: Any) -> None:
    """AWS tag rules, as the `tags` variable checks them: at most 40 tags, keys 1-128 characters not
    starting with 'aws:', values up to 256, all strings."""
    allowed = "a table of at most 40 string tags, keys 1-128 characters not starting with 'aws:', values up to 256"
    if not isinstance(value, Mapping) or len(value) > 40:
        raise ConfigError(field, value, allowed)
    for key, tag in value.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise ConfigError(f"{field}.{key}", tag, allowed)
        if not isinstance(tag, str) or len(tag) > 256:
            raise ConfigError(f"{field}.{key}", tag, allowed)
