"""Specific properties of the seed stacks' synthesized JSON: seed 003 (DynamoDB Streams across
accounts), seed 001 (Kinesis -> writer -> replica in another account -> Firehose -> S3), seed 004
(SES -> SNS -> Lambda -> another account's stream) and seed 002 (API Gateway -> another account's
stream -> Lambda -> DynamoDB)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import ALL_STACKS, Synth, run_main
from conftest import policy_statements
from xacct_streaming import framework
from xacct_streaming.blocks.policy import (
    STREAM_CONSUMER_READ_ACTIONS,
    STREAM_READ_ACTIONS,
    STREAM_WRITE_ACTIONS,
    TABLE_STREAM_READ_ACTIONS,
)

SEED_FIXTURES = ["ddb_synth", "replication_synth", "ses_synth", "api_synth"]


def _policy(body: dict[str, Any], key: str = "policy") -> dict[str, Any]:
    return json.loads(body[key])


def _statement(synth: Synth, type_: str, path_suffix: str, sid: str, key: str = "policy") -> dict[str, Any]:
    _, body = synth.only(type_, path_suffix)
    return next(s for s in _policy(body, key)["Statement"] if s["Sid"] == sid)


def _provider(body: dict[str, Any]) -> str:
    return body["provider"]


# --- every stack ------------------------------------------------------------------------------

def test_every_stack_is_synthesized_by_default(cli_outdir: Any) -> None:
    assert sorted(p.name for p in (cli_outdir / "stacks").iterdir()) == sorted(ALL_STACKS)


@pytest.mark.parametrize("fixture", SEED_FIXTURES)
def test_no_wildcard_action_and_no_account_root_outside_key_policies(fixture: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    for where, statement in policy_statements(synth.config):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement.get("Sid") == "KeyOwnerAccount":
            # the one wildcard: a key's own account keeps every KMS action, present and future
            assert where.startswith("aws_kms_key_policy.") and actions == ["kms:*"], where
            assert statement["Principal"]["AWS"].endswith(":root"), where
        else:
            assert not any("*" in a for a in actions), where
        principals = json.dumps(statement.get("Principal", {}))
        if ":root" in principals:
            assert where.startswith("aws_kms_key_policy."), where


@pytest.mark.parametrize("fixture", SEED_FIXTURES)
def test_variables_and_outputs_are_documented(fixture: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    for name, variable in synth.config["variable"].items():
        assert variable["description"] and variable["type"], name
    for name, output in synth.config["output"].items():
        assert output["description"], name
    assert set(synth.config["variable"]) == {"region", "producer_account_id", "consumer_account_id", "producer_deploy_role_arn", "consumer_deploy_role_arn", "tags"}


# --- seed 003 ---------------------------------------------------------------------------------

def test_ddb_table_and_its_stream_policy_are_in_the_producer_account(ddb_synth: Synth) -> None:
    _, table = ddb_synth.only("aws_dynamodb_table", "shared-table/table")
    assert _provider(table) == "aws.producer"
    assert (table["stream_enabled"], table["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": ddb_synth.ref("aws_kms_key", "shared-table/key/key", "arn")}
    assert table["deletion_protection_enabled"] is True and table["point_in_time_recovery"] == {"enabled": True}
    _, policy = ddb_synth.only("aws_dynamodb_resource_policy")
    stream_arn = ddb_synth.ref("aws_dynamodb_table", "shared-table/table", "stream_arn")
    assert _provider(policy) == "aws.producer" and policy["resource_arn"] == stream_arn
    (statement,) = _policy(policy)["Statement"]
    assert statement == {
        "Sid": "ShareStreamWithConsumerRole",
        "Effect": "Allow",
        "Principal": {"AWS": ddb_synth.ref("aws_iam_role", "consumer-function/role", "arn")},
        "Action": list(TABLE_STREAM_READ_ACTIONS),
        "Resource": stream_arn,
    }


def test_ddb_key_lets_only_the_consumer_role_decrypt_through_dynamodb(ddb_synth: Synth) -> None:
    grant = _statement(ddb_synth, "aws_kms_key_policy", "shared-table/key/policy", "StreamReaderDecryptViaDynamoDB")
    assert grant["Principal"] == {"AWS": ddb_synth.ref("aws_iam_role", "consumer-function/role", "arn")}
    assert grant["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    assert grant["Condition"] == {"StringEquals": {"kms:ViaService": "dynamodb.${var.region}.amazonaws.com"}}


def test_ddb_mapping_reads_the_other_accounts_stream_after_every_policy(ddb_synth: Synth) -> None:
    _, mapping = ddb_synth.only("aws_lambda_event_source_mapping")
    assert _provider(mapping) == "aws.consumer"
    assert mapping["event_source_arn"] == ddb_synth.ref("aws_dynamodb_table", "shared-table/table", "stream_arn")
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"] and mapping["bisect_batch_on_function_error"] is True
    assert mapping["maximum_retry_attempts"] == 3
    assert mapping["destination_config"]["on_failure"]["destination_arn"] == ddb_synth.ref("aws_sqs_queue", "on-failure-queue", "arn")
    assert sorted(mapping["depends_on"]) == sorted(
        [
            ddb_synth.address("aws_dynamodb_resource_policy"),
            ddb_synth.address("aws_kms_key_policy", "shared-table/key/policy"),
            ddb_synth.address("aws_iam_role_policy", "table-stream-read-policy"),
            ddb_synth.address("aws_iam_role_policy", "runtime-policy"),
            ddb_synth.address("aws_iam_role_policy", "table-write-policy"),
        ]
    )


def test_ddb_function_reads_the_exact_stream_and_writes_the_change_log(ddb_synth: Synth) -> None:
    read = _statement(ddb_synth, "aws_iam_role_policy", "table-stream-read-policy", "ReadTableStream")
    assert read["Action"] == list(TABLE_STREAM_READ_ACTIONS)
    assert read["Resource"] == ddb_synth.ref("aws_dynamodb_table", "shared-table/table", "stream_arn")
    write = _statement(ddb_synth, "aws_iam_role_policy", "table-write-policy", "WriteSinkTable")
    assert (write["Action"], write["Resource"]) == ("dynamodb:BatchWriteItem", ddb_synth.ref("aws_dynamodb_table", "change-log/table", "arn"))
    _, function = ddb_synth.only("aws_lambda_function")
    assert function["handler"] == "changes_handler.lambda_handler"
    assert function["environment"]["variables"]["TABLE_NAME"] == "xacct-change-log"
    assert "SINK_ROLE_ARN" not in function["environment"]["variables"]


# --- seed 001 ---------------------------------------------------------------------------------

def test_replication_writer_reads_its_own_accounts_stream_directly(replication_synth: Synth) -> None:
    synth = replication_synth
    assert synth.resources("aws_kinesis_stream_consumer") == {} and synth.resources("aws_kinesis_resource_policy") == {}
    _, stream = synth.only("aws_kinesis_stream")
    assert _provider(stream) == "aws.producer" and stream["encryption_type"] == "KMS"
    _, mapping = synth.only("aws_lambda_event_source_mapping", "writer-mapping/mapping")
    assert _provider(mapping) == "aws.producer"
    assert mapping["event_source_arn"] == synth.ref("aws_kinesis_stream", "stream/stream", "arn")
    assert synth.address("aws_iam_role_policy", "replica-writer-role/policy") in mapping["depends_on"]
    read = _statement(synth, "aws_iam_role_policy", "writer-function/stream-read-policy", "ReadSharedStream")
    assert read["Action"] == list(STREAM_READ_ACTIONS)


def test_replication_writer_assumes_exactly_the_replica_role_with_the_external_id(replication_synth: Synth) -> None:
    synth = replication_synth
    role_arn = "arn:${data.aws_partition.partition.partition}:iam::${var.consumer_account_id}:role/xacct-replica-table-writer"
    assume = _statement(synth, "aws_iam_role_policy", "writer-function/runtime-policy", "AssumeSinkRole")
    assert (assume["Action"], assume["Resource"]) == ("sts:AssumeRole", role_arn)
    _, function = synth.only("aws_lambda_function", "writer-function/function")
    env = function["environment"]["variables"]
    assert (env["SINK_ROLE_ARN"], env["SINK_EXTERNAL_ID"], env["TABLE_NAME"]) == (role_arn, "xacct-kinesis-replication", "xacct-web-analytics-replica")
    _, role = synth.only("aws_iam_role", "replica-writer-role/role")
    assert _provider(role) == "aws.consumer" and role["name"] == "xacct-replica-table-writer"
    (trust,) = _policy(role, "assume_role_policy")["Statement"]
    assert trust == {
        "Sid": "TrustWriterFunctionRoleWithExternalId",
        "Effect": "Allow",
        "Principal": {"AWS": synth.ref("aws_iam_role", "writer-function/role", "arn")},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "xacct-kinesis-replication"}},
    }
    write = _statement(synth, "aws_iam_role_policy", "replica-writer-role/policy", "WriteReplicaTable")
    assert (write["Action"], write["Resource"]) == ("dynamodb:BatchWriteItem", synth.ref("aws_dynamodb_table", "replica-table/table", "arn"))


def test_replication_flattener_puts_the_replicas_changes_to_firehose(replication_synth: Synth) -> None:
    synth = replication_synth
    _, mapping = synth.only("aws_lambda_event_source_mapping", "flattener-mapping/mapping")
    assert _provider(mapping) == "aws.consumer"
    assert mapping["event_source_arn"] == synth.ref("aws_dynamodb_table", "replica-table/table", "stream_arn")
    _, function = synth.only("aws_lambda_function", "flattener-function/function")
    assert function["handler"] == "changes_handler.lambda_handler"
    assert function["environment"]["variables"]["DELIVERY_STREAM_NAME"] == "xacct-web-analytics-archive"
    put = _statement(synth, "aws_iam_role_policy", "firehose-put-policy", "PutToDeliveryStream")
    assert (put["Action"], put["Resource"]) == ("firehose:PutRecordBatch", synth.ref("aws_kinesis_firehose_delivery_stream", "delivery-stream", "arn"))
    _, table = synth.only("aws_dynamodb_table", "replica-table/table")
    assert (table["stream_enabled"], table["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")


def test_replication_firehose_writes_an_encrypted_versioned_private_bucket(replication_synth: Synth) -> None:
    synth = replication_synth
    key = synth.ref("aws_kms_key", "delivery/key/key", "arn")
    _, stream = synth.only("aws_kinesis_firehose_delivery_stream")
    s3 = stream["extended_s3_configuration"]
    assert (s3["prefix"], s3["error_output_prefix"], s3["buffering_size"], s3["buffering_interval"], s3["compression_format"]) == (
        "changes/", "errors/", 5, 300, "GZIP",
    )
    assert s3["kms_key_arn"] == key and s3["bucket_arn"] == synth.ref("aws_s3_bucket", "delivery/bucket", "arn")
    assert s3["cloudwatch_logging_options"]["enabled"] is True
    assert stream["server_side_encryption"] == {"enabled": True, "key_type": "CUSTOMER_MANAGED_CMK", "key_arn": key}
    _, bucket = synth.only("aws_s3_bucket")
    assert bucket["bucket"] == "xacct-web-analytics-${var.consumer_account_id}-${var.region}"
    assert synth.only("aws_s3_bucket_versioning")[1]["versioning_configuration"] == {"status": "Enabled"}
    (rule,) = synth.only("aws_s3_bucket_server_side_encryption_configuration")[1]["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": key} and rule["bucket_key_enabled"] is True
    block = synth.only("aws_s3_bucket_public_access_block")[1]
    assert [block[k] for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")] == [True] * 4
    trust = _statement(synth, "aws_iam_role", "delivery/role", "TrustFirehoseOfThisAccount", key="assume_role_policy")
    assert trust["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "${var.consumer_account_id}"}}
    deliver = _statement(synth, "aws_iam_role_policy", "delivery/role-policy", "DeliverToBucket")
    bucket_arn = synth.ref("aws_s3_bucket", "delivery/bucket", "arn")
    assert deliver["Resource"] == [bucket_arn, f"{bucket_arn}/*"]


def test_replication_firehose_key_grant_matches_the_bucket_key_encryption_context(replication_synth: Synth) -> None:
    # GIVEN the archive bucket encrypts with an S3 Bucket Key
    synth = replication_synth
    (rule,) = synth.only("aws_s3_bucket_server_side_encryption_configuration")[1]["rule"]
    assert rule["bucket_key_enabled"] is True
    # THEN the delivery role may use the key only through S3 and for exactly what S3 then sends as
    # the encryption context: the bucket's ARN (with a Bucket Key), not an object's ARN
    grant = _statement(synth, "aws_iam_role_policy", "delivery/role-policy", "EncryptObjectsViaS3")
    bucket_arn = synth.ref("aws_s3_bucket", "delivery/bucket", "arn")
    assert grant["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.${var.region}.amazonaws.com"},
        "ArnEquals": {"kms:EncryptionContext:aws:s3:arn": bucket_arn},
    }


def test_replication_resources_are_split_between_the_accounts(replication_synth: Synth) -> None:
    producer = {t for t, rs in replication_synth.config["resource"].items() for b in rs.values() if b["provider"] == "aws.producer"}
    consumer = {t for t, rs in replication_synth.config["resource"].items() for b in rs.values() if b["provider"] == "aws.consumer"}
    assert {"aws_kinesis_stream", "aws_lambda_function", "aws_lambda_event_source_mapping"} <= producer
    assert "aws_dynamodb_table" not in producer and "aws_s3_bucket" not in producer
    assert {"aws_dynamodb_table", "aws_kinesis_firehose_delivery_stream", "aws_s3_bucket", "aws_lambda_function"} <= consumer
    assert "aws_kinesis_stream" not in consumer


# --- the app ----------------------------------------------------------------------------------

def test_list_names_every_stack_and_its_source_document() -> None:
    result = run_main("--list")
    assert result.returncode == 0, result.stderr
    *stacks, others = result.stdout.splitlines()
    assert [line.split()[:4:3] for line in stacks] == [
        ["xacct-kinesis-efo", "000"], ["xacct-dynamodb-streams", "003"], ["xacct-kinesis-replication", "001"],
        ["xacct-ses-notifications", "004"], ["xacct-api-ingest", "002"],
    ]
    # the README's table lists six kinds: the sixth is said, not silently missing
    assert others == "(only from a settings file that names its kind: xacct-kinesis-fanout)"


@pytest.mark.slow  # seconds of CPU in a synth of its own: make test
def test_one_stack_is_synthesized_alone(tmp_path: Any) -> None:
    result = run_main("--stack", "xacct-dynamodb-streams", "--outdir", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "stacks").iterdir()) == ["xacct-dynamodb-streams"]


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(["--stack", "nope"], "error: stack: 'nope' is not allowed; expected one of 'xacct-kinesis-efo', 'xacct-dynamodb-streams', 'xacct-kinesis-replication', 'xacct-ses-notifications', 'xacct-api-ingest'", id="unknown-stack"),
        pytest.param(["--config", "tests/configs/replication-bad-prefix.toml"], "error: tests/configs/replication-bad-prefix.toml: delivery.prefix: '/changes' is not allowed; expected an S3 key prefix ending in '/' (no leading '/')", id="bad-delivery-prefix"),
        pytest.param(["--config", "tests/configs/replication-bad-writer.toml"], "error: tests/configs/replication-bad-writer.toml: writer.memory_size_mb: 64 is not allowed; expected an integer from 128 to 10240", id="writer-table-named"),
        pytest.param(["--config", "tests/configs/ddb-name-clash.toml"], "error: stack_name: 'xacct-kinesis-efo' is not allowed; expected a name not already used by the xacct-kinesis-efo stack", id="stack-name-clash"),
    ],
)
def test_bad_stack_selection_or_settings_fail_before_any_output(args: list[str], message: str, tmp_path: Any) -> None:
    out = tmp_path / "out"
    result = run_main(*args, "--outdir", str(out))
    assert result.returncode == 2
    assert result.stderr.strip() == message
    assert not out.exists()


# --- seed 004 ---------------------------------------------------------------------------------

def test_ses_forwarder_role_is_trusted_exactly_by_the_stream_writer_role(ses_synth: Synth) -> None:
    synth = ses_synth
    _, role = synth.only("aws_iam_role", "stream-writer-role/role")
    assert _provider(role) == "aws.producer"
    (trust,) = _policy(role, "assume_role_policy")["Statement"]
    assert trust == {
        "Sid": "TrustWriterFunctionRole",
        "Effect": "Allow",
        "Principal": {"AWS": synth.ref("aws_iam_role", "forwarder-function/role", "arn")},
        "Action": "sts:AssumeRole",
    }
    put = _statement(synth, "aws_iam_role_policy", "stream-writer-role/policy", "PutRecordsToStream")
    assert (put["Action"], put["Resource"]) == (list(STREAM_WRITE_ACTIONS), synth.ref("aws_kinesis_stream", "stream/stream", "arn"))
    role_arn = "arn:${data.aws_partition.partition.partition}:iam::${var.producer_account_id}:role/xacct-ses-stream-writer"
    assume = _statement(synth, "aws_iam_role_policy", "forwarder-function/runtime-policy", "AssumeSinkRole")
    assert assume["Resource"] == role_arn
    _, function = synth.only("aws_lambda_function")
    assert _provider(function) == "aws.consumer" and function["handler"] == "notifications_handler.lambda_handler"
    env = function["environment"]["variables"]
    assert (env["STREAM_ARN"], env["STREAM_ROLE_ARN"]) == (synth.ref("aws_kinesis_stream", "stream/stream", "arn"), role_arn)


def test_ses_publishes_to_an_encrypted_topic_the_forwarder_subscribes_to(ses_synth: Synth) -> None:
    synth = ses_synth
    _, config_set = synth.only("aws_ses_configuration_set")
    assert config_set["delivery_options"] == {"tls_policy": "Require"} and _provider(config_set) == "aws.consumer"
    _, destination = synth.only("aws_ses_event_destination")
    assert destination["sns_destination"] == {"topic_arn": synth.ref("aws_sns_topic", "notifications/topic", "arn")}
    assert destination["matching_types"] == ["send", "reject", "bounce", "complaint", "delivery", "open", "click", "renderingFailure"]
    assert synth.address("aws_sns_topic_policy", "notifications/topic-policy") in destination["depends_on"]
    _, topic = synth.only("aws_sns_topic", "notifications/topic")
    assert topic["kms_master_key_id"] == synth.ref("aws_kms_key", "notifications/key/key", "arn")
    publish = _statement(synth, "aws_sns_topic_policy", "notifications/topic-policy", "SesConfigurationSetPublishes")
    assert publish["Principal"] == {"Service": "ses.amazonaws.com"} and publish["Action"] == "SNS:Publish"
    assert publish["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "${var.consumer_account_id}"},
        "ArnLike": {"aws:SourceArn": "arn:${data.aws_partition.partition.partition}:ses:${var.region}:${var.consumer_account_id}:configuration-set/xacct-mail"},
    }
    # the key: SES may use it only for this topic's messages (SNS's encryption context), not under source
    # keys SES documents sending only to SNS
    _, key_policy = synth.only("aws_kms_key_policy", "notifications/key/policy")
    (ses_key,) = [s for s in json.loads(key_policy["policy"])["Statement"] if s["Sid"] == "SesPublishesToEncryptedTopic"]
    assert (ses_key["Principal"], ses_key["Action"]) == ({"Service": "ses.amazonaws.com"}, ["kms:Decrypt", "kms:GenerateDataKey"])
    assert ses_key["Condition"] == {"StringEquals": {
        "kms:EncryptionContext:aws:sns:topicArn": "arn:${data.aws_partition.partition.partition}:sns:${var.region}:${var.consumer_account_id}:xacct-ses-notifications"
    }}
    _, subscription = synth.only("aws_sns_topic_subscription")
    assert (subscription["protocol"], subscription["endpoint"]) == ("lambda", synth.ref("aws_lambda_function", "forwarder-function/function", "arn"))
    assert synth.address("aws_iam_role_policy", "stream-writer-role/policy") in subscription["depends_on"]
    _, permission = synth.only("aws_lambda_permission")
    assert (permission["principal"], permission["source_arn"]) == ("sns.amazonaws.com", synth.ref("aws_sns_topic", "notifications/topic", "arn"))
    _, invoke = synth.only("aws_lambda_function_event_invoke_config")
    assert invoke["destination_config"]["on_failure"]["destination"] == synth.ref("aws_sqs_queue", "on-failure-queue", "arn")
    assert not [n for n, b in synth.resources("aws_cloudwatch_metric_alarm").items() if b.get("metric_name") == "IteratorAge"]


# --- seed 002 ---------------------------------------------------------------------------------

def test_api_stream_is_shared_with_the_api_role_to_write_and_the_consumer_role_to_read(api_synth: Synth) -> None:
    synth = api_synth
    _, policy = synth.only("aws_kinesis_resource_policy", "shared-stream/stream-policy")
    grants = {s["Sid"]: (s["Principal"]["AWS"], s["Action"]) for s in _policy(policy)["Statement"]}
    assert grants == {
        "ShareStreamWithConsumerRole": (synth.ref("aws_iam_role", "consumer-function/role", "arn"), list(STREAM_READ_ACTIONS)),
        "ShareStreamWithProducerRole": (synth.ref("aws_iam_role", "integration-role", "arn"), list(STREAM_WRITE_ACTIONS)),
    }
    _, consumer_policy = synth.only("aws_kinesis_resource_policy", "shared-stream/consumer-policy")
    assert _policy(consumer_policy)["Statement"][0]["Action"] == list(STREAM_CONSUMER_READ_ACTIONS)
    grant = _statement(synth, "aws_kms_key_policy", "shared-stream/key/policy", "ProducerRoleEncryptViaKinesis")
    assert grant["Action"] == "kms:GenerateDataKey" and grant["Principal"] == {"AWS": synth.ref("aws_iam_role", "integration-role", "arn")}
    trust = _statement(synth, "aws_iam_role", "integration-role", "TrustApiGateway", key="assume_role_policy")
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    # API Gateway sends no aws:SourceAccount/SourceArn when it assumes the role: a condition on either
    # would deny every request (HTTP 500); iam:PassRole keeps other accounts' APIs from using it
    assert "Condition" not in trust


def test_api_route_is_authorized_and_integrated_with_kinesis_by_stream_arn(api_synth: Synth) -> None:
    synth = api_synth
    paths = sorted(b["path_part"] for b in synth.resources("aws_api_gateway_resource").values())
    assert paths == ["submit", "{eventId}"]
    _, authorizer = synth.only("aws_api_gateway_authorizer")
    assert (authorizer["type"], authorizer["identity_source"], authorizer["authorizer_result_ttl_in_seconds"]) == (
        "REQUEST", "method.request.header.Authorization", 0,
    )
    assert authorizer["authorizer_uri"] == synth.ref("aws_lambda_function", "authorizer-function/function", "invoke_arn")
    _, method = synth.only("aws_api_gateway_method")
    assert (method["http_method"], method["authorization"]) == ("POST", "CUSTOM")
    assert method["authorizer_id"] == synth.ref("aws_api_gateway_authorizer", "", "id")
    _, integration = synth.only("aws_api_gateway_integration")
    assert integration["type"] == "AWS" and integration["passthrough_behavior"] == "NEVER"
    assert integration["uri"] == "arn:${data.aws_partition.partition.partition}:apigateway:${var.region}:kinesis:action/PutRecord"
    assert integration["credentials"] == synth.ref("aws_iam_role", "integration-role", "arn")
    template = integration["request_templates"]["application/json"]
    # escapeJavaScript's \' turned back into ' (valid JSON for an eventId with a quote), as AWS's template reference says
    assert template == (
        '{"StreamARN":"' + synth.ref("aws_kinesis_stream", "shared-stream/stream", "arn") + '",'
        '"PartitionKey":"$util.escapeJavaScript($input.params(\'eventId\')).replaceAll(\"\\\\\'\",\"\'\")","Data":"$util.base64Encode($input.body)"}'
    )
    assert integration["request_parameters"] == {"integration.request.header.Content-Type": "'application/x-amz-json-1.1'"}
    put = _statement(synth, "aws_iam_role_policy", "integration-role-policy", "PutToStream")
    assert (put["Action"], put["Resource"]) == (list(STREAM_WRITE_ACTIONS), synth.ref("aws_kinesis_stream", "shared-stream/stream", "arn"))


def test_api_secret_stage_logs_and_authorizer_permissions(api_synth: Synth) -> None:
    synth = api_synth
    _, secret = synth.only("aws_secretsmanager_secret")
    assert secret["kms_key_id"] == synth.ref("aws_kms_key", "api/key/key", "arn") and secret["name"] == "xacct-ingest/basic-auth"
    # the password: drawn by an ephemeral resource, written write-only, so never in a plan or in state
    _, version = synth.only("aws_secretsmanager_secret_version")
    assert "secret_string" not in version and "lifecycle" not in version
    assert version["secret_string_wo"] == (
        '${jsonencode({username = "ingest", password = ephemeral.aws_secretsmanager_random_password.api-password.random_password})}'
    )
    assert version["secret_string_wo_version"] == 1
    assert synth.config["ephemeral"] == {"aws_secretsmanager_random_password": {"api-password": {
        "provider": "aws.consumer", "password_length": 32, "exclude_characters": "\"'\\:", "require_each_included_type": True}}}
    assert "aws_secretsmanager_random_password" not in synth.config.get("data", {})
    read = _statement(synth, "aws_iam_role_policy", "secret-read-policy", "ReadBasicAuthSecret")
    assert (read["Action"], read["Resource"]) == ("secretsmanager:GetSecretValue", synth.ref("aws_secretsmanager_secret", "", "arn"))
    _, function = synth.only("aws_lambda_function", "authorizer-function/function")
    assert function["handler"] == "authorizer_handler.lambda_handler" and function["timeout"] == 3
    assert function["environment"]["variables"]["SECRET_ID"] == "xacct-ingest/basic-auth"
    _, stage = synth.only("aws_api_gateway_stage")
    assert stage["xray_tracing_enabled"] is True
    assert stage["access_log_settings"]["destination_arn"] == synth.ref("aws_cloudwatch_log_group", "api/access-logs", "arn")
    assert json.loads(stage["access_log_settings"]["format"])["status"] == "$context.status"
    _, group = synth.only("aws_cloudwatch_log_group", "api/access-logs")
    assert (group["retention_in_days"], group["kms_key_id"]) == (365, synth.ref("aws_kms_key", "api/key/key", "arn"))
    _, settings = synth.only("aws_api_gateway_method_settings")
    assert settings["settings"]["throttling_rate_limit"] == 100 and settings["settings"]["data_trace_enabled"] is False
    _, permission = synth.only("aws_lambda_permission")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["source_arn"] == "${aws_api_gateway_rest_api." + synth.only("aws_api_gateway_rest_api")[0] + ".execution_arn}/authorizers/" + synth.ref("aws_api_gateway_authorizer", "", "id")
    _, mapping = synth.only("aws_lambda_event_source_mapping")
    assert mapping["event_source_arn"] == synth.ref("aws_kinesis_stream_consumer", "", "arn")


def test_api_leaves_the_accounts_api_gateway_logging_role_alone_by_default(api_synth: Synth) -> None:
    # API Gateway's CloudWatch role is one setting per account and region: a stack must not take it.
    assert "aws_api_gateway_account" not in api_synth.config["resource"]
    assert not [name for name in api_synth.resources("aws_iam_role") if "logging-role" in name]


def test_api_logging_role_when_asked_for_lists_log_groups_on_star(api_logging_synth: Synth) -> None:
    # GIVEN manage_account_logging_role = true
    synth = api_logging_synth
    _, account = synth.only("aws_api_gateway_account")
    assert account["cloudwatch_role_arn"] == synth.ref("aws_iam_role", "api/logging-role", "arn")
    # a destroy puts the account's setting back rather than leaving it on the role it deletes (aws 6.x
    # removed the argument: it always does)
    assert account.get("reset_on_delete") is (True if framework.line().aws_major < 6 else None)
    write = _statement(synth, "aws_iam_role_policy", "api/logging-role-policy", "WriteAccessLogs")
    group_arn = synth.ref("aws_cloudwatch_log_group", "api/access-logs", "arn")
    assert write["Action"] == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    assert write["Resource"] == [group_arn, f"{group_arn}:log-stream:*"]
    # THEN DescribeLogGroups, which has no resource-level permission, is granted where it works: "*"
    listing = _statement(synth, "aws_iam_role_policy", "api/logging-role-policy", "ListLogGroupsNoResourceLevelPermissions")
    assert (listing["Action"], listing["Resource"]) == ("logs:DescribeLogGroups", "*")


def test_api_redeploys_on_any_change_to_what_the_stage_serves(api_synth: Synth) -> None:
    # GIVEN the deployment's trigger
    (deployment,) = api_synth.resources("aws_api_gateway_deployment").values()
    trigger = deployment["triggers"]["redeployment"]
    assert trigger.startswith("${sha1(jsonencode([") and trigger.endswith("]))}")
    hashed = set(trigger.removeprefix("${sha1(jsonencode([").removesuffix("]))}").split(", "))
    # THEN it hashes the arguments that in-place edits change, not only ids (which change on replacement)
    integration, _ = api_synth.only("aws_api_gateway_integration")
    authorizer, _ = api_synth.only("aws_api_gateway_authorizer")
    for attribute in ("request_templates", "credentials", "uri", "passthrough_behavior", "id"):
        assert f"aws_api_gateway_integration.{integration}.{attribute}" in hashed, attribute
    for attribute in ("authorizer_uri", "identity_source", "authorizer_result_ttl_in_seconds"):
        assert f"aws_api_gateway_authorizer.{authorizer}.{attribute}" in hashed, attribute
    for name in api_synth.resources("aws_api_gateway_integration_response"):
        assert f"aws_api_gateway_integration_response.{name}.response_templates" in hashed
        assert f"aws_api_gateway_integration_response.{name}.selection_pattern" in hashed or name.startswith("api_integration-response-200")
    # AND nothing that does not shape the API (the api id every resource shares, meta-arguments)
    assert not [h for h in hashed if h.endswith((".rest_api_id", ".provider", ".depends_on", ".lifecycle"))]
