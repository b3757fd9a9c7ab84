"""Bad settings of the seed stacks fail at synth time, naming the field, the value and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from xacct_streaming.config import props_from_mapping
from xacct_streaming.errors import ConfigError
from xacct_streaming.props_seeds import DynamoDBStreamsStackProps, ReplicationStackProps

DDB = "xacct-dynamodb-streams"
REPLICATION = "xacct-kinesis-replication"


def test_defaults_are_valid_and_kind_selects_the_props_class() -> None:
    assert props_from_mapping({"kind": DDB}) == DynamoDBStreamsStackProps()
    assert props_from_mapping({"kind": REPLICATION}) == ReplicationStackProps()


def test_a_settings_file_overrides_only_what_it_names() -> None:
    props = props_from_mapping({"kind": REPLICATION, "delivery": {"buffering_size_mb": 64, "compression_format": "Snappy"}, "replica": {"external_id": "pairing-42"}})
    assert (props.delivery.buffering_size_mb, props.delivery.compression_format, props.replica.external_id) == (64, "Snappy", "pairing-42")
    assert props.delivery.prefix == "changes/" and props.writer.function_name == "xacct-replica-writer"


@pytest.mark.parametrize(
    "data, field, value, allowed",
    [
        pytest.param({"kind": "nope"}, "kind", "nope", "one of 'xacct-kinesis-efo'", id="unknown-kind"),
        pytest.param({"kind": DDB, "stream": {}}, "stream", {}, "one of kind, stack_name, table, function", id="core-table-in-ddb-file"),
        pytest.param({"kind": DDB, "table": {"stream_view_type": "ALL"}}, "table.stream_view_type", "ALL", "one of 'NEW_AND_OLD_IMAGES'", id="stream-view"),
        pytest.param({"kind": DDB, "table": {"sort_key": "pk"}}, "table.sort_key", "pk", "a name different from table.partition_key", id="sort-equals-partition"),
        pytest.param({"kind": DDB, "table": {"key_alias": "alias/aws/dynamodb"}}, "table.key_alias", "alias/aws/dynamodb", "not in the reserved 'alias/aws/' namespace", id="aws-managed-alias"),
        pytest.param({"kind": DDB, "sink": {"role_arn": "arn:aws:iam::333333333333:role/x"}}, "sink.role_arn", "arn:aws:iam::333333333333:role/x", "no value: this stack keeps its change log", id="ddb-sink-role"),
        pytest.param({"kind": REPLICATION, "replica": {"external_id": "x"}}, "replica.external_id", "x", "2-1224 of letters", id="short-external-id"),
        pytest.param({"kind": REPLICATION, "replica": {"stream_view_type": "KEYS_ONLY"}}, "replica.stream_view_type", "KEYS_ONLY", "one of 'NEW_AND_OLD_IMAGES', 'NEW_IMAGE'", id="keys-only-replica"),
        pytest.param({"kind": REPLICATION, "delivery": {"bucket_prefix": "Upper"}}, "delivery.bucket_prefix", "Upper", "3-34 of a-z 0-9 -", id="bucket-prefix-case"),
        pytest.param({"kind": REPLICATION, "delivery": {"error_output_prefix": "changes/"}}, "delivery.error_output_prefix", "changes/", "a prefix different from delivery.prefix", id="same-prefixes"),
        pytest.param({"kind": REPLICATION, "delivery": {"buffering_size_mb": 129}}, "delivery.buffering_size_mb", 129, "an integer from 1 to 128", id="buffer-too-big"),
        pytest.param({"kind": REPLICATION, "delivery": {"compression_format": "gzip"}}, "delivery.compression_format", "gzip", "one of 'UNCOMPRESSED', 'GZIP'", id="compression-case"),
        pytest.param({"kind": REPLICATION, "flattener": {"function_name": "xacct-replica-writer"}}, "flattener.function_name", "xacct-replica-writer", "a name different from writer.function_name", id="same-function-names"),
        pytest.param({"kind": REPLICATION, "delivery": {"key_alias": "alias/xacct-replica-to-firehose"}}, "delivery.key_alias", "alias/xacct-replica-to-firehose", "an alias not used by another key", id="shared-alias"),
        pytest.param({"kind": REPLICATION, "flattener_mapping": {"batch_size": 0}}, "flattener_mapping.batch_size", 0, "an integer from 1 to 10000", id="mapping-table-named"),
    ],
)
def test_bad_settings_name_field_value_and_allowed(data: dict[str, Any], field: str, value: Any, allowed: str) -> None:
    with pytest.raises(ConfigError) as raised:
        props_from_mapping(data)
    assert (raised.value.field, raised.value.value) == (field, value)
    assert allowed in raised.value.allowed
