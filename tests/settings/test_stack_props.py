"""Bad settings of the seed stacks fail at synth time, naming the field, the value and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from xacct_streaming.settings.config import props_from_mapping
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.api_ingest import ApiIngestStackProps
from xacct_streaming.settings.dynamodb_streams import DynamoDBStreamsStackProps
from xacct_streaming.settings.replication import ReplicationStackProps
from xacct_streaming.settings.ses_notifications import SesNotificationsStackProps

DDB = "xacct-dynamodb-streams"
REPLICATION = "xacct-kinesis-replication"
SES = "xacct-ses-notifications"
API = "xacct-api-ingest"


def test_defaults_are_valid_and_kind_selects_the_props_class() -> None:
    assert props_from_mapping({"kind": DDB}) == DynamoDBStreamsStackProps()
    assert props_from_mapping({"kind": REPLICATION}) == ReplicationStackProps()
    assert props_from_mapping({"kind": SES}) == SesNotificationsStackProps()
    assert props_from_mapping({"kind": API}) == ApiIngestStackProps()


def test_event_types_from_a_settings_file_become_a_tuple() -> None:
    props = props_from_mapping({"kind": SES, "notifications": {"event_types": ["bounce", "complaint"]}})
    assert props.notifications.event_types == ("bounce", "complaint")


def test_a_settings_file_overrides_only_what_it_names() -> None:
    props = props_from_mapping({"kind": REPLICATION, "delivery": {"buffering_size_mb": 64, "compression_format": "Snappy"}, "replica": {"external_id": "pairing-42"}})
    assert (props.delivery.buffering_size_mb, props.delivery.compression_format, props.replica.external_id) == (64, "Snappy", "pairing-42")
    assert props.delivery.prefix == "changes/" and props.writer.function_name == "xacct-replica-writer"


@pytest.mark.parametrize(
    "data, field, value, allowed",
    [
        pytest.param({"kind": "nope"}, "kind", "nope", "one of 'xacct-kinesis-efo'", id="unknown-kind"),
        pytest.param({"kind": DDB, "stream": {}}, "stream", {}, "one of kind, stack_name, tags, table, function", id="core-table-in-ddb-file"),
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
        pytest.param({"kind": SES, "notifications": {"event_types": []}}, "notifications.event_types", [], "a non-empty list of distinct SES event types", id="no-event-types"),
        pytest.param({"kind": SES, "notifications": {"event_types": ["send", "send"]}}, "notifications.event_types", ["send", "send"], "distinct", id="duplicate-event-type"),
        pytest.param({"kind": SES, "notifications": {"event_types": ["deliveryDelay"]}}, "notifications.event_types", "deliveryDelay", "one of 'send'", id="unknown-event-type"),
        pytest.param({"kind": SES, "notifications": {"configuration_set_name": "mail set"}}, "notifications.configuration_set_name", "mail set", "1-64 of a-z", id="config-set-space"),
        pytest.param({"kind": SES, "notifications": {"topic_key_alias": "alias/xacct-ses-forwarder"}}, "notifications.topic_key_alias", "alias/xacct-ses-forwarder", "an alias different from forwarder.key_alias", id="topic-alias-clash"),
        pytest.param({"kind": SES, "forwarder": {"timeout_seconds": 0}}, "forwarder.timeout_seconds", 0, "an integer from 1 to 900", id="forwarder-table-named"),
        pytest.param({"kind": API, "api": {"username": "in:gest"}}, "api.username", "in:gest", "no ':'", id="username-colon"),
        pytest.param({"kind": API, "api": {"password_length": 12}}, "api.password_length", 12, "an integer from 24 to 128", id="short-password"),
        pytest.param({"kind": API, "api": {"route": "submit/{eventId}"}}, "api.route", "submit/{eventId}", "one path segment", id="route-two-segments"),
        pytest.param({"kind": API, "api": {"throttling_rate_limit": 0}}, "api.throttling_rate_limit", 0, "an integer from 1 to 10000", id="no-throughput"),
        pytest.param({"kind": API, "api": {"manage_account_logging_role": "yes"}}, "api.manage_account_logging_role", "yes", "true or false", id="logging-role-text"),
        pytest.param({"kind": API, "authorizer": {"function_name": "xacct-ingest-consumer"}}, "authorizer.function_name", "xacct-ingest-consumer", "a name different from function.function_name", id="same-function-names"),
        pytest.param({"kind": API, "api": {"key_alias": "alias/xacct-ingest-consumer-fn"}}, "api.key_alias", "alias/xacct-ingest-consumer-fn", "an alias not used by another key", id="api-alias-clash"),
    ],
)
def test_bad_settings_name_field_value_and_allowed(data: dict[str, Any], field: str, value: Any, allowed: str) -> None:
    with pytest.raises(ConfigError) as raised:
        props_from_mapping(data)
    assert (raised.value.field, raised.value.value) == (field, value)
    assert allowed in raised.value.allowed
