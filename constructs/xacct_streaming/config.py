"""Reads a TOML settings file into the props of one stack; every unknown or bad key is a ConfigError.

A file configures one stack, of the kind named by `kind` (default: the core stack,
"xacct-kinesis-efo"); the other stacks keep their defaults. For the core stack:

    stack_name = "orders-stream"
    [stream]    -> SharedStreamProps
    [function]  -> ConsumerFunctionProps
    [mapping]   -> EventSourceMappingProps
    [sink]      -> SinkProps
    [alarms]    -> AlarmProps
    [backend]   -> BackendProps

The tables of the other kinds are listed in `catalog.KINDS` (and the README). Anything left
out keeps its default from `defaults.py`. Errors name a field as `<table>.<key>`.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from pathlib import Path
from typing import Any, Mapping, Optional

from xacct_streaming import defaults
from xacct_streaming.catalog import KINDS
from xacct_streaming.errors import ConfigError

TOP_LEVEL_KEYS = ("kind", "stack_name")


def _closest(key: str, known: list[str]) -> str:
    """'<closest known key>? ' for a likely typo, or nothing."""
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"{match[0]!r}? " if match else ""


def _section(name: str, cls: type, values: Any) -> Any:
    if not isinstance(values, Mapping):
        raise ConfigError(name, values, f"a table [{name}]")
    allowed = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in allowed:
            raise ConfigError(f"{name}.{key}", values[key], _closest(key, allowed) + "a known key: " + ", ".join(allowed))
    try:
        return cls(**values)
    except ConfigError as err:
        # Props name fields after their usual table ("function."); a stack may use the class
        # under another table ("writer", "flattener"): name the table the user wrote.
        table, dot, key = err.field.partition(".")
        if dot and table != name:
            raise ConfigError(f"{name}.{key}", err.value, err.allowed) from None
        raise


def props_from_mapping(data: Mapping[str, Any]) -> Any:
    """Builds one stack's props from already-parsed settings (a TOML document as a dict)."""
    kind_name = data.get("kind", defaults.STACK_NAME)
    if kind_name not in KINDS:
        raise ConfigError("kind", kind_name, "one of " + ", ".join(repr(k) for k in KINDS))
    kind = KINDS[kind_name]
    for key in data:
        if key not in kind.sections and key not in TOP_LEVEL_KEYS:
            known = [*TOP_LEVEL_KEYS, *kind.sections]
            raise ConfigError(key, data[key], f"{_closest(key, known)}one of {', '.join(known)} (kind {kind_name!r})")
    kwargs: dict[str, Any] = {name: _section(name, cls, data[name]) for name, cls in kind.sections.items() if name in data}
    if "stack_name" in data:
        kwargs["stack_name"] = data["stack_name"]
    return kind.props_type(**kwargs)


def load_props(path: Optional[str]) -> Any:
    """One stack's props from a TOML file, or the core stack's defaults when no path is given."""
    if not path:
        return KINDS[defaults.STACK_NAME].props_type()
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError("config file", path, f"a readable TOML file ({err.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("config file", path, f"valid TOML ({err})") from None
    return props_from_mapping(data)
