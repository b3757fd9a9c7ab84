"""Reads a TOML settings file into the props of its stacks; every unknown or bad key is a ConfigError.

A file configures one stack at its top level, or several as `[[stack]]` tables (any kinds,
several of one kind), with an optional top-level `[backend]` for each of them that has none. Each is of the kind named by `kind` (default: the core stack,
"xacct-kinesis-efo"); a run with settings files synthesizes only their stacks. For the core stack:

    stack_name = "orders-stream"
    [stream]           -> SharedStreamProps
    [existing_stream]  -> ExistingStreamProps (instead of [stream])
    [function]         -> ConsumerFunctionProps
    [mapping]          -> EventSourceMappingProps
    [sink]             -> SinkProps
    [alarms]           -> AlarmProps
    [backend]          -> BackendProps

Paths in a file (`source_dir`, `zip_file`) are relative to the file's directory.

The tables of the other kinds are listed in `catalog.KINDS` (and docs/). Anything left out keeps
its default from `defaults.py`, except that a stack whose `stack_name` is not its kind's default
name gets every AWS name it leaves out derived from that stack name, so several instances of a kind
never collide. Errors name a field as `<table>.<key>`.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from pathlib import Path
from typing import Any, Mapping, Optional

from xacct_streaming.settings import defaults
from xacct_streaming.settings.catalog import KINDS
from xacct_streaming.settings.errors import ConfigError

TOP_LEVEL_KEYS = ("kind", "stack_name", "tags")
# Settings holding a path: relative to the settings file, so a file means the same from anywhere.
PATH_KEYS = ("source_dir", "zip_file")


def _closest(key: str, known: list[str]) -> str:
    """'<closest known key>? ' for a likely typo, or nothing."""
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"{match[0]!r}? " if match else ""


def _section(name: str, cls: type, values: Any, base_dir: Optional[Path] = None) -> Any:
    if not isinstance(values, Mapping):
        raise ConfigError(name, values, f"a table [{name}]")
    allowed = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in allowed:
            raise ConfigError(f"{name}.{key}", values[key], _closest(key, allowed) + "a known key: " + ", ".join(allowed))
    required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if any(key not in values for key in required):
        raise ConfigError(name, dict(values), "the table's required keys: " + ", ".join(required))
    if base_dir is not None:
        values = {
            key: str(base_dir / value) if key in PATH_KEYS and isinstance(value, str) and not Path(value).is_absolute() else value
            for key, value in values.items()
        }
    try:
        return cls(**values)
    except ConfigError as err:
        # Props name fields after their usual table ("function."); a stack may use the class
        # under another table ("writer", "flattener"): name the table the user wrote.
        table, dot, key = err.field.partition(".")
        if dot and table != name:
            raise ConfigError(f"{name}.{key}", err.value, err.allowed) from None
        raise


def props_from_mapping(data: Mapping[str, Any], base_dir: Optional[Path] = None) -> Any:
    """Builds one stack's props from already-parsed settings (a TOML document as a dict);
    relative paths are taken from `base_dir` (the settings file's directory), else as given."""
    kind_name = data.get("kind", defaults.STACK_NAME)
    if kind_name not in KINDS:
        raise ConfigError("kind", kind_name, "one of " + ", ".join(repr(k) for k in KINDS))
    kind = KINDS[kind_name]
    # Top-level settings of a kind beyond stack_name and tags (the fan-out's retired_accounts).
    scalars = [f.name for f in dataclasses.fields(kind.props_type) if f.name not in kind.sections and f.name not in TOP_LEVEL_KEYS]
    for key in data:
        if key not in kind.sections and key not in TOP_LEVEL_KEYS and key not in scalars:
            known = [*TOP_LEVEL_KEYS, *scalars, *kind.sections]
            raise ConfigError(key, data[key], f"{_closest(key, known)}one of {', '.join(known)} (kind {kind_name!r})")
    if "existing_stream" in data and "stream" in data:
        raise ConfigError("stream", data["stream"], "no [stream] table with [existing_stream] (one or the other)")
    # Each table the file has, over the kind's defaults for it (a key left out keeps the kind's value);
    # the props derive every name left at the kind's default from stack_name (settings.naming).
    kind_defaults = kind.props_type()
    kwargs: dict[str, Any] = {
        name: _section(name, kind.sections[name], _over_kind_defaults(getattr(kind_defaults, name), kind.sections[name], data[name]), base_dir)
        for name in kind.sections
        if name not in LIST_SECTIONS and name in data
    }
    stack_name = data.get("stack_name")
    if stack_name is not None:
        kwargs["stack_name"] = stack_name
    if "tags" in data:
        kwargs["tags"] = data["tags"]
    kwargs.update({key: data[key] for key in scalars if key in data})
    for name in LIST_SECTIONS:
        if name in kind.sections and name not in data:
            raise ConfigError(name, None, f"one or more [[{name}]] tables (kind {kind_name!r} has no default readers: none is assumed)")
        if name in kind.sections and name in data:
            kwargs[name] = _consumers(data[name], stack_name if isinstance(stack_name, str) else kind.name, base_dir)
    return kind.props_type(**kwargs)


def _over_kind_defaults(defaults_of_table: Any, cls: type, values: Any) -> Any:
    """A table's values over the kind's defaults for it: a key the file leaves out keeps the kind's value,
    not the class's (the replication stack's [flattener] with only memory_size_mb set keeps the name
    xacct-replica-to-firehose, not ConsumerFunctionProps' xacct-stream-consumer of another kind)."""
    if defaults_of_table is None or not isinstance(values, Mapping):
        return values
    class_defaults = cls() if all(f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
                                  for f in dataclasses.fields(cls)) else None
    kept = {
        field.name: getattr(defaults_of_table, field.name)
        for field in dataclasses.fields(cls)
        if field.name not in values and class_defaults is not None and getattr(defaults_of_table, field.name) != getattr(class_defaults, field.name)
    }
    return {**kept, **values}


# Sections that are arrays of tables ([[consumers]]), each table a whole consumer.
LIST_SECTIONS = ("consumers",)


def _consumers(values: Any, stack_name: str, base_dir: Optional[Path]) -> tuple[Any, ...]:
    """[[consumers]] tables: each one's function and sink get names derived from the stack's and
    its own (`<stack>-<name>`) for every name the table leaves out."""
    from xacct_streaming.settings.fanout import FanoutConsumerProps
    from xacct_streaming.settings.props import ConsumerFunctionProps, EventSourceMappingProps, SinkProps

    if not isinstance(values, list) or not values or not all(isinstance(v, Mapping) for v in values):
        raise ConfigError("consumers", values, "one or more [[consumers]] tables")
    allowed = [f.name for f in dataclasses.fields(FanoutConsumerProps)]
    consumers = []
    for table in values:
        for key in table:
            if key not in allowed:
                raise ConfigError(f"consumers.{key}", table[key], _closest(key, allowed) + "a known key: " + ", ".join(allowed))
        for key in ("name", "account"):
            if key not in table:
                raise ConfigError("consumers", dict(table), f"a [[consumers]] table with {key!r}")
        name = table["name"]
        prefix = f"{stack_name}-{name}"
        derived = {
            "function": {"function_name": prefix, "key_alias": f"alias/{prefix}"},
            "sink": {"table_name": f"{prefix}-sink"},
            "mapping": {},
        }
        parts = {}
        for section, cls in (("function", ConsumerFunctionProps), ("sink", SinkProps), ("mapping", EventSourceMappingProps)):
            given = table.get(section, {})
            try:
                parts[section] = _section(f"consumers.{name}.{section}", cls, {**derived[section], **given} if isinstance(given, Mapping) else given, base_dir)
            except ConfigError as err:
                key = err.field.rpartition(".")[2]
                if isinstance(given, Mapping) and key in derived[section] and key not in given:
                    raise ConfigError(
                        "stack_name", stack_name, f"a name that leaves room for {err.field}, derived as <stack_name>-<consumer name> "
                        f"({err.value!r}): {err.allowed}; or set {err.field} in the consumer's table",
                    ) from None
                raise
        scalars = {key: value for key, value in table.items() if key not in parts}
        consumers.append(FanoutConsumerProps(**scalars, **parts))
    return tuple(consumers)


def load_stacks(path: str) -> list[Any]:
    """The props of every stack a TOML file describes (one at its top level, or `[[stack]]` tables).
    Every error names the file first (several files may be given at once)."""
    try:
        return _load_stacks(path)
    except ConfigError as err:
        if err.field == "config file":
            raise
        raise ConfigError(f"{path}: {err.field}", err.value, err.allowed) from None


def _load_stacks(path: str) -> list[Any]:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError("config file", path, f"a readable TOML file ({err.strerror})") from None
    except UnicodeDecodeError as err:
        raise ConfigError("config file", path, f"a UTF-8 TOML text file (byte {err.start} is not UTF-8)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("config file", path, f"valid TOML ({err})") from None
    if not data:
        raise ConfigError("config file", path, "at least one setting (an empty file would synthesize the defaults unasked)")
    base_dir = file.resolve().parent
    if "stack" not in data:
        return [props_from_mapping(data, base_dir)]
    stacks = data["stack"]
    if set(data) - {"stack", "backend"} or not isinstance(stacks, list) or not stacks:
        extra = sorted(set(data) - {"stack", "backend"})
        raise ConfigError(extra[0] if extra else "stack", data.get(extra[0]) if extra else stacks,
                          "only [[stack]] tables, and a [backend] for all of them, in a file that has them (each one a whole stack)")
    # A top-level [backend] is every stack's that has none of its own (an environment's state bucket).
    shared = {"backend": data["backend"]} if "backend" in data else {}
    return [props_from_mapping({**shared, **table} if isinstance(table, Mapping) else table, base_dir) for table in stacks]
