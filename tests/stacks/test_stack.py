"""Specific properties of the synthesized configuration (not a snapshot)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from xacct_streaming import framework
from conftest import PROVISIONED_STACK, STATE_KEY_ARN, STATE_ROLE_ARN, policy_statements, Synth

ROLE_ARN = "${aws_iam_role.%s.arn}"


def _policy(body: dict[str, Any], key: str = "policy") -> dict[str, Any]:
    return json.loads(body[key])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- providers -------------------------------------------------------------------------------

def test_two_aliased_providers_same_region_each_pinned_to_its_account(synth: Synth) -> None:
    providers = {p["alias"]: p for p in synth.config["provider"]["aws"]}
    assert sorted(providers) == ["consumer", "producer"]
    for side, provider in providers.items():
        assert provider["region"] == "${var.region}"
        assert provider["allowed_account_ids"] == [f"${{var.{side}_account_id}}"]
        assert provider["assume_role"] == [
            {"role_arn": f"${{var.{side}_deploy_role_arn}}", "session_name": f"xacct-kinesis-efo-{side}"}
        ]
        assert provider["default_tags"] == [{"tags": "${var.tags}"}]
    # each line's bindings write their own source form of one address (xacct_ops.line_diff)
    expected = {"cdktf": {"source": "aws", "version": "5.100.0"}, "cdktn": {"source": "hashicorp/aws", "version": "6.69.1"}}
    assert synth.config["terraform"]["required_providers"]["aws"] == expected[framework.line().name]


PRODUCER_TYPES = {"aws_kinesis_stream", "aws_kinesis_stream_consumer", "aws_kinesis_resource_policy"}
CONSUMER_TYPES = {
    "aws_lambda_function",
    "aws_lambda_event_source_mapping",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_sqs_queue",
    "aws_cloudwatch_log_group",
}


def test_every_resource_names_its_provider_and_lands_in_the_right_account(synth: Synth) -> None:
    seen: dict[str, set[str]] = {"aws.producer": set(), "aws.consumer": set()}
    for type_, resources in synth.config["resource"].items():
        for name, body in resources.items():
            assert body.get("provider") in seen, f"{type_}.{name} has no explicit provider"
            seen[body["provider"]].add(type_)
    assert PRODUCER_TYPES <= seen["aws.producer"] and not (CONSUMER_TYPES & seen["aws.producer"])
    assert CONSUMER_TYPES <= seen["aws.consumer"] and not (PRODUCER_TYPES & seen["aws.consumer"])
    # One customer-managed key (with alias and policy) on each side.
    for kms_type in ("aws_kms_key", "aws_kms_alias", "aws_kms_key_policy"):
        assert {b["provider"] for b in synth.resources(kms_type).values()} == {"aws.producer", "aws.consumer"}
    for body in synth.config["data"]["aws_partition"].values():
        assert body["provider"] == "aws.producer"


# --- producer account ---------------------------------------------------------------------------

def test_stream_is_on_demand_and_encrypted_with_the_customer_managed_key(synth: Synth) -> None:
    _, stream = synth.only("aws_kinesis_stream")
    key_arn = synth.ref("aws_kms_key", "shared-stream/key/key", "arn")
    assert stream["encryption_type"] == "KMS"
    assert stream["kms_key_id"] == key_arn
    assert stream["stream_mode_details"] == {"stream_mode": "ON_DEMAND"}
    assert "shard_count" not in stream
    assert stream["retention_period"] == 24
    assert stream["name"] == "xacct-shared-stream"


def test_provisioned_variant_sets_shards(provisioned: Synth) -> None:
    _, stream = provisioned.only("aws_kinesis_stream")
    assert stream["stream_mode_details"] == {"stream_mode": "PROVISIONED"}
    assert stream["shard_count"] == 4
    assert stream["retention_period"] == 168
    _, mapping = provisioned.only("aws_lambda_event_source_mapping")
    assert (mapping["starting_position"], mapping["batch_size"], mapping["parallelization_factor"]) == ("LATEST", 500, 2)


def test_keys_rotate(synth: Synth) -> None:
    for name, key in synth.resources("aws_kms_key").items():
        assert key["enable_key_rotation"] is True, name
        assert key["deletion_window_in_days"] == 30, name


def test_stream_key_policy_keeps_producer_in_control_and_lets_only_the_role_decrypt_via_kinesis(synth: Synth) -> None:
    _, key_policy = synth.only("aws_kms_key_policy", "shared-stream/key/policy")
    assert key_policy["key_id"] == synth.ref("aws_kms_key", "shared-stream/key/key", "key_id")
    owner, consumer = _policy(key_policy)["Statement"]
    partition = "${data.aws_partition.partition.partition}"
    assert owner["Principal"] == {"AWS": f"arn:{partition}:iam::${{var.producer_account_id}}:root"}
    # kms:* for the key's own account only: an action list would lock it out of what KMS adds later
    assert owner["Action"] == "kms:*" and owner["Resource"] == "*" and "Condition" not in owner
    assert consumer == {
        "Sid": "ConsumerRoleDecryptViaKinesis",
        "Effect": "Allow",
        "Principal": {"AWS": synth.ref("aws_iam_role", "consumer-function/role", "arn")},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "kinesis.${var.region}.amazonaws.com"}},
    }


def test_efo_consumer_is_registered_on_the_stream(synth: Synth) -> None:
    _, consumer = synth.only("aws_kinesis_stream_consumer")
    assert consumer["stream_arn"] == synth.ref("aws_kinesis_stream", "", "arn")
    assert consumer["name"] == "xacct-lambda-consumer"


@pytest.mark.parametrize(
    ("policy_suffix", "target_type", "sid", "actions"),
    [
        pytest.param(
            "stream-policy",
            "aws_kinesis_stream",
            "ShareStreamWithConsumerRole",
            [
                "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary",
                "kinesis:GetRecords",
                "kinesis:GetShardIterator",
                "kinesis:ListShards",
            ],
            id="on-stream",
        ),
        pytest.param(
            "consumer-policy",
            "aws_kinesis_stream_consumer",
            "ShareConsumerWithConsumerRole",
            ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
            id="on-efo-consumer",
        ),
    ],
)
def test_resource_policy_grants_exact_actions_to_the_exact_role(
    synth: Synth, policy_suffix: str, target_type: str, sid: str, actions: list[str]
) -> None:
    _, policy = synth.only("aws_kinesis_resource_policy", policy_suffix)
    target_arn = synth.ref(target_type, "", "arn")
    assert policy["resource_arn"] == target_arn
    assert _policy(policy)["Statement"] == [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": synth.ref("aws_iam_role", "consumer-function/role", "arn")},
            "Action": actions,
            "Resource": target_arn,
        }
    ]


# --- consumer account ---------------------------------------------------------------------------

def test_role_trusts_only_lambda(synth: Synth) -> None:
    _, role = synth.only("aws_iam_role")
    assert role["name"] == "xacct-stream-consumer-role"
    assert json.loads(role["assume_role_policy"])["Statement"] == [
        {"Sid": "TrustService", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]


def test_role_stream_read_policy_is_scoped_to_exact_arns(synth: Synth) -> None:
    _, policy = synth.only("aws_iam_role_policy", "stream-read-policy")
    assert policy["role"] == synth.ref("aws_iam_role", "", "id")
    by_sid = {s["Sid"]: s for s in _policy(policy)["Statement"]}
    assert by_sid["ReadSharedStream"]["Resource"] == synth.ref("aws_kinesis_stream", "", "arn")
    assert by_sid["ReadSharedStream"]["Action"] == [
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
    ]
    assert by_sid["ReadSharedStreamConsumer"]["Resource"] == synth.ref("aws_kinesis_stream_consumer", "", "arn")
    assert by_sid["ReadSharedStreamConsumer"]["Action"] == ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"]
    assert by_sid["DecryptSharedStreamViaKinesis"] == {
        "Sid": "DecryptSharedStreamViaKinesis",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": synth.ref("aws_kms_key", "shared-stream/key/key", "arn"),
        "Condition": {"StringEquals": {"kms:ViaService": "kinesis.${var.region}.amazonaws.com"}},
    }


def test_role_runtime_policy_is_scoped_to_exact_arns(synth: Synth) -> None:
    _, policy = synth.only("aws_iam_role_policy", "runtime-policy")
    by_sid = {s["Sid"]: s for s in _policy(policy)["Statement"]}
    log_group_arn = synth.ref("aws_cloudwatch_log_group", "", "arn")
    assert by_sid["WriteOwnLogStreams"]["Resource"] == f"{log_group_arn}:log-stream:*"
    assert by_sid["WriteOwnLogStreams"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert by_sid["SendToFailureQueues"]["Action"] == "sqs:SendMessage"
    assert by_sid["SendToFailureQueues"]["Resource"] == [
        synth.ref("aws_sqs_queue", "dead-letter-queue", "arn"),
        synth.ref("aws_sqs_queue", "on-failure-queue", "arn"),
    ]
    assert by_sid["UseConsumerKey"]["Resource"] == synth.ref("aws_kms_key", "consumer-function/key/key", "arn")
    # The one Resource "*": X-Ray has no resource-level permissions.
    assert by_sid["XRayNoResourceLevelPermissions"] == {
        "Sid": "XRayNoResourceLevelPermissions",
        "Effect": "Allow",
        "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
        "Resource": "*",
    }
    assert sorted(by_sid) == ["SendToFailureQueues", "UseConsumerKey", "WriteOwnLogStreams", "XRayNoResourceLevelPermissions"]


def test_no_wildcard_action_or_principal_anywhere(synth: Synth) -> None:
    statements = list(policy_statements(synth.config))
    assert len(statements) == 18  # trust 1, runtime 4, stream read 3, table write 1, three key policies 2+2+2, two resource policies, the alarm topic
    for where, statement in statements:
        for action in _as_list(statement["Action"]):
            if statement.get("Sid") == "KeyOwnerAccount":
                assert (action, where.startswith("aws_kms_key_policy.")) == ("kms:*", True), where
                continue
            assert "*" not in action, where
        for values in statement.get("Principal", {}).values():
            for principal in _as_list(values):
                assert "*" not in principal, where
        if statement.get("Resource") == "*":
            # Only key policies ("this key") and X-Ray may use it.
            assert "aws_kms_key_policy" in where or statement["Sid"] == "XRayNoResourceLevelPermissions", where


def test_consumer_key_lets_cloudwatch_logs_use_it_for_the_function_log_group_only(synth: Synth) -> None:
    _, key_policy = synth.only("aws_kms_key_policy", "consumer-function/key/policy")
    owner, logs = _policy(key_policy)["Statement"]
    assert owner["Principal"] == {"AWS": "arn:${data.aws_partition.partition.partition}:iam::${var.consumer_account_id}:root"}
    assert logs["Principal"] == {"Service": "logs.${var.region}.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnEquals": {
            "kms:EncryptionContext:aws:logs:arn": (
                "arn:${data.aws_partition.partition.partition}:logs:${var.region}:${var.consumer_account_id}"
                ":log-group:/aws/lambda/xacct-stream-consumer"
            )
        }
    }


def test_log_group_retention_encryption_and_order(synth: Synth) -> None:
    _, group = synth.only("aws_cloudwatch_log_group")
    assert group["name"] == "/aws/lambda/xacct-stream-consumer"
    assert group["retention_in_days"] == 365
    assert group["kms_key_id"] == synth.ref("aws_kms_key", "consumer-function/key/key", "arn")
    assert group["depends_on"] == [synth.address("aws_kms_key_policy", "consumer-function/key/policy")]


def test_queues_are_encrypted_with_the_consumer_key(synth: Synth) -> None:
    key_arn = synth.ref("aws_kms_key", "consumer-function/key/key", "arn")
    names = {}
    for queue in synth.resources("aws_sqs_queue").values():
        assert queue["kms_master_key_id"] == key_arn
        assert queue["message_retention_seconds"] == 1_209_600
        names[queue["//"]["metadata"]["path"].rsplit("/", 1)[1]] = queue["name"]
    assert names == {"dead-letter-queue": "xacct-stream-consumer-dlq", "on-failure-queue": "xacct-stream-consumer-on-failure"}


def test_function_settings(synth: Synth) -> None:
    _, function = synth.only("aws_lambda_function")
    assert function["function_name"] == "xacct-stream-consumer"
    assert function["handler"] == "handler.lambda_handler"
    assert function["runtime"] == "python3.12"
    assert function["role"] == synth.ref("aws_iam_role", "", "arn")
    assert function["tracing_config"] == {"mode": "Active"}
    assert function["reserved_concurrent_executions"] == 10
    assert function["dead_letter_config"] == {"target_arn": synth.ref("aws_sqs_queue", "dead-letter-queue", "arn")}
    assert function["kms_key_arn"] == synth.ref("aws_kms_key", "consumer-function/key/key", "arn")
    assert function["logging_config"] == {"log_format": "JSON", "log_group": synth.ref("aws_cloudwatch_log_group", "", "name")}
    assert function["environment"] == {
        "variables": {
            "TABLE_NAME": "xacct-stream-sink",
            "DEAD_LETTER_QUEUE_URL": synth.ref("aws_sqs_queue", "dead-letter-queue", "url"),
            "LOG_LEVEL": "INFO",
            "METRICS_NAMESPACE": "XacctStreaming",
        }
    }
    assert re.fullmatch(r"assets/function-code-([0-9a-f]{16})/[0-9A-F]{32}/\1[0-9a-f]{48}\.zip", function["filename"])
    assert function["source_code_hash"] == f'${{filebase64sha256("{function["filename"]}")}}'
    assert function["depends_on"] == [synth.address("aws_iam_role_policy", "runtime-policy")]
    assert (synth.stack_dir / function["filename"]).is_file()


# --- the event source mapping ---------------------------------------------------------------------

def test_mapping_reads_the_efo_consumer_with_bounded_failure_handling(synth: Synth) -> None:
    _, mapping = synth.only("aws_lambda_event_source_mapping")
    assert mapping["event_source_arn"] == synth.ref("aws_kinesis_stream_consumer", "", "arn")
    assert mapping["function_name"] == synth.ref("aws_lambda_function", "", "arn")
    assert mapping["starting_position"] == "TRIM_HORIZON"
    assert mapping["batch_size"] == 100
    assert mapping["maximum_batching_window_in_seconds"] == 1
    assert mapping["bisect_batch_on_function_error"] is True
    assert mapping["maximum_retry_attempts"] == 3
    assert mapping["maximum_record_age_in_seconds"] == -1  # kept while the stream holds it
    assert mapping["parallelization_factor"] == 1
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["destination_config"] == {
        "on_failure": {"destination_arn": synth.ref("aws_sqs_queue", "on-failure-queue", "arn")}
    }


def test_mapping_waits_for_both_resource_policies_the_key_policy_and_the_role_policies(synth: Synth) -> None:
    _, mapping = synth.only("aws_lambda_event_source_mapping")
    assert mapping["depends_on"] == [
        synth.address("aws_kinesis_resource_policy", "stream-policy"),
        synth.address("aws_kinesis_resource_policy", "consumer-policy"),
        synth.address("aws_kms_key_policy", "shared-stream/key/policy"),
        synth.address("aws_iam_role_policy", "stream-read-policy"),
        synth.address("aws_iam_role_policy", "runtime-policy"),
        synth.address("aws_iam_role_policy", "table-write-policy"),
    ]


# --- variables, outputs, backend --------------------------------------------------------------

def test_variables_have_type_description_and_validation(synth: Synth) -> None:
    variables = synth.config["variable"]
    assert sorted(variables) == [
        "consumer_account_id",
        "consumer_deploy_role_arn",
        "producer_account_id",
        "producer_deploy_role_arn",
        "region",
        "tags",
    ]
    for name, variable in variables.items():
        assert variable["type"] in ("string", "map(string)"), name
        assert len(variable["description"]) > 20, name
        assert variable["validation"], name
        for rule in variable["validation"]:
            assert rule["condition"].startswith("${") and rule["error_message"].endswith("."), name
    conditions = [r["condition"] for r in variables["consumer_account_id"]["validation"]]
    assert "${var.consumer_account_id != var.producer_account_id}" in conditions
    assert variables["tags"]["default"] == {}


OUTPUTS = {
    "stream_arn": ("aws_kinesis_stream", "", "arn"),
    "stream_name": ("aws_kinesis_stream", "", "name"),
    "stream_consumer_arn": ("aws_kinesis_stream_consumer", "", "arn"),
    "kms_key_arn": ("aws_kms_key", "shared-stream/key/key", "arn"),
    "kms_key_alias": ("aws_kms_alias", "shared-stream/key/alias", "name"),
    "lambda_function_arn": ("aws_lambda_function", "", "arn"),
    "lambda_function_name": ("aws_lambda_function", "", "function_name"),
    "lambda_role_arn": ("aws_iam_role", "", "arn"),
    "lambda_log_group_name": ("aws_cloudwatch_log_group", "", "name"),
    "event_source_mapping_uuid": ("aws_lambda_event_source_mapping", "", "uuid"),
    "on_failure_queue_url": ("aws_sqs_queue", "on-failure-queue", "url"),
    "on_failure_queue_arn": ("aws_sqs_queue", "on-failure-queue", "arn"),
    "dead_letter_queue_url": ("aws_sqs_queue", "dead-letter-queue", "url"),
    "consumer_kms_key_arn": ("aws_kms_key", "consumer-function/key/key", "arn"),
    "sink_table_name": ("aws_dynamodb_table", "", "name"),
    "sink_table_arn": ("aws_dynamodb_table", "", "arn"),
}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_output_points_at_its_resource_and_is_described(synth: Synth, name: str) -> None:
    output = synth.config["output"][name]
    assert output["value"] == synth.ref(*OUTPUTS[name])
    assert output["description"].endswith(".")


# Outputs that are maps or lists: by account, or every alarm.
MONITORING_OUTPUTS = ("alarm_names", "alarm_topic_arns", "dashboard_names")


def test_no_other_outputs(synth: Synth) -> None:
    assert sorted(synth.config["output"]) == sorted([*OUTPUTS, *MONITORING_OUTPUTS])


def test_monitoring_outputs_name_each_accounts_topic_dashboard_and_every_alarm(synth: Synth) -> None:
    outputs = synth.config["output"]
    assert outputs["alarm_topic_arns"]["value"] == {"consumer": synth.ref("aws_sns_topic", "", "arn")}
    assert outputs["dashboard_names"]["value"] == {"consumer": "xacct-kinesis-efo"}
    assert outputs["alarm_names"]["value"] == {"consumer": sorted(f"xacct-stream-consumer-{suffix}" for suffix in ALARMS)}


def test_local_backend_is_relative_and_outside_the_output(synth: Synth) -> None:
    assert synth.config["terraform"]["backend"] == {"local": {"path": "../../../terraform.xacct-kinesis-efo.tfstate"}}


def test_s3_backend_variant(provisioned: Synth) -> None:
    assert provisioned.config["terraform"]["backend"] == {
        "s3": {
            "bucket": "tf-state-bucket",
            "key": "xacct/terraform.tfstate",
            "region": "eu-west-1",
            "encrypt": True,
            "kms_key_id": STATE_KEY_ARN,
            "assume_role": {"role_arn": STATE_ROLE_ARN, "session_name": f"{PROVISIONED_STACK}-state"},
            "use_lockfile": True,
        }
    }


def test_output_names_no_machine_path(synth: Synth) -> None:
    text = (synth.stack_dir / "cdk.tf.json").read_text()
    assert "/tmp" not in text and "/work" not in text and "/root" not in text and "/home" not in text


# --- the sink and the alarms (runtime issue) ----------------------------------------------------------

def test_sink_table_is_on_demand_encrypted_with_recovery_and_protected(synth: Synth) -> None:
    _, table = synth.only("aws_dynamodb_table")
    assert table["provider"] == "aws.consumer"
    assert (table["name"], table["billing_mode"], table["hash_key"], table["range_key"]) == ("xacct-stream-sink", "PAY_PER_REQUEST", "pk", "sk")
    assert table["attribute"] == [{"name": "pk", "type": "S"}, {"name": "sk", "type": "S"}]
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": synth.ref("aws_kms_key", "consumer-function/key/key", "arn")}
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["deletion_protection_enabled"] is True


def test_role_may_only_batch_write_the_sink_table(synth: Synth) -> None:
    _, policy = synth.only("aws_iam_role_policy", "table-write-policy")
    assert _policy(policy)["Statement"] == [
        {"Sid": "WriteSinkTable", "Effect": "Allow", "Action": "dynamodb:BatchWriteItem", "Resource": synth.ref("aws_dynamodb_table", "", "arn")}
    ]


ALARMS = {
    # half the stream's 24 hours: the records left before the oldest expire
    "iterator-age": ("AWS/Lambda", "IteratorAge", "Maximum", 43_200_000, "GreaterThanThreshold", {"FunctionName": "xacct-stream-consumer"}),
    "errors": ("AWS/Lambda", "Errors", "Sum", 1, "GreaterThanOrEqualToThreshold", {"FunctionName": "xacct-stream-consumer"}),
    "throttles": ("AWS/Lambda", "Throttles", "Sum", 1, "GreaterThanOrEqualToThreshold", {"FunctionName": "xacct-stream-consumer"}),
    "dead-letter-messages": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 1, "GreaterThanOrEqualToThreshold", {"QueueName": "xacct-stream-consumer-dlq"}),
    "on-failure-messages": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 1, "GreaterThanOrEqualToThreshold", {"QueueName": "xacct-stream-consumer-on-failure"}),
}


@pytest.mark.parametrize("suffix", sorted(ALARMS))
def test_alarm(synth: Synth, suffix: str) -> None:
    _, alarm = synth.only("aws_cloudwatch_metric_alarm", f"alarms/{suffix}")
    namespace, metric, statistic, threshold, comparison, dimensions = ALARMS[suffix]
    assert alarm["alarm_name"] == f"xacct-stream-consumer-{suffix}"
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == (namespace, metric, statistic)
    assert (alarm["threshold"], alarm["comparison_operator"], alarm["dimensions"]) == (threshold, comparison, dimensions)
    assert (alarm["period"], alarm["evaluation_periods"], alarm["treat_missing_data"]) == (300, 1, "notBreaching")
    assert alarm["provider"] == "aws.consumer"
    # someone hears it: the consumer account's alarm topic, when it fires and when it is OK again
    topic = synth.ref("aws_sns_topic", "", "arn")
    assert (alarm["alarm_actions"], alarm["ok_actions"]) == ([topic], [topic])


def test_sink_in_another_account_assumes_exactly_that_role(provisioned: Synth) -> None:
    # GIVEN settings with sink.role_arn (the cross-account sink of seed 001)
    assert provisioned.resources("aws_dynamodb_table") == {}
    _, policy = provisioned.only("aws_iam_role_policy", "runtime-policy")
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert statements["AssumeSinkRole"] == {
        "Sid": "AssumeSinkRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::333333333333:role/xacct-sink-writer"
    }
    _, function = provisioned.only("aws_lambda_function")
    variables = function["environment"]["variables"]
    assert (variables["TABLE_NAME"], variables["SINK_ROLE_ARN"], variables["SINK_REGION"], variables["SINK_EXTERNAL_ID"]) == (
        "analytics-events", "arn:aws:iam::333333333333:role/xacct-sink-writer", "eu-central-1", "xacct-sink-1",
    )
    assert "sink_table_name" not in provisioned.config["output"]


def test_alarm_topic_is_encrypted_with_its_own_key_and_only_this_accounts_alarms_may_publish(synth: Synth) -> None:
    _, topic = synth.only("aws_sns_topic")
    key_arn = synth.ref("aws_kms_key", "consumer-alarm-topic/key/key", "arn")
    assert (topic["name"], topic["kms_master_key_id"], topic["provider"]) == ("xacct-kinesis-efo-alarms", key_arn, "aws.consumer")
    _, alias = synth.only("aws_kms_alias", "consumer-alarm-topic/key/alias")
    assert alias["name"] == "alias/xacct-kinesis-efo-alarms"
    topic_arn = "arn:${data.aws_partition.partition.partition}:sns:${var.region}:${var.consumer_account_id}:xacct-kinesis-efo-alarms"
    _, key_policy = synth.only("aws_kms_key_policy", "consumer-alarm-topic/key/policy")
    owner, cloudwatch = json.loads(key_policy["policy"])["Statement"]
    assert owner["Sid"] == "KeyOwnerAccount"
    assert cloudwatch == {
        "Sid": "CloudWatchAlarmsPublishToEncryptedTopic",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
        # only for this topic's messages: the encryption context SNS sets (SNS's encryption guide)
        "Condition": {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}},
    }
    _, topic_policy = synth.only("aws_sns_topic_policy")
    assert json.loads(topic_policy["policy"])["Statement"] == [{
        "Sid": "CloudWatchAlarmsOfThisAccountPublish",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "SNS:Publish",
        "Resource": synth.ref("aws_sns_topic", "", "arn"),
        # CloudWatch's confused-deputy guidance: the alarm as source, in this account
        "Condition": {
            "StringEquals": {"aws:SourceAccount": "${var.consumer_account_id}"},
            "ArnLike": {"aws:SourceArn": "arn:${data.aws_partition.partition.partition}:cloudwatch:${var.region}:${var.consumer_account_id}:alarm:*"},
        },
    }]
    assert synth.resources("aws_sns_topic_subscription") == {}  # no subscriber unless the settings name one


def test_a_set_iterator_age_threshold_is_used_as_it_is(provisioned: Synth) -> None:
    _, iterator_age = provisioned.only("aws_cloudwatch_metric_alarm", "alarms/iterator-age")
    assert iterator_age["threshold"] == 120_000
