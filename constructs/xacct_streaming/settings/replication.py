"""Props of the replication kind (xacct-kinesis-replication, seed 001): replica table, delivery, the stack.

Frozen, keyword-only, validated on creation, no cdktf import; the consumer-side pieces (function,
mapping, sink table, alarms, backend) are the shared props of `props.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from xacct_streaming.settings import defaults
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.naming import check_stack
from xacct_streaming.settings.props import (
    LOG_RETENTION_DAYS,
    AlarmProps,
    BackendProps,
    ConsumerFunctionProps,
    EventSourceMappingProps,
    SharedStreamProps,
    on_demand_concurrency_warnings,
    require_concurrency_for_shards,
    require_distinct_aliases,
    function_props,
    require_iterator_age_within,
)
from xacct_streaming.settings.patterns import (
    KMS_ALIAS as _KMS_ALIAS,
    KMS_ALIAS_TEXT as _KMS_ALIAS_TEXT,
    IAM_ROLE_NAME,
    TABLE_NAME as _TABLE_NAME,
    TABLE_NAME_TEXT as _TABLE_NAME_TEXT,
)
from xacct_streaming.settings.validation import require_bool, require_int, require_match, require_one_of

COMPRESSION_FORMATS = ("UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY")
# S3 key prefixes Firehose accepts, ending in "/" so objects land in a folder of their own.
_S3_PREFIX = r"(?!/)[a-zA-Z0-9!_.*'()/=-]{0,1023}/"


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
        default_factory=lambda: function_props(defaults.WRITER_FUNCTION_NAME, defaults.WRITER_FUNCTION_KEY_ALIAS)
    )
    writer_mapping: EventSourceMappingProps = field(default_factory=EventSourceMappingProps)
    replica: ReplicaProps = field(default_factory=ReplicaProps)
    flattener: ConsumerFunctionProps = field(
        default_factory=lambda: function_props(defaults.FLATTENER_FUNCTION_NAME, defaults.FLATTENER_FUNCTION_KEY_ALIAS)
    )
    flattener_mapping: EventSourceMappingProps = field(default_factory=EventSourceMappingProps)
    delivery: DeliveryProps = field(default_factory=DeliveryProps)
    alarms: AlarmProps = field(default_factory=AlarmProps)
    backend: BackendProps = field(default_factory=BackendProps)
    # Tags of every resource of this stack, over the `tags` variable's (provider default_tags).
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_stack(self)
        # One threshold for the writer (the stream) and the flattener (the replica table's stream, 24 hours).
        require_iterator_age_within(self.alarms, min(self.stream.retention_period_hours, defaults.DYNAMODB_STREAM_RETENTION_HOURS),
                                    "the shorter of stream.retention_period_hours and the replica table stream's")
        # Both functions and the two keys live in the consumer account: names must not collide.
        require_concurrency_for_shards(self.stream, self.writer, self.writer_mapping, "writer", "writer_mapping")
        if self.flattener.function_name == self.writer.function_name:
            raise ConfigError("flattener.function_name", self.flattener.function_name, "a name different from writer.function_name")
        require_distinct_aliases(
            {"writer.key_alias": self.writer.key_alias, "stream.key_alias": self.stream.key_alias},
            (("flattener.key_alias", self.flattener.key_alias), ("delivery.key_alias", self.delivery.key_alias)),
        )


    @property
    def warnings(self) -> list[str]:
        return on_demand_concurrency_warnings(self.stack_name, self.stream, self.writer, self.writer_mapping, "writer", "writer_mapping")
