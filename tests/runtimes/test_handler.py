"""handler.py as Lambda runs it: configuration at cold start, clients once per container."""

from __future__ import annotations

import importlib
import json
from typing import Any, Optional, Iterator

import boto3
import pytest

from conftest import TESTS
from moto import mock_aws

from kinesis_events import Context
from runtime_fakes import REGION, TABLE, create_table

EVENTS = TESTS / "events"


def _load_handler(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], capsys: Optional[pytest.CaptureFixture[str]] = None) -> Any:
    for name in ("TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "SINK_ROLE_ARN", "SINK_REGION", "SINK_EXTERNAL_ID", "LOG_LEVEL", "METRICS_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import handler

    if capsys is not None:
        capsys.readouterr()  # the first import in this process (an xdist worker's) already ran a cold start
    return importlib.reload(handler)  # a cold start


@pytest.fixture
def deployed(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, str]]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_table(dynamodb)
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="xacct-stream-consumer-dlq")["QueueUrl"]
        module = _load_handler(monkeypatch, {"TABLE_NAME": TABLE, "DEAD_LETTER_QUEUE_URL": url, "AWS_LAMBDA_FUNCTION_NAME": "xacct-stream-consumer"})
        yield module, dynamodb, url


def test_mixed_sample_batch_end_to_end(deployed: tuple[Any, Any, str]) -> None:
    # GIVEN the deployed handler and the sample batch with one good and two undecodable records
    module, dynamodb, url = deployed
    sample = json.loads((EVENTS / "kinesis_efo_batch_with_undecodable.json").read_text())
    # WHEN
    response = module.lambda_handler(sample, Context())
    # THEN
    assert response == {"batchItemFailures": []}
    assert dynamodb.scan(TableName=TABLE)["Count"] == 1
    messages = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(json.loads(m["Body"])["reason"] for m in messages) == ["not JSON", "not base64"]


def test_clients_are_created_once_per_container(deployed: tuple[Any, Any, str]) -> None:
    module, _, _ = deployed
    sample = json.loads((EVENTS / "kinesis_efo_batch.json").read_text())
    module.lambda_handler(sample, Context())
    first = module.runtime()
    module.lambda_handler(sample, Context())
    assert module.runtime() is first
    assert first.dynamodb is module.runtime().dynamodb


@pytest.mark.parametrize(
    ("env", "variable", "fragment"),
    [
        pytest.param({"DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq"}, "TABLE_NAME", "is not set", id="missing-table"),
        pytest.param({"TABLE_NAME": "t1x"}, "DEAD_LETTER_QUEUE_URL", "is not set", id="missing-queue"),
        pytest.param({"TABLE_NAME": "t1x", "DEAD_LETTER_QUEUE_URL": "sqs://nope"}, "DEAD_LETTER_QUEUE_URL", "'sqs://nope' is not an SQS queue URL", id="bad-queue"),
        pytest.param({"TABLE_NAME": "a b", "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq"}, "TABLE_NAME", "'a b' is not a DynamoDB table name", id="bad-table"),
        pytest.param(
            {"TABLE_NAME": "t1x", "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq", "SINK_ROLE_ARN": "arn:aws:iam::1:user/x"},
            "SINK_ROLE_ARN", "is not an IAM role ARN", id="bad-role",
        ),
        pytest.param(
            {"TABLE_NAME": "t1x", "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq", "SINK_REGION": "moon-1"},
            "SINK_REGION", "'moon-1' is not an AWS region", id="bad-sink-region",
        ),
        pytest.param(
            {"TABLE_NAME": "t1x", "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq", "SINK_EXTERNAL_ID": "ext-id"},
            "SINK_EXTERNAL_ID", "is set but SINK_ROLE_ARN is not", id="external-id-without-role",
        ),
        pytest.param(
            {"TABLE_NAME": "t1x", "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq", "LOG_LEVEL": "LOUD"},
            "LOG_LEVEL", "'LOUD' is not one of DEBUG, INFO, WARNING, ERROR", id="bad-log-level",
        ),
    ],
)
def test_bad_configuration_is_one_log_line_at_cold_start_and_every_invocation_fails(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str], variable: str, fragment: str
) -> None:
    # GIVEN / WHEN a cold start with bad settings
    module = _load_handler(monkeypatch, env, capsys)
    # THEN exactly one line names the variable
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 1
    assert (lines[0]["level"], lines[0]["message"], lines[0]["variable"]) == ("ERROR", "invalid configuration", variable)
    assert fragment in lines[0]["error"]
    # AND invocations fail (Lambda keeps the records) instead of acknowledging them
    with pytest.raises(RuntimeError, match=f"invalid configuration: {variable}: "):
        module.lambda_handler({"Records": []}, Context())


@pytest.mark.parametrize(
    "module_name, env, variable, failure",
    [
        pytest.param("changes_handler", {"DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/222222222222/dlq"}, "TABLE_NAME", RuntimeError, id="changes-no-sink"),
        pytest.param("notifications_handler", {"DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/222222222222/dlq"}, "STREAM_ARN", RuntimeError, id="notifications-no-stream"),
        pytest.param("authorizer_handler", {}, "SECRET_ID", Exception, id="authorizer-no-secret"),
    ],
)
def test_every_handler_logs_bad_settings_once_and_refuses_to_run(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    module_name: str, env: dict[str, str], variable: str, failure: type[Exception],
) -> None:
    # GIVEN a cold start of the handler module with a setting missing
    for name in ("TABLE_NAME", "DELIVERY_STREAM_NAME", "STREAM_ARN", "STREAM_ROLE_ARN", "SECRET_ID", "DEAD_LETTER_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    module = importlib.import_module(module_name)
    capsys.readouterr()  # a first import in this process may have run it already
    module = importlib.reload(module)
    # THEN one line names the variable
    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert (line["level"], line["message"], line["variable"]) == ("ERROR", "invalid configuration", variable)
    # AND every invocation fails (the authorizer with 401 "Unauthorized"), nothing is let through
    with pytest.raises(failure, match="invalid configuration|^Unauthorized$"):
        module.lambda_handler({"Records": [], "methodArn": "arn:aws:execute-api:eu-west-1:1:a/prod/POST/x"}, Context())
