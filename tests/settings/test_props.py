"""Every validation rule of the props dataclasses, with the message it must give."""

from __future__ import annotations

import dataclasses

import pytest

from conftest import STATE_KEY_ARN, STATE_ROLE_ARN
from xacct_streaming.settings import defaults
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.props import (
    AlarmProps,
    BackendProps,
    ConsumerFunctionProps,
    EventSourceMappingProps,
    SharedStreamProps,
    ExistingStreamProps,
    SinkProps,
)
from xacct_streaming.settings.kinesis_efo import StackProps

S3_STATE = {"kind": "s3", "bucket": "state-b", "region": "eu-west-1", "role_arn": STATE_ROLE_ARN, "kms_key_id": STATE_KEY_ARN}

STREAM_ARN = "arn:aws:kinesis:eu-west-1:111111111111:stream/orders"
KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/0f3b1c2d-1111-2222-3333-444455556666"


def test_defaults_are_valid_and_come_from_the_defaults_module() -> None:
    # GIVEN / WHEN
    props = StackProps()
    # THEN
    assert props.stack_name == defaults.STACK_NAME
    assert props.stream.stream_mode == "ON_DEMAND" and props.stream.shard_count is None
    assert props.mapping.starting_position == "TRIM_HORIZON"
    assert props.mapping.maximum_retry_attempts == defaults.MAXIMUM_RETRY_ATTEMPTS
    assert props.function.log_retention_days == 365
    assert props.backend.kind == "local"


def test_overrides_with_dataclasses_replace_are_validated_again() -> None:
    # GIVEN
    stream = SharedStreamProps()
    # WHEN
    provisioned = dataclasses.replace(stream, stream_mode="PROVISIONED", shard_count=2)
    # THEN
    assert (provisioned.stream_mode, provisioned.shard_count) == ("PROVISIONED", 2)
    with pytest.raises(ConfigError, match=r"stream\.shard_count: 0 is not allowed; expected an integer from 1 to 500"):
        dataclasses.replace(provisioned, shard_count=0)


def test_props_are_frozen_and_keyword_only() -> None:
    props = EventSourceMappingProps()
    with pytest.raises(dataclasses.FrozenInstanceError):
        props.batch_size = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        EventSourceMappingProps("LATEST")  # type: ignore[misc]


def test_derived_names_of_the_consumer_side() -> None:
    props = ConsumerFunctionProps(function_name="orders-reader")
    assert props.role_name == "orders-reader-role"
    assert props.log_group_name == "/aws/lambda/orders-reader"
    assert props.dead_letter_queue_name == "orders-reader-dlq"
    assert props.on_failure_queue_name == "orders-reader-on-failure"


BAD = [
    # (props class, kwargs, field named in the message, fragment of what is allowed)
    pytest.param(SharedStreamProps, {"stream_name": "has space"}, "stream.stream_name", "1-128 of", id="stream-name-chars"),
    pytest.param(SharedStreamProps, {"stream_name": "x" * 129}, "stream.stream_name", "1-128 of", id="stream-name-long"),
    pytest.param(SharedStreamProps, {"monthly_data_gb": -1}, "stream.monthly_data_gb", "a number from 0 to 10,000,000", id="usage-negative"),
    pytest.param(SharedStreamProps, {"monthly_data_gb": "100 GB"}, "stream.monthly_data_gb", "a number from 0 to 10,000,000", id="usage-text"),
    pytest.param(SharedStreamProps, {"stream_mode": "on_demand"}, "stream.stream_mode", "'ON_DEMAND', 'PROVISIONED'", id="stream-mode"),
    pytest.param(SharedStreamProps, {"stream_mode": "PROVISIONED"}, "stream.shard_count", "from 1 to 500", id="provisioned-needs-shards"),
    pytest.param(SharedStreamProps, {"stream_mode": "PROVISIONED", "shard_count": 501}, "stream.shard_count", "from 1 to 500", id="shards-high"),
    pytest.param(SharedStreamProps, {"shard_count": 2}, "stream.shard_count", "no value when stream_mode is 'ON_DEMAND'", id="on-demand-no-shards"),
    pytest.param(SharedStreamProps, {"retention_period_hours": 23}, "stream.retention_period_hours", "from 24 to 8760", id="retention-low"),
    pytest.param(SharedStreamProps, {"retention_period_hours": 8761}, "stream.retention_period_hours", "from 24 to 8760", id="retention-high"),
    pytest.param(SharedStreamProps, {"consumer_name": ""}, "stream.consumer_name", "1-128 of", id="consumer-name-empty"),
    pytest.param(SharedStreamProps, {"key_alias": "xacct"}, "stream.key_alias", "'alias/' followed by", id="alias-prefix"),
    pytest.param(SharedStreamProps, {"key_alias": "alias/aws/kinesis"}, "stream.key_alias", "reserved 'alias/aws/'", id="alias-aws-managed"),
    pytest.param(SharedStreamProps, {"key_deletion_window_days": 6}, "stream.key_deletion_window_days", "from 7 to 30", id="stream-key-window"),
    pytest.param(SharedStreamProps, {"on_demand_advantage": "yes"}, "stream.on_demand_advantage", "true or false", id="advantage-not-a-boolean"),
    pytest.param(SharedStreamProps, {"on_demand_advantage": True, "stream_mode": "PROVISIONED", "shard_count": 2}, "stream.on_demand_advantage",
                 "false when stream_mode is not 'ON_DEMAND'", id="advantage-provisioned"),
    pytest.param(SharedStreamProps, {"warm_throughput_mib_ps": 100}, "stream.warm_throughput_mib_ps",
                 "no value unless stream.on_demand_advantage = true", id="warm-without-advantage"),
    pytest.param(SharedStreamProps, {"on_demand_advantage": True, "warm_throughput_mib_ps": 0}, "stream.warm_throughput_mib_ps",
                 "an integer from 1 to 10240", id="warm-zero"),
    pytest.param(SharedStreamProps, {"on_demand_advantage": True, "warm_throughput_mib_ps": 10_241}, "stream.warm_throughput_mib_ps",
                 "an integer from 1 to 10240", id="warm-over-10-gib"),
    pytest.param(ConsumerFunctionProps, {"function_name": "a.b"}, "function.function_name", "1-53 of", id="function-name-chars"),
    pytest.param(ConsumerFunctionProps, {"function_name": "f" * 54}, "function.function_name", "1-53 of", id="function-name-long"),
    pytest.param(ConsumerFunctionProps, {"runtime": "python3.8"}, "function.runtime", "'python3.12', 'python3.13'", id="runtime"),
    pytest.param(ConsumerFunctionProps, {"architecture": "arm"}, "function.architecture", "'arm64', 'x86_64'", id="architecture"),
    pytest.param(ConsumerFunctionProps, {"memory_size_mb": 127}, "function.memory_size_mb", "from 128 to 10240", id="memory-low"),
    pytest.param(ConsumerFunctionProps, {"memory_size_mb": 10241}, "function.memory_size_mb", "from 128 to 10240", id="memory-high"),
    pytest.param(ConsumerFunctionProps, {"timeout_seconds": 0}, "function.timeout_seconds", "from 1 to 900", id="timeout-low"),
    pytest.param(ConsumerFunctionProps, {"timeout_seconds": 901}, "function.timeout_seconds", "from 1 to 900", id="timeout-high"),
    pytest.param(ConsumerFunctionProps, {"reserved_concurrency": 0}, "function.reserved_concurrency",
                 "-1 (unreserved: the account's shared pool) or an integer from 1 to 900", id="concurrency-zero-stops-the-function"),
    pytest.param(ConsumerFunctionProps, {"reserved_concurrency": -2}, "function.reserved_concurrency", "-1 (unreserved", id="concurrency-negative"),
    pytest.param(ConsumerFunctionProps, {"reserved_concurrency": 901}, "function.reserved_concurrency", "from 1 to 900", id="concurrency-high"),
    pytest.param(ConsumerFunctionProps, {"log_level": "TRACE"}, "function.log_level", "'DEBUG', 'INFO'", id="log-level"),
    pytest.param(ConsumerFunctionProps, {"log_retention_days": 30}, "function.log_retention_days", "365, 400", id="log-retention-short"),
    pytest.param(ConsumerFunctionProps, {"log_retention_days": 366}, "function.log_retention_days", "365, 400", id="log-retention-not-cloudwatch"),
    pytest.param(ConsumerFunctionProps, {"queue_message_retention_seconds": 59}, "function.queue_message_retention_seconds", "from 60 to 1209600", id="queue-retention-low"),
    pytest.param(ConsumerFunctionProps, {"queue_message_retention_seconds": 1_209_601}, "function.queue_message_retention_seconds", "from 60 to 1209600", id="queue-retention-high"),
    pytest.param(ConsumerFunctionProps, {"key_alias": "alias/aws/lambda"}, "function.key_alias", "reserved 'alias/aws/'", id="function-alias-aws"),
    pytest.param(ConsumerFunctionProps, {"key_deletion_window_days": 31}, "function.key_deletion_window_days", "from 7 to 30", id="function-key-window"),
    pytest.param(ConsumerFunctionProps, {"runtime": "nodejs22.x"}, "function.runtime", "the built-in runtime; set source_dir or zip_file", id="runtime-builtin-needs-python"),
    pytest.param(ConsumerFunctionProps, {"source_dir": "/no/such/dir", "handler": "app.handler"}, "function.source_dir", "an existing directory", id="source-dir-missing"),
    pytest.param(ConsumerFunctionProps, {"source_dir": "."}, "function.handler", "the handler in function.source_dir", id="source-dir-needs-handler"),
    pytest.param(ConsumerFunctionProps, {"zip_file": "/no/such.zip", "handler": "app.handler"}, "function.zip_file", "an existing zip file", id="zip-file-missing"),
    pytest.param(ConsumerFunctionProps, {"zip_file": "a.zip", "image_uri": "x"}, "function.image_uri", "no value when function.zip_file is set", id="two-code-sources"),
    pytest.param(ConsumerFunctionProps, {"image_uri": "docker.io/library/python:3.12"}, "function.image_uri", "Lambda pulls only from ECR", id="image-not-ecr"),
    pytest.param(ConsumerFunctionProps, {"image_uri": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/repo"}, "function.image_uri", "an ECR image URI", id="image-without-tag"),
    pytest.param(ConsumerFunctionProps, {"image_uri": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/repo:1", "handler": "app.h"}, "function.handler", "the image's CMD", id="image-with-handler"),
    pytest.param(ConsumerFunctionProps, {"handler": "lambda handler"}, "function.handler", "module.function", id="handler-space"),
    pytest.param(ConsumerFunctionProps, {"layers": ["arn:aws:lambda:eu-west-1:111111111111:function:f"]}, "function.layers", "layer version ARNs", id="layer-not-a-layer"),
    pytest.param(ConsumerFunctionProps, {"layers": [f"arn:aws:lambda:eu-west-1:111111111111:layer:l:{n}" for n in range(6)]}, "function.layers", "at most 5", id="layers-too-many"),
    pytest.param(ConsumerFunctionProps, {"package_exclude": ["tests/**"]}, "function.package_exclude", "no value without source_dir", id="package-exclude-without-source-dir"),
    pytest.param(ConsumerFunctionProps, {"package_include": [""]}, "function.package_include", "glob patterns on paths relative to source_dir", id="package-include-empty-pattern"),
    pytest.param(ConsumerFunctionProps, {"subnet_ids": ["subnet-0123456789abcdef0"]}, "function.security_group_ids", "both or neither", id="vpc-subnets-only"),
    pytest.param(ConsumerFunctionProps, {"subnet_ids": ["subnet-1"], "security_group_ids": ["sg-0123456789abcdef0"]}, "function.subnet_ids", "subnet ids such as", id="vpc-subnet-id"),
    pytest.param(ConsumerFunctionProps, {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": ["default"]}, "function.security_group_ids", "security group ids such as", id="vpc-security-group-id"),
    pytest.param(ConsumerFunctionProps, {"environment": {"AWS_REGION": "eu-west-1"}}, "function.environment.AWS_REGION", "Lambda does not reserve", id="environment-reserved"),
    pytest.param(ConsumerFunctionProps, {"environment": {"1X": "v"}}, "function.environment.1X", "letters, digits and _", id="environment-name"),
    pytest.param(ConsumerFunctionProps, {"environment": {"X": 1}}, "function.environment.X", "a string value", id="environment-value"),
    pytest.param(ConsumerFunctionProps, {"tags": {"aws:team": "x"}}, "function.tags.aws:team", "not starting with 'aws:'", id="function-tags"),
    pytest.param(SharedStreamProps, {"tags": {"team": 1}}, "stream.tags.team", "values up to 256", id="stream-tags"),
    pytest.param(EventSourceMappingProps, {"starting_position": "AT_TIMESTAMP"}, "mapping.starting_position", "'TRIM_HORIZON', 'LATEST'", id="starting-position"),
    pytest.param(EventSourceMappingProps, {"batch_size": 0}, "mapping.batch_size", "from 1 to 10000", id="batch-low"),
    pytest.param(EventSourceMappingProps, {"batch_size": 10_001}, "mapping.batch_size", "from 1 to 10000", id="batch-high"),
    pytest.param(EventSourceMappingProps, {"batch_size": "100"}, "mapping.batch_size", "from 1 to 10000", id="batch-string"),
    pytest.param(EventSourceMappingProps, {"batch_size": True}, "mapping.batch_size", "from 1 to 10000", id="batch-bool"),
    pytest.param(EventSourceMappingProps, {"maximum_batching_window_seconds": 301}, "mapping.maximum_batching_window_seconds", "from 0 to 300", id="window-high"),
    pytest.param(EventSourceMappingProps, {"maximum_retry_attempts": -1}, "mapping.maximum_retry_attempts", "from 0 to 10000", id="retries-infinite"),
    pytest.param(EventSourceMappingProps, {"maximum_retry_attempts": 10_001}, "mapping.maximum_retry_attempts", "from 0 to 10000", id="retries-high"),
    pytest.param(EventSourceMappingProps, {"maximum_record_age_seconds": 59}, "mapping.maximum_record_age_seconds",
                 "-1 (as long as the source holds the record) or an integer from 60 to 604800", id="record-age-below-60"),
    pytest.param(EventSourceMappingProps, {"maximum_record_age_seconds": -2}, "mapping.maximum_record_age_seconds", "-1 (as long", id="record-age-negative"),
    pytest.param(EventSourceMappingProps, {"maximum_record_age_seconds": -1.0}, "mapping.maximum_record_age_seconds", "-1 (as long", id="record-age-float"),
    pytest.param(EventSourceMappingProps, {"maximum_record_age_seconds": 604_801}, "mapping.maximum_record_age_seconds", "from 60 to 604800", id="record-age-high"),
    pytest.param(EventSourceMappingProps, {"parallelization_factor": 11}, "mapping.parallelization_factor", "from 1 to 10", id="parallelization-high"),
    pytest.param(EventSourceMappingProps, {"enabled": "yes"}, "mapping.enabled", "true or false", id="enabled-string"),
    pytest.param(EventSourceMappingProps, {"event_count_metrics": "yes"}, "mapping.event_count_metrics", "true or false", id="event-count-metrics"),
    pytest.param(SinkProps, {"table_name": "ab"}, "sink.table_name", "3-255 of", id="sink-table-short"),
    pytest.param(SinkProps, {"role_arn": "arn:aws:iam::333333333333:root"}, "sink.role_arn", "an IAM role ARN", id="sink-role-root"),
    pytest.param(SinkProps, {"role_arn": "arn:aws:iam::333333333333:role/w", "region": "Europe"}, "sink.region", "a region that the pinned AWS provider (hashicorp/aws 5.100.0) knows: af-south-1,", id="sink-region"),
    pytest.param(SinkProps, {"external_id": "ext-1"}, "sink.external_id", "no value unless sink.role_arn is set", id="external-id-without-role"),
    pytest.param(SinkProps, {"role_arn": "arn:aws:iam::333333333333:role/w", "external_id": "x"}, "sink.external_id", "2-1224 of", id="external-id-short"),
    pytest.param(SinkProps, {"deletion_protection": "no"}, "sink.deletion_protection", "true or false", id="deletion-protection"),
    pytest.param(AlarmProps, {"iterator_age_threshold_seconds": 59}, "alarms.iterator_age_threshold_seconds", "from 60 to 31536000", id="iterator-age-low"),
    pytest.param(AlarmProps, {"read_throughput_exceeded_threshold": 0}, "alarms.read_throughput_exceeded_threshold", "from 1 to 1000000", id="read-throttled-threshold"),
    pytest.param(AlarmProps, {"api_5xx_threshold": 0}, "alarms.api_5xx_threshold", "from 1 to 1000000", id="api-5xx-threshold"),
    pytest.param(AlarmProps, {"dashboard": "no"}, "alarms.dashboard", "true or false", id="dashboard"),
    pytest.param(AlarmProps, {"subscriptions": "ops@example.com"}, "alarms.subscriptions", "a list of tables { protocol", id="subscriptions-not-a-list"),
    pytest.param(AlarmProps, {"subscriptions": [{"protocol": "sms", "endpoint": "+15555550100"}]}, "alarms.subscriptions.protocol",
                 "one of 'email', 'https', 'sqs', 'lambda'", id="subscription-protocol"),
    pytest.param(AlarmProps, {"subscriptions": [{"protocol": "email", "endpoint": "ops"}]}, "alarms.subscriptions.endpoint (email)",
                 "an email address", id="subscription-email"),
    pytest.param(AlarmProps, {"subscriptions": [{"protocol": "https", "endpoint": "http://hooks.example.com/x"}]}, "alarms.subscriptions.endpoint (https)",
                 "an https:// URL", id="subscription-http"),
    pytest.param(AlarmProps, {"subscriptions": [{"protocol": "sqs", "endpoint": "arn:aws:sqs:eu-west-1:222222222222:ops"}]}, "alarms.subscriptions.account",
                 "the name of the stack account whose alarm topic the sqs endpoint subscribes to", id="subscription-queue-without-account"),
    pytest.param(AlarmProps, {"subscriptions": [{"protocol": "lambda", "endpoint": "arn:aws:sqs:eu-west-1:222222222222:ops", "account": "consumer"}]},
                 "alarms.subscriptions.endpoint (lambda)", "a Lambda function ARN", id="subscription-function-not-a-function"),
    pytest.param(AlarmProps, {"subscriptions": [{"protocol": "email", "endpoint": "ops@example.com", "to": "x"}]}, "alarms.subscriptions",
                 "a list of tables { protocol", id="subscription-unknown-key"),
    pytest.param(AlarmProps, {"subscriptions": [{"protocol": "email", "endpoint": "ops@example.com"}] * 2}, "alarms.subscriptions",
                 "distinct subscriptions", id="subscription-twice"),
    pytest.param(AlarmProps, {"existing_topic_arns": {"consumer": "arn:aws:sqs:eu-west-1:222222222222:ops"}}, "alarms.existing_topic_arns.consumer",
                 "an SNS topic ARN", id="existing-topic-not-a-topic"),
    pytest.param(AlarmProps, {"existing_topic_arns": {"consumer": "arn:aws:sns:eu-west-1:222222222222:ops"}, "notification_topic": False},
                 "alarms.existing_topic_arns", "no value when alarms.notification_topic is false", id="existing-topic-without-notifications"),
    pytest.param(AlarmProps, {"errors_threshold": 0}, "alarms.errors_threshold", "from 1 to 100000", id="errors-threshold"),
    pytest.param(AlarmProps, {"throttles_threshold": 0}, "alarms.throttles_threshold", "from 1 to 100000", id="throttles-threshold"),
    pytest.param(AlarmProps, {"queue_messages_threshold": 0}, "alarms.queue_messages_threshold", "from 1 to 1000000", id="queue-threshold"),
    pytest.param(AlarmProps, {"period_seconds": 120}, "alarms.period_seconds", "60, 300, 900, 3600", id="alarm-period"),
    pytest.param(AlarmProps, {"evaluation_periods": 0}, "alarms.evaluation_periods", "from 1 to 100", id="evaluation-periods"),
    pytest.param(AlarmProps, {"notification_topic": 1}, "alarms.notification_topic", "true or false", id="notification-topic"),
    pytest.param(BackendProps, {"kind": "gcs"}, "backend.kind", "'local', 's3'", id="backend-kind"),
    pytest.param(BackendProps, {"path": "/var/state.tfstate"}, "backend.path", "relative path", id="backend-absolute"),
    pytest.param(BackendProps, {"path": "../state.tfstate"}, "backend.path", "without '..'", id="backend-dotdot"),
    pytest.param(BackendProps, {"bucket": "b"}, "backend.bucket", "no value when backend.kind is 'local'", id="backend-local-bucket"),
    pytest.param(BackendProps, {**S3_STATE, "bucket": None}, "backend.bucket", "S3 bucket name", id="backend-s3-bucket"),
    pytest.param(BackendProps, {**S3_STATE, "key": "/a b"}, "backend.key", "S3 object key", id="backend-s3-key"),
    pytest.param(BackendProps, {**S3_STATE, "region": "Europe"}, "backend.region", "knows: af-south-1, ap-east-1, ap-east-2,", id="backend-s3-region"),
    pytest.param(BackendProps, {**S3_STATE, "path": "x"}, "backend.path", "no value when backend.kind is 's3'", id="backend-s3-path"),
    pytest.param(BackendProps, {**S3_STATE, "role_arn": None}, "backend.role_arn", "the state account's role", id="backend-s3-no-role"),
    pytest.param(BackendProps, {**S3_STATE, "role_arn": "arn:aws:iam::999999999999:root"}, "backend.role_arn", "the state account's role", id="backend-s3-root-not-role"),
    pytest.param(BackendProps, {**S3_STATE, "kms_key_id": None}, "backend.kms_key_id", "customer-managed key", id="backend-s3-no-key"),
    pytest.param(BackendProps, {**S3_STATE, "kms_key_id": "arn:aws:kms:eu-west-1:999999999999:alias/state"}, "backend.kms_key_id", "key/<id>", id="backend-s3-alias-not-key"),
    pytest.param(BackendProps, {**S3_STATE, "kms_key_id": "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"}, "backend.kms_key_id", "in the bucket's region eu-west-1", id="backend-s3-key-other-region"),
    pytest.param(BackendProps, {**S3_STATE, "environment": "Prod"}, "backend.environment", "1-32 of a-z 0-9 -", id="backend-environment"),
    pytest.param(BackendProps, {"role_arn": STATE_ROLE_ARN}, "backend.role_arn", "no value when backend.kind is 'local'", id="backend-local-role"),
    pytest.param(ExistingStreamProps, {"stream_arn": "arn:aws:kinesis:eu-west-1:111111111111:orders"}, "existing_stream.stream_arn", "a Kinesis stream ARN", id="existing-stream-not-stream"),
    pytest.param(ExistingStreamProps, {"stream_arn": "arn:aws-cn:kinesis:eu-west-1:111111111111:stream/s"}, "existing_stream.stream_arn", "a region of partition 'aws-cn' that the pinned AWS provider (hashicorp/aws 5.100.0) knows ('eu-west-1' is in partition 'aws'): cn-north-1, cn-northwest-1", id="existing-stream-wrong-partition"),
    pytest.param(ExistingStreamProps, {"stream_arn": "arn:aws:kinesis:cn-north-1:111111111111:stream/s"}, "existing_stream.stream_arn", "('cn-north-1' is in partition 'aws-cn')", id="existing-stream-china-region-in-aws"),
    pytest.param(ExistingStreamProps, {"stream_arn": STREAM_ARN, "key_arn": "arn:aws:kms:eu-west-1:111111111111:alias/aws/kinesis"}, "existing_stream.key_arn", "AWS-managed aws/kinesis key's policy cannot be changed", id="existing-stream-aws-managed-key"),
    pytest.param(ExistingStreamProps, {"stream_arn": STREAM_ARN, "key_arn": "arn:aws:kms:eu-west-1:111111111111:alias/orders"}, "existing_stream.key_arn", "not an alias", id="existing-stream-key-alias"),
    pytest.param(ExistingStreamProps, {"stream_arn": STREAM_ARN, "key_arn": KEY_ARN.replace("eu-west-1", "eu-central-1")}, "existing_stream.key_arn", "a key in the stream's region (eu-west-1)", id="existing-stream-key-other-region"),
    pytest.param(ExistingStreamProps, {"stream_arn": STREAM_ARN, "key_arn": KEY_ARN.replace("111111111111", "222222222222")}, "existing_stream.key_arn", "a key in the stream's account (111111111111)", id="existing-stream-key-other-account"),
    pytest.param(ExistingStreamProps, {"stream_arn": STREAM_ARN, "key_arn": "key/1234"}, "existing_stream.key_arn", "a KMS key ARN", id="existing-stream-key-id"),
    pytest.param(ExistingStreamProps, {"stream_arn": STREAM_ARN, "consumer_name": "a b"}, "existing_stream.consumer_name", "1-128 of", id="existing-stream-consumer-name"),
    pytest.param(ExistingStreamProps, {"stream_arn": STREAM_ARN, "take_over_policy": "yes"}, "existing_stream.take_over_policy", "true or false", id="existing-stream-take-over"),
    pytest.param(StackProps, {"existing_stream": ExistingStreamProps(stream_arn=STREAM_ARN), "stream": SharedStreamProps(stream_name="other")}, "stream", "one or the other", id="existing-stream-and-stream"),
    pytest.param(StackProps, {"stack_name": "Bad_Name"}, "stack_name", "starting with a letter", id="stack-name"),
    pytest.param(
        StackProps,
        {"stream": SharedStreamProps(stream_mode="PROVISIONED", shard_count=4), "mapping": EventSourceMappingProps(parallelization_factor=2),
         "function": ConsumerFunctionProps(reserved_concurrency=7)},
        "function.reserved_concurrency",
        "at least 8 (stream.shard_count 4 x mapping.parallelization_factor 2: the invocations the mapping runs at once) or -1 (unreserved)",
        id="concurrency-below-shards-x-parallelization",
    ),
    pytest.param(
        StackProps,
        {"stream": SharedStreamProps(key_alias="alias/same"), "function": ConsumerFunctionProps(key_alias="alias/same")},
        "function.key_alias",
        "different from stream.key_alias",
        id="same-alias-twice",
    ),
]


@pytest.mark.parametrize(("cls", "kwargs", "field", "allowed"), BAD)
def test_bad_value_names_field_value_and_what_is_allowed(cls: type, kwargs: dict, field: str, allowed: str) -> None:
    # GIVEN / WHEN
    with pytest.raises(ConfigError) as caught:
        cls(**kwargs)
    # THEN
    err = caught.value
    assert err.field == field
    message = str(err)
    assert message.startswith(f"{field}: {err.value!r} is not allowed; expected ")
    assert allowed in message


def test_every_validated_field_has_a_bad_case() -> None:
    """A new field without a case above is a rule nobody tested."""
    covered = {p.values[2].split(".", 2)[0] + "." + p.values[2].split(".")[1] if p.values[2].count(".") > 1 else p.values[2] for p in BAD}
    fields = {
        f"{prefix}.{f.name}"
        for prefix, cls in (
            ("stream", SharedStreamProps),
            ("function", ConsumerFunctionProps),
            ("mapping", EventSourceMappingProps),
            ("sink", SinkProps),
            ("alarms", AlarmProps),
            ("backend", BackendProps),
            ("existing_stream", ExistingStreamProps),
        )
        for f in dataclasses.fields(cls)
    }
    assert fields - covered == set()


@pytest.mark.parametrize(
    ("settings", "stack", "expected"),
    [
        pytest.param({}, "orders", "default/orders/terraform.tfstate", id="default-environment"),
        pytest.param({"environment": "prod"}, "orders", "prod/orders/terraform.tfstate", id="per-environment"),
        pytest.param({"key": "team/orders.tfstate"}, "orders", "team/orders.tfstate", id="explicit-key"),
    ],
)
def test_s3_state_key(settings: dict[str, str], stack: str, expected: str) -> None:
    assert BackendProps(**{**S3_STATE, **settings}).state_key(stack) == expected


@pytest.mark.parametrize(
    ("reserved", "shards", "factor"),
    [(-1, 50, 10), (8, 4, 2), (10, None, 10)],
    ids=["unreserved", "exactly-shards-x-factor", "on-demand-not-checked"],
)
def test_reserved_concurrency_that_covers_the_shards_or_none_is_accepted(reserved: int, shards: int | None, factor: int) -> None:
    # GIVEN a function reserving enough for every shard's parallel batches, or reserving none (-1)
    stream = SharedStreamProps(stream_mode="PROVISIONED", shard_count=shards) if shards else SharedStreamProps()
    # WHEN / THEN the settings are accepted as they are
    props = StackProps(stream=stream, mapping=EventSourceMappingProps(parallelization_factor=factor),
                       function=ConsumerFunctionProps(reserved_concurrency=reserved))
    assert props.function.reserved_concurrency == reserved



@pytest.mark.parametrize(("line", "refused"), [pytest.param("cdktf", True, id="cdktf-aws-5"), pytest.param("cdktn", False, id="cdktn-aws-6")])
def test_warm_throughput_needs_the_aws_6_line(monkeypatch: pytest.MonkeyPatch, line: str, refused: bool) -> None:
    # GIVEN a warmed stream of an On-demand Advantage account, on each framework line
    monkeypatch.setenv("XACCT_FRAMEWORK", line)
    settings = {"on_demand_advantage": True, "warm_throughput_mib_ps": 200}
    if not refused:
        # THEN aws 6.x takes it
        assert SharedStreamProps(**settings).warm_throughput_mib_ps == 200
        return
    # THEN hashicorp/aws 5.100.0 has no such argument: the setting, the value and the way are named
    with pytest.raises(ConfigError) as raised:
        SharedStreamProps(**settings)
    assert str(raised.value) == ("stream.warm_throughput_mib_ps: 200 is not allowed; expected no value on the cdktf line (hashicorp/aws 5.100.0 "
                                 "has no warm_throughput_mib_ps): synthesize on CDK Terrain, XACCT_FRAMEWORK=cdktn (docs/migration.md)")
