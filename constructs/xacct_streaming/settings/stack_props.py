"""Props of the seed stacks (seed 003: DynamoDB Streams; seed 001: the replication pipeline).

Same rules as `props.py`: frozen, keyword-only, validated on creation, no cdktf import. The
consumer-side pieces (function, mapping, sink table, alarms, backend) reuse the core props.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

from xacct_streaming.settings import defaults
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.naming import derive_names
from xacct_streaming.settings.props import (
    LOG_RETENTION_DAYS,
    AlarmProps,
    BackendProps,
    ConsumerFunctionProps,
    EventSourceMappingProps,
    SharedStreamProps,
    SinkProps,
    _KMS_ALIAS,
    on_demand_concurrency_warnings,
    _KMS_ALIAS_TEXT,
    require_concurrency_for_shards,
)
from xacct_streaming.settings.patterns import (
    ATTRIBUTE_NAME as _ATTRIBUTE,
    IAM_ROLE_NAME,
    STACK_NAME as _STACK_NAME,
    STACK_NAME_TEXT as _STACK_NAME_TEXT,
    TABLE_NAME as _TABLE_NAME,
    TABLE_NAME_TEXT as _TABLE_NAME_TEXT,
)
from xacct_streaming.settings.validation import require_bool, require_int, require_match, require_one_of, require_tags

STREAM_VIEW_TYPES = ("NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY")
COMPRESSION_FORMATS = ("UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY")
# S3 key prefixes Firehose accepts, ending in "/" so objects land in a folder of their own.
_S3_PREFIX = r"(?!/)[a-zA-Z0-9!_.*'()/=-]{0,1023}/"


def _require_distinct_aliases(taken: dict[str, str], candidates: tuple[tuple[str, str], ...]) -> None:
    """Keys of one stack live in two accounts, but one alias for two keys confuses every reader."""
    aliases = dict(taken)
    for name, alias in candidates:
        if alias in aliases.values():
            raise ConfigError(name, alias, "an alias not used by another key of this stack")
        aliases[name] = alias


def _function(name: str, alias: str) -> ConsumerFunctionProps:
    return ConsumerFunctionProps(function_name=name, key_alias=alias)


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
        default_factory=lambda: _function(defaults.CHANGE_FUNCTION_NAME, defaults.CHANGE_FUNCTION_KEY_ALIAS)
    )
    mapping: EventSourceMappingProps = field(default_factory=EventSourceMappingProps)
    sink: SinkProps = field(default_factory=lambda: SinkProps(table_name=defaults.CHANGE_LOG_TABLE_NAME))
    alarms: AlarmProps = field(default_factory=AlarmProps)
    backend: BackendProps = field(default_factory=BackendProps)
    # Tags of every resource of this stack, over the `tags` variable's (provider default_tags).
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_tags("tags", self.tags)
        require_match("stack_name", self.stack_name, _STACK_NAME, _STACK_NAME_TEXT)
        derive_names(self)
        if not self.sink.creates_table:
            raise ConfigError("sink.role_arn", self.sink.role_arn, "no value: this stack keeps its change log in the consumer account")


@dataclass(frozen=True, kw_only=True)
class ReplicaProps:
    """The analytics account's replica table and the role the writer assumes to fill it (seed 001)."""

    table_name: str = defaults.REPLICA_TABLE_NAME
    writer_role_name: str = defaults.REPLICA_WRITER_ROLE_NAME
    external_id: str = defaults.REPLICA_EXTERNAL_ID
    stream_view_type: str = defaults.REPLICA_STREAM_VIEW
    deletion_protection: bool = defaults.SINK_DELETION_PROTECTION

    def __post_init__(self) -> None:
        require_match("replica.table_name", self.table_name, _TABLE_NAME, _TABLE_NAME_TEXT)
        require_match("replica.writer_role_name", self.writer_role_name, IAM_ROLE_NAME, "an IAM role name (1-64 of a-z A-Z 0-9 + = , . @ _ -)")
        require_match("replica.external_id", self.external_id, r"[\w+=,.@:/-]{2,1224}", "2-1224 of letters, digits and +=,.@:/-")
        require_one_of("replica.stream_view_type", self.stream_view_type, ("NEW_AND_OLD_IMAGES", "NEW_IMAGE"))
        require_bool("replica.deletion_protection", self.deletion_protection)


@dataclass(frozen=True, kw_only=True)
class DeliveryProps:
    """Firehose to S3: prefix, buffering, compression, and the encrypted, versioned bucket."""

    delivery_stream_name: str = defaults.DELIVERY_STREAM_NAME
    bucket_prefix: str = defaults.DELIVERY_BUCKET_PREFIX
    prefix: str = defaults.DELIVERY_PREFIX
    error_output_prefix: str = defaults.DELIVERY_ERROR_PREFIX
    buffering_size_mb: int = defaults.DELIVERY_BUFFER_MB
    buffering_interval_seconds: int = defaults.DELIVERY_BUFFER_SECONDS
    compression_format: str = defaults.DELIVERY_COMPRESSION
    noncurrent_version_expiration_days: int = defaults.DELIVERY_NONCURRENT_VERSION_DAYS
    log_retention_days: int = defaults.LOG_RETENTION_DAYS
    key_alias: str = defaults.DELIVERY_KEY_ALIAS
    key_deletion_window_days: int = defaults.KEY_DELETION_WINDOW_DAYS

    def __post_init__(self) -> None:
        require_match("delivery.delivery_stream_name", self.delivery_stream_name, r"[a-zA-Z0-9_.-]{1,64}", "1-64 of a-z A-Z 0-9 _ . -")
        # <prefix>-<12-digit account>-<region of up to 14 characters> must fit S3's 63.
        require_match("delivery.bucket_prefix", self.bucket_prefix, r"[a-z0-9][a-z0-9-]{1,33}", "3-34 of a-z 0-9 -, starting with a letter or digit (the bucket is <prefix>-<account>-<region>)")
        require_match("delivery.prefix", self.prefix, _S3_PREFIX, "an S3 key prefix ending in '/' (no leading '/')")
        require_match("delivery.error_output_prefix", self.error_output_prefix, _S3_PREFIX, "an S3 key prefix ending in '/' (no leading '/')")
        if self.error_output_prefix == self.prefix:
            raise ConfigError("delivery.error_output_prefix", self.error_output_prefix, "a prefix different from delivery.prefix")
        require_int("delivery.buffering_size_mb", self.buffering_size_mb, 1, 128)
        require_int("delivery.buffering_interval_seconds", self.buffering_interval_seconds, 0, 900)
        require_one_of("delivery.compression_format", self.compression_format, COMPRESSION_FORMATS)
        require_int("delivery.noncurrent_version_expiration_days", self.noncurrent_version_expiration_days, 1, 3650)
        require_one_of("delivery.log_retention_days", self.log_retention_days, LOG_RETENTION_DAYS)
        require_match("delivery.key_alias", self.key_alias, _KMS_ALIAS, _KMS_ALIAS_TEXT)
        require_int("delivery.key_deletion_window_days", self.key_deletion_window_days, 7, 30)


@dataclass(frozen=True, kw_only=True)
class ReplicationStackProps:
    """Seed 001: stream + writer in the producer account; replica, flattener, Firehose, S3 in the consumer's."""

    stack_name: str = defaults.REPLICATION_STACK_NAME
    stream: SharedStreamProps = field(
        default_factory=lambda: SharedStreamProps(
            stream_name=defaults.REPLICATION_STREAM_NAME, key_alias=defaults.REPLICATION_STREAM_KEY_ALIAS
        )
    )
    writer: ConsumerFunctionProps = field(
        default_factory=lambda: _function(defaults.WRITER_FUNCTION_NAME, defaults.WRITER_FUNCTION_KEY_ALIAS)
    )
    writer_mapping: EventSourceMappingProps = field(default_factory=EventSourceMappingProps)
    replica: ReplicaProps = field(default_factory=ReplicaProps)
    flattener: ConsumerFunctionProps = field(
        default_factory=lambda: _function(defaults.FLATTENER_FUNCTION_NAME, defaults.FLATTENER_FUNCTION_KEY_ALIAS)
    )
    flattener_mapping: EventSourceMappingProps = field(default_factory=EventSourceMappingProps)
    delivery: DeliveryProps = field(default_factory=DeliveryProps)
    alarms: AlarmProps = field(default_factory=AlarmProps)
    backend: BackendProps = field(default_factory=BackendProps)
    # Tags of every resource of this stack, over the `tags` variable's (provider default_tags).
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_tags("tags", self.tags)
        require_match("stack_name", self.stack_name, _STACK_NAME, _STACK_NAME_TEXT)
        derive_names(self)
        # Both functions and the two keys live in the consumer account: names must not collide.
        require_concurrency_for_shards(self.stream, self.writer, self.writer_mapping, "writer", "writer_mapping")
        if self.flattener.function_name == self.writer.function_name:
            raise ConfigError("flattener.function_name", self.flattener.function_name, "a name different from writer.function_name")
        _require_distinct_aliases(
            {"writer.key_alias": self.writer.key_alias, "stream.key_alias": self.stream.key_alias},
            (("flattener.key_alias", self.flattener.key_alias), ("delivery.key_alias", self.delivery.key_alias)),
        )


    @property
    def warnings(self) -> list[str]:
        return on_demand_concurrency_warnings(self.stack_name, self.stream, self.writer, self.writer_mapping, "writer", "writer_mapping")


@dataclass(frozen=True, kw_only=True)
class NotificationProps:
    """The SES account's configuration set, its SNS event destination and the encrypted topic (seed 004)."""

    configuration_set_name: str = defaults.SES_CONFIGURATION_SET_NAME
    event_types: tuple[str, ...] = defaults.SES_EVENT_TYPES
    topic_name: str = defaults.SES_TOPIC_NAME
    topic_key_alias: str = defaults.SES_TOPIC_KEY_ALIAS
    key_deletion_window_days: int = defaults.KEY_DELETION_WINDOW_DAYS
    stream_writer_role_name: str = defaults.SES_STREAM_WRITER_ROLE_NAME

    def __post_init__(self) -> None:
        require_match("notifications.configuration_set_name", self.configuration_set_name, r"[a-zA-Z0-9_-]{1,64}", "1-64 of a-z A-Z 0-9 _ -")
        types = list(self.event_types) if isinstance(self.event_types, (list, tuple)) else None
        if not types or len(set(types)) != len(types):
            raise ConfigError("notifications.event_types", self.event_types, "a non-empty list of distinct SES event types")
        for event_type in types:
            require_one_of("notifications.event_types", event_type, defaults.SES_EVENT_TYPES)
        object.__setattr__(self, "event_types", tuple(types))  # TOML gives a list; props stay hashable
        require_match("notifications.topic_name", self.topic_name, r"[a-zA-Z0-9_-]{1,256}", "1-256 of a-z A-Z 0-9 _ -")
        require_match("notifications.topic_key_alias", self.topic_key_alias, _KMS_ALIAS, _KMS_ALIAS_TEXT)
        require_int("notifications.key_deletion_window_days", self.key_deletion_window_days, 7, 30)
        require_match("notifications.stream_writer_role_name", self.stream_writer_role_name, IAM_ROLE_NAME, "an IAM role name (1-64 of a-z A-Z 0-9 + = , . @ _ -)")


@dataclass(frozen=True, kw_only=True)
class SesNotificationsStackProps:
    """Seed 004: stream + writer role in the producer account; SES, topic, forwarder in the consumer account."""

    stack_name: str = defaults.SES_STACK_NAME
    stream: SharedStreamProps = field(
        default_factory=lambda: SharedStreamProps(stream_name=defaults.SES_STREAM_NAME, key_alias=defaults.SES_STREAM_KEY_ALIAS)
    )
    forwarder: ConsumerFunctionProps = field(
        default_factory=lambda: _function(defaults.SES_FORWARDER_FUNCTION_NAME, defaults.SES_FORWARDER_KEY_ALIAS)
    )
    notifications: NotificationProps = field(default_factory=NotificationProps)
    alarms: AlarmProps = field(default_factory=AlarmProps)
    backend: BackendProps = field(default_factory=BackendProps)
    # Tags of every resource of this stack, over the `tags` variable's (provider default_tags).
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_tags("tags", self.tags)
        require_match("stack_name", self.stack_name, _STACK_NAME, _STACK_NAME_TEXT)
        derive_names(self)
        if self.notifications.topic_key_alias == self.forwarder.key_alias:
            raise ConfigError("notifications.topic_key_alias", self.notifications.topic_key_alias, "an alias different from forwarder.key_alias")


@dataclass(frozen=True, kw_only=True)
class IngestApiProps:
    """The REST API in front of the stream: route, basic-auth secret, throttling, logs (seed 002)."""

    api_name: str = defaults.API_NAME
    stage_name: str = defaults.API_STAGE_NAME
    route: str = defaults.API_ROUTE
    username: str = defaults.API_USERNAME
    secret_name: str = defaults.API_SECRET_NAME
    password_length: int = defaults.API_PASSWORD_LENGTH
    # Terraform writes a fresh password when this changes (and only then): rotate by raising it.
    password_version: int = 1
    throttling_rate_limit: int = defaults.API_THROTTLE_RATE
    throttling_burst_limit: int = defaults.API_THROTTLE_BURST
    access_log_retention_days: int = defaults.LOG_RETENTION_DAYS
    key_alias: str = defaults.API_KEY_ALIAS
    key_deletion_window_days: int = defaults.KEY_DELETION_WINDOW_DAYS
    # API Gateway writes access logs through one CloudWatch role per account and region
    # (aws_api_gateway_account): managing it here would take logging from every other API there.
    # Off: the account must have it set (make preflight checks); on: this stack manages it.
    manage_account_logging_role: bool = False

    def __post_init__(self) -> None:
        require_match("api.api_name", self.api_name, r"[a-zA-Z0-9_-]{1,64}", "1-64 of a-z A-Z 0-9 _ -")
        require_match("api.stage_name", self.stage_name, r"[a-zA-Z0-9_]{1,128}", "1-128 of a-z A-Z 0-9 _")
        require_match("api.route", self.route, r"[a-z0-9-]{1,64}", "one path segment: 1-64 of a-z 0-9 -")
        require_match("api.username", self.username, r"[a-zA-Z0-9._-]{3,64}", "3-64 of a-z A-Z 0-9 . _ - (no ':', which ends the user in a Basic header)")
        require_match("api.secret_name", self.secret_name, r"[a-zA-Z0-9/_+=.@-]{1,512}", "a Secrets Manager name (1-512 of a-z A-Z 0-9 / _ + = . @ -)")
        require_int("api.password_length", self.password_length, 24, 128)
        require_int("api.password_version", self.password_version, 1, 2**31 - 1)
        require_int("api.throttling_rate_limit", self.throttling_rate_limit, 1, 10_000)
        require_int("api.throttling_burst_limit", self.throttling_burst_limit, 1, 5_000)
        require_one_of("api.access_log_retention_days", self.access_log_retention_days, LOG_RETENTION_DAYS)
        require_match("api.key_alias", self.key_alias, _KMS_ALIAS, _KMS_ALIAS_TEXT)
        require_int("api.key_deletion_window_days", self.key_deletion_window_days, 7, 30)
        require_bool("api.manage_account_logging_role", self.manage_account_logging_role)


def _authorizer() -> ConsumerFunctionProps:
    return ConsumerFunctionProps(
        function_name=defaults.API_AUTHORIZER_FUNCTION_NAME,
        key_alias=defaults.API_AUTHORIZER_KEY_ALIAS,
        memory_size_mb=defaults.AUTHORIZER_MEMORY_MB,
        timeout_seconds=defaults.AUTHORIZER_TIMEOUT_SECONDS,
    )


@dataclass(frozen=True, kw_only=True)
class ApiIngestStackProps:
    """Seed 002: stream (shared both ways) in the producer account; API, authorizer, consumer, table in the consumer's."""

    stack_name: str = defaults.API_STACK_NAME
    stream: SharedStreamProps = field(
        default_factory=lambda: SharedStreamProps(
            stream_name=defaults.API_STREAM_NAME, key_alias=defaults.API_STREAM_KEY_ALIAS, consumer_name=defaults.API_STREAM_CONSUMER_NAME
        )
    )
    api: IngestApiProps = field(default_factory=IngestApiProps)
    authorizer: ConsumerFunctionProps = field(default_factory=_authorizer)
    function: ConsumerFunctionProps = field(
        default_factory=lambda: _function(defaults.API_CONSUMER_FUNCTION_NAME, defaults.API_CONSUMER_KEY_ALIAS)
    )
    mapping: EventSourceMappingProps = field(default_factory=EventSourceMappingProps)
    sink: SinkProps = field(default_factory=lambda: SinkProps(table_name=defaults.API_SINK_TABLE_NAME))
    alarms: AlarmProps = field(default_factory=AlarmProps)
    backend: BackendProps = field(default_factory=BackendProps)
    # Tags of every resource of this stack, over the `tags` variable's (provider default_tags).
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_tags("tags", self.tags)
        require_match("stack_name", self.stack_name, _STACK_NAME, _STACK_NAME_TEXT)
        derive_names(self)
        require_concurrency_for_shards(self.stream, self.function, self.mapping)
        if self.authorizer.function_name == self.function.function_name:
            raise ConfigError("authorizer.function_name", self.authorizer.function_name, "a name different from function.function_name")
        _require_distinct_aliases(
            {"function.key_alias": self.function.key_alias},
            (("authorizer.key_alias", self.authorizer.key_alias), ("api.key_alias", self.api.key_alias)),
        )
        if not self.sink.creates_table:
            raise ConfigError("sink.role_arn", self.sink.role_arn, "no value: this stack keeps its table in the consumer account")

    @property
    def warnings(self) -> list[str]:
        return on_demand_concurrency_warnings(self.stack_name, self.stream, self.function, self.mapping)
