"""Props of the DynamoDB Streams kind (xacct-dynamodb-streams, seed 003): the shared table and the stack.

Frozen, keyword-only, validated on creation, no cdktf import; the consumer-side pieces (function,
mapping, sink table, alarms, backend) are the shared props of `props.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

from xacct_streaming.settings import defaults
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.naming import check_stack
from xacct_streaming.settings.props import (
    AlarmProps,
    BackendProps,
    ConsumerFunctionProps,
    EventSourceMappingProps,
    SinkProps,
    function_props,
    STREAM_VIEW_TYPES,
    require_iterator_age_within,
)
from xacct_streaming.settings.patterns import (
    KMS_ALIAS as _KMS_ALIAS,
    KMS_ALIAS_TEXT as _KMS_ALIAS_TEXT,
    ATTRIBUTE_NAME as _ATTRIBUTE,
    TABLE_NAME as _TABLE_NAME,
    TABLE_NAME_TEXT as _TABLE_NAME_TEXT,
)
from xacct_streaming.settings.validation import require_bool, require_int, require_match, require_one_of


@dataclass(frozen=True, kw_only=True)
class SourceTableProps:
    """The producer's table whose stream is shared (seed 003)."""

    table_name: str = defaults.SOURCE_TABLE_NAME
    partition_key: str = defaults.SOURCE_TABLE_PARTITION_KEY
    sort_key: Optional[str] = defaults.SOURCE_TABLE_SORT_KEY
    stream_view_type: str = defaults.SOURCE_TABLE_STREAM_VIEW
    key_alias: str = defaults.SOURCE_TABLE_KEY_ALIAS
    key_deletion_window_days: int = defaults.KEY_DELETION_WINDOW_DAYS
    deletion_protection: bool = True

    def __post_init__(self) -> None:
        require_match("table.table_name", self.table_name, _TABLE_NAME, _TABLE_NAME_TEXT)
        require_match("table.partition_key", self.partition_key, _ATTRIBUTE, "an attribute name (1-255 of a-z A-Z 0-9 _ . -)")
        if self.sort_key is not None:
            require_match("table.sort_key", self.sort_key, _ATTRIBUTE, "an attribute name (1-255 of a-z A-Z 0-9 _ . -)")
            if self.sort_key == self.partition_key:
                raise ConfigError("table.sort_key", self.sort_key, "a name different from table.partition_key")
        require_one_of("table.stream_view_type", self.stream_view_type, STREAM_VIEW_TYPES)
        require_match("table.key_alias", self.key_alias, _KMS_ALIAS, _KMS_ALIAS_TEXT)
        require_int("table.key_deletion_window_days", self.key_deletion_window_days, 7, 30)
        require_bool("table.deletion_protection", self.deletion_protection)

@dataclass(frozen=True, kw_only=True)
class DynamoDBStreamsStackProps:
    """Seed 003: table + stream policy in the producer account, change consumer in the consumer account."""

    stack_name: str = defaults.DDB_STACK_NAME
    table: SourceTableProps = field(default_factory=SourceTableProps)
    function: ConsumerFunctionProps = field(
        default_factory=lambda: function_props(defaults.CHANGE_FUNCTION_NAME, defaults.CHANGE_FUNCTION_KEY_ALIAS)
    )
    mapping: EventSourceMappingProps = field(default_factory=EventSourceMappingProps)
    sink: SinkProps = field(default_factory=lambda: SinkProps(table_name=defaults.CHANGE_LOG_TABLE_NAME))
    alarms: AlarmProps = field(default_factory=AlarmProps)
    backend: BackendProps = field(default_factory=BackendProps)
    # Tags of every resource of this stack, over the `tags` variable's (provider default_tags).
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_stack(self)
        require_iterator_age_within(self.alarms, defaults.DYNAMODB_STREAM_RETENTION_HOURS, "a DynamoDB stream's retention")
        if not self.sink.creates_table:
            raise ConfigError("sink.role_arn", self.sink.role_arn, "no value: this stack keeps its change log in the consumer account")
