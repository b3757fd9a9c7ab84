"""Reads a TOML settings file into StackProps; every unknown or bad key is a ConfigError.

The file has one optional table per props class:

    stack_name = "orders-stream"
    [stream]    -> SharedStreamProps
    [function]  -> ConsumerFunctionProps
    [mapping]   -> EventSourceMappingProps
    [sink]      -> SinkProps
    [alarms]    -> AlarmProps
    [backend]   -> BackendProps

Anything left out keeps its default from `defaults.py`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any, Mapping, Optional

from xacct_streaming.errors import ConfigError
from xacct_streaming.props import (
    AlarmProps,
    BackendProps,
    ConsumerFunctionProps,
    EventSourceMappingProps,
    SharedStreamProps,
    SinkProps,
    StackProps,
)

SECTIONS: dict[str, type] = {
    "stream": SharedStreamProps,
    "function": ConsumerFunctionProps,
    "mapping": EventSourceMappingProps,
    "sink": SinkProps,
    "alarms": AlarmProps,
    "backend": BackendProps,
}
TOP_LEVEL_KEYS = ("stack_name",)


def _section(name: str, cls: type, values: Any) -> Any:
    if not isinstance(values, Mapping):
        raise ConfigError(name, values, f"a table [{name}]")
    allowed = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in allowed:
            raise ConfigError(f"{name}.{key}", values[key], "a known key: " + ", ".join(allowed))
    return cls(**values)


def props_from_mapping(data: Mapping[str, Any]) -> StackProps:
    """Builds StackProps from already-parsed settings (a TOML document as a dict)."""
    for key in data:
        if key not in SECTIONS and key not in TOP_LEVEL_KEYS:
            raise ConfigError(key, data[key], "one of " + ", ".join([*TOP_LEVEL_KEYS, *SECTIONS]))
    kwargs: dict[str, Any] = {name: _section(name, cls, data[name]) for name, cls in SECTIONS.items() if name in data}
    if "stack_name" in data:
        kwargs["stack_name"] = data["stack_name"]
    return StackProps(**kwargs)


def load_props(path: Optional[str]) -> StackProps:
    """StackProps from a TOML file, or the defaults when no path is given."""
    if not path:
        return StackProps()
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
