"""Names derived from a stack's name, one mechanism for settings files and the Python API alike.

Every AWS name a kind's defaults hold starts with "xacct-". A stack of that kind under another name
gets its own names by putting its stack name there instead (xacct-shared-stream -> orders-shared-stream),
for every name it leaves at the kind's default, so two instances of a kind never collide, whether they
come from two settings files or from `StackProps(stack_name="refunds-reader")` in a library user's app.
A name given explicitly is kept as it is, unless it is exactly the kind's default.

Only the fields that are names are derived (NAME_FIELDS): a default that merely contains "xacct-"
(the replication's external id) is a value, kept as it is. tests/settings/test_derived_names.py fails when a
table gets a default holding "xacct-" that is in neither list.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.patterns import STACK_NAME, STACK_NAME_TEXT
from xacct_streaming.settings.validation import require_match, require_tags

DEFAULT_NAME_PREFIX = "xacct-"
# The fields that name an AWS resource (or a prefix of names), by the table's props class.
NAME_FIELDS: dict[str, frozenset[str]] = {
    "SharedStreamProps": frozenset({"stream_name", "consumer_name", "key_alias"}),
    "ExistingStreamProps": frozenset({"consumer_name"}),
    "ConsumerFunctionProps": frozenset({"function_name", "key_alias"}),
    "SinkProps": frozenset({"table_name"}),
    "SourceTableProps": frozenset({"table_name", "key_alias"}),
    "ReplicaProps": frozenset({"table_name", "writer_role_name"}),
    "DeliveryProps": frozenset({"delivery_stream_name", "bucket_prefix", "key_alias"}),
    "NotificationProps": frozenset({"configuration_set_name", "topic_name", "topic_key_alias", "stream_writer_role_name"}),
    "IngestApiProps": frozenset({"api_name", "secret_name", "key_alias"}),
}
# Defaults holding "xacct-" that are values, not names: kept when the stack is renamed.
NOT_NAMES: dict[str, frozenset[str]] = {
    "ReplicaProps": frozenset({"external_id"}),  # the writer's sts:ExternalId: a shared value, not a resource's name
}


def _default_stack_name(props: Any) -> Any:
    return next(f.default for f in dataclasses.fields(props) if f.name == "stack_name")


def _default_of(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return field.default_factory()  # type: ignore[misc]
    return dataclasses.MISSING


def derive_names(props: Any, skip: tuple[str, ...] = ()) -> None:
    """Gives `props` (a frozen stack props instance, in its __post_init__) the names derived from its
    stack name in every table that left them at the kind's default. A derived name a table refuses is
    reported as a stack_name error saying which name, and how to set it instead. `skip`: tables the
    stack does not use (the core stack's [stream] beside [existing_stream])."""
    stack_name = props.stack_name
    if stack_name == _default_stack_name(props):
        return
    for field in dataclasses.fields(props):
        if field.name in skip:
            continue
        section = getattr(props, field.name)
        if not dataclasses.is_dataclass(section) or isinstance(section, type):
            continue
        kind_default = _default_of(field)
        changes = {}
        names = NAME_FIELDS.get(type(section).__name__, frozenset())
        for inner in dataclasses.fields(section):
            if inner.name not in names:
                continue
            value = getattr(section, inner.name)
            default = getattr(kind_default, inner.name) if dataclasses.is_dataclass(kind_default) else _default_of(inner)
            if isinstance(value, str) and value == default and DEFAULT_NAME_PREFIX in value:
                changes[inner.name] = value.replace(DEFAULT_NAME_PREFIX, f"{stack_name}-", 1)
        if not changes:
            continue
        try:
            derived = dataclasses.replace(section, **changes)
        except ConfigError as error:
            key = f"{field.name}.{error.field.rpartition('.')[2]}"
            raise ConfigError(
                "stack_name", stack_name,
                f"a name that leaves room for {key}, derived from it as {error.value!r}: {error.allowed}; or set {key} in the file",
            ) from None
        object.__setattr__(props, field.name, derived)


def check_stack(props: Any, skip: tuple[str, ...] = ()) -> None:
    """What every kind's props check first: its tags, its stack name (before any name derived from it),
    then the names derived from it (`derive_names`)."""
    require_tags("tags", props.tags)
    require_match("stack_name", props.stack_name, STACK_NAME, STACK_NAME_TEXT)
    derive_names(props, skip)
