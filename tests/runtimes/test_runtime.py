"""The consumer runtime against moto: real boto3 calls, scripted throttling, two accounts."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Iterator

import boto3
import pytest

from conftest import TESTS
from runtime_fakes import REGION, TABLE, FakeClock, ScriptedDynamoDB, create_table
from botocore.exceptions import ClientError
from moto import mock_aws

from kinesis_events import SOURCE_ARN, Context, event, json_bytes, record, sequence
from xacct_consumer import kpl
from xacct_consumer.config import Settings
from xacct_consumer.delivery import Clock
from xacct_consumer.runtime import Runtime

EVENTS = TESTS / "events"


@dataclass
class Aws:
    dynamodb: Any
    sqs: Any
    queue_url: str

    def items(self) -> list[dict[str, Any]]:
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=TABLE)
        return sorted((i for p in pages for i in p["Items"]), key=lambda i: (i["pk"]["S"], i["sk"]["S"]))

    def messages(self) -> list[dict[str, Any]]:
        out = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return sorted(out, key=lambda m: (int(m["sequence_number"]), m["sub_sequence_number"] or 0))
            for message in batch:
                out.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def aws(aws_env: None) -> Iterator[Aws]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_table(dynamodb)
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="xacct-stream-consumer-dlq")["QueueUrl"]
        yield Aws(dynamodb, sqs, url)


def settings(aws: Aws, **overrides: Any) -> Settings:
    values = {"table_name": TABLE, "dead_letter_queue_url": aws.queue_url, "region": REGION, "sink_region": REGION, "function_name": "test-fn"}
    return Settings(**{**values, **overrides})


def runtime(aws: Aws, dynamodb: Any = None, sqs: Any = None, clock: Clock | None = None) -> Runtime:
    return Runtime(settings(aws), dynamodb or aws.dynamodb, sqs or aws.sqs, clock or FakeClock())


# --- happy path and replay --------------------------------------------------------------------

def test_sample_event_is_written_with_idempotent_keys(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the sample batch of two orders
    sample = json.loads((EVENTS / "kinesis_efo_batch.json").read_text())
    # WHEN
    response = runtime(aws).process(sample, Context())
    # THEN both are in the table, keyed by shard and sequence number, payload kept as sent
    assert response == {"batchItemFailures": []}
    items = aws.items()
    assert [i["sk"]["S"] for i in sorted(items, key=lambda i: i["sk"]["S"])] == [
        "49590338271490256608559692538361571095921575989136588801#00000",
        "49590338271490256608559692538361571095921575989136588802#00000",
    ]
    first = next(i for i in items if i["sk"]["S"].startswith("49590338271490256608559692538361571095921575989136588801"))
    assert first["pk"]["S"].startswith("shardId-000000000000#") and len(first["pk"]["S"]) == len("shardId-000000000000#") + 2
    assert json.loads(first["payload"]["S"]) == {"order_id": "o-1", "amount": 12.5}
    assert first["partition_key"]["S"] == "order-1"
    assert first["arrival_ms"]["N"] == "1763800000123"
    assert sorted(first) == ["arrival_ms", "partition_key", "payload", "pk", "sk"]
    assert aws.messages() == []
    # AND one log line with counts that is also CloudWatch metrics
    (line,) = [json.loads(l) for l in capsys.readouterr().out.splitlines() if '"_aws"' in l]
    assert (line["RecordsIn"], line["RecordsWritten"], line["RecordsParked"], line["RecordsRetried"], line["RecordsFailed"]) == (2, 2, 0, 0, 0)
    assert [m["Name"] for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == [
        "RecordsIn", "RecordsWritten", "RecordsParked", "RecordsRetried", "RecordsFailed",
    ]
    assert line["FunctionName"] == "test-fn" and line["dynamodb_calls"] == 1


def test_replay_leaves_the_table_identical(aws: Aws) -> None:
    # GIVEN a batch already processed once
    batch = event(json_bytes({"n": n, "text": "x" * n}) for n in range(60))
    worker = runtime(aws)
    assert worker.process(batch, Context()) == {"batchItemFailures": []}
    before = aws.items()
    # WHEN the same records arrive again (a replay from TRIM_HORIZON, a retried batch)
    assert worker.process(batch, Context()) == {"batchItemFailures": []}
    # THEN
    assert len(before) == 60
    assert aws.items() == before


def test_writes_go_out_25_items_per_call(aws: Aws) -> None:
    scripted = ScriptedDynamoDB(aws.dynamodb, [])
    runtime(aws, dynamodb=scripted).process(event(json_bytes({"n": n}) for n in range(60)), Context())
    assert scripted.calls == 3
    assert len(aws.items()) == 60


# --- poison records --------------------------------------------------------------------------

OVERSIZE_OBJECT = json_bytes({"blob": "y" * (401 * 1024)})


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        pytest.param(b"\xff\xfe\x00garbage", "not UTF-8 text", id="not-utf8"),
        pytest.param(b"{not json", "not JSON", id="not-json"),
        pytest.param(b"[1, 2, 3]", "not a JSON object (a JSON list)", id="json-list"),
        pytest.param(b"42", "not a JSON object (a JSON int)", id="json-number"),
        pytest.param(b'"text"', "not a JSON object (a JSON str)", id="json-string"),
        pytest.param(b"null", "not a JSON object (a JSON NoneType)", id="json-null"),
    ],
)
def test_poison_record_is_parked_with_its_payload_and_acknowledged(aws: Aws, payload: bytes, reason: str) -> None:
    # GIVEN a poison record between two good ones
    batch = event([json_bytes({"n": 1}), payload, json_bytes({"n": 3})])
    # WHEN
    response = runtime(aws).process(batch, Context())
    # THEN the good ones are written, the poison one is in the queue, and nothing is retried
    assert response == {"batchItemFailures": []}
    assert len(aws.items()) == 2
    (message,) = aws.messages()
    assert message["reason"] == reason
    assert base64.b64decode(message["data_base64"]) == payload
    assert (message["shard_id"], message["sequence_number"], message["sub_sequence_number"]) == ("shardId-000000000000", sequence(1), None)
    assert message["event_source_arn"] == SOURCE_ARN
    assert message["partition_key"] == "pk-1"
    assert (message["part"], message["parts"]) == (1, 1)


def test_record_that_is_not_base64_is_parked_as_delivered(aws: Aws) -> None:
    batch = event([json_bytes({"n": 1})])
    batch["Records"][0]["kinesis"]["data"] = "%%% not base64 %%%"
    assert runtime(aws).process(batch, Context()) == {"batchItemFailures": []}
    (message,) = aws.messages()
    assert (message["reason"], message["data_base64"]) == ("not base64", "%%% not base64 %%%")


def test_object_over_the_item_size_limit_is_parked_in_parts(aws: Aws) -> None:
    # GIVEN a 401 KB object: too big for an item, and (base64) for one 256 KB SQS message
    # WHEN
    assert runtime(aws).process(event([OVERSIZE_OBJECT]), Context()) == {"batchItemFailures": []}
    # THEN it is parked as numbered parts that join back to the exact payload
    parts = sorted(aws.messages(), key=lambda m: m["part"])
    assert [(m["part"], m["parts"]) for m in parts] == [(1, 3), (2, 3), (3, 3)]
    assert {m["reason"] for m in parts} == {"over the DynamoDB item size limit (400 KB)"}
    assert {m["sequence_number"] for m in parts} == {sequence(0)}
    assert base64.b64decode("".join(m["data_base64"] for m in parts)) == OVERSIZE_OBJECT
    assert aws.items() == []


def test_dead_letter_queue_failure_is_reported_not_acknowledged(aws: Aws) -> None:
    class DeniedSqs:
        calls = 0

        def send_message_batch(self, **_: Any) -> dict[str, Any]:
            DeniedSqs.calls += 1
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "SendMessageBatch")

    batch = event([json_bytes({"n": 0}), b"not json", json_bytes({"n": 2}), b"[]"])
    response = runtime(aws, sqs=DeniedSqs()).process(batch, Context())
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence(1)}]}
    assert DeniedSqs.calls == 1  # access denied is not retried
    assert len(aws.items()) == 2


# --- transient failures ------------------------------------------------------------------------

def test_throttled_batches_are_retried_with_growing_jittered_backoff(aws: Aws) -> None:
    clock = FakeClock()
    scripted = ScriptedDynamoDB(aws.dynamodb, ["throttle", "throttle", "ok"])
    response = runtime(aws, dynamodb=scripted, clock=clock).process(event(json_bytes({"n": n}) for n in range(10)), Context())
    assert response == {"batchItemFailures": []}
    assert len(aws.items()) == 10
    assert scripted.calls == 3
    assert clock.sleeps == [0.05, 0.1]  # full jitter window: 50 ms * 2**attempt (uniform returns its top)


def test_unprocessed_items_are_retried_until_written(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    scripted = ScriptedDynamoDB(aws.dynamodb, ["unprocessed:7", "unprocessed:2", "ok"])
    response = runtime(aws, dynamodb=scripted).process(event(json_bytes({"n": n}) for n in range(20)), Context())
    assert response == {"batchItemFailures": []}
    assert len(aws.items()) == 20
    (line,) = [json.loads(l) for l in capsys.readouterr().out.splitlines() if '"_aws"' in l]
    assert line["RecordsRetried"] == 9 and line["RecordsWritten"] == 20


def test_when_time_runs_out_the_lowest_unwritten_sequence_number_is_reported(aws: Aws) -> None:
    # GIVEN 60 records (3 calls): the first call is fully written, the others stay throttled,
    # a poison record before the first failure and one after it, and 3 s left of the function's time
    payloads = [json_bytes({"n": n}) for n in range(60)]
    payloads[10] = b"not json"
    payloads[40] = b"not json either"
    clock = FakeClock()
    scripted = ScriptedDynamoDB(aws.dynamodb, ["ok"] + ["throttle"] * 100)
    # WHEN
    response = runtime(aws, dynamodb=scripted, clock=clock).process(event(payloads), Context(remaining_ms=3000))
    # THEN items 0-25 (the first call, poison 10 excluded) are written; the lowest failed is record 26
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence(26)}]}
    written = {i["sk"]["S"].split("#")[0] for i in aws.items()}
    assert written == {sequence(n) for n in range(26) if n != 10}
    # AND poison 10 is parked now, poison 40 is left for the retry (so it is parked once)
    assert [m["sequence_number"] for m in aws.messages()] == [sequence(10)]
    assert sum(clock.sleeps) < 2.0  # no wait may end past the deadline (3 s - 1 s safety)


# --- KPL aggregation -----------------------------------------------------------------------------

def test_aggregated_records_are_deaggregated_each_with_its_own_identity(aws: Aws) -> None:
    # GIVEN one Kinesis record aggregating three user records, the middle one poison
    aggregate = kpl.aggregate(
        [
            kpl.SubRecord("user-a", json_bytes({"user": "a"})),
            kpl.SubRecord("user-b", b"oops"),
            kpl.SubRecord("user-a", json_bytes({"user": "c"})),
        ]
    )
    batch = {"Records": [record(json_bytes({"plain": True}), 0), record(aggregate, 1)]}
    # WHEN
    response = runtime(aws).process(batch, Context())
    # THEN
    assert response == {"batchItemFailures": []}
    keyed = {i["sk"]["S"]: (i["partition_key"]["S"], json.loads(i["payload"]["S"])) for i in aws.items()}
    assert keyed == {
        f"{sequence(0)}#00000": ("pk-1", {"plain": True}),
        f"{sequence(1)}#00000": ("user-a", {"user": "a"}),
        f"{sequence(1)}#00002": ("user-a", {"user": "c"}),
    }
    (message,) = aws.messages()
    assert (message["sequence_number"], message["sub_sequence_number"], message["reason"]) == (sequence(1), 1, "not JSON")
    assert base64.b64decode(message["data_base64"]) == b"oops"


def test_corrupt_aggregate_with_a_valid_checksum_is_parked_whole(aws: Aws) -> None:
    import hashlib

    message = b"\x1a\x05\x08\x07\x1a\x01x"  # a record pointing at partition key 7 of an empty table
    data = kpl.MAGIC + message + hashlib.md5(message).digest()
    assert runtime(aws).process({"Records": [record(data, 0)]}, Context()) == {"batchItemFailures": []}
    (parked,) = aws.messages()
    assert parked["reason"] == "malformed KPL aggregate: partition_key_index 7 outside a table of 0"
    assert base64.b64decode(parked["data_base64"]) == data


# --- cross-account sink ------------------------------------------------------------------------

SINK_ACCOUNT = "333333333333"
SINK_ROLE = f"arn:aws:iam::{SINK_ACCOUNT}:role/xacct-sink-writer"


def test_cross_account_sink_via_assumed_role_cached_across_invocations(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the sink table in another account, reachable by assuming a role there
    sts = boto3.client("sts", region_name=REGION)
    creds = sts.assume_role(RoleArn=SINK_ROLE, RoleSessionName="setup")["Credentials"]
    other = boto3.client(
        "dynamodb", region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
    )
    create_table(other)
    aws.dynamodb.delete_table(TableName=TABLE)  # so a write to the wrong account cannot succeed
    calls: list[dict[str, Any]] = []

    import xacct_consumer.runtime as runtime_module

    real = runtime_module.assumed_role_session

    def counting(sts_client: Any, *args: Any, **kwargs: Any) -> Any:
        class Counting:
            def assume_role(self, **request: Any) -> Any:
                calls.append(request)
                return sts_client.assume_role(**request)

        return real(Counting(), *args, **kwargs)

    monkeypatch.setattr(runtime_module, "assumed_role_session", counting)
    worker = Runtime.from_settings(settings(aws, sink_role_arn=SINK_ROLE, sink_external_id="xacct-ext-1"))
    # WHEN two invocations run in the same container
    assert worker.process(event(json_bytes({"n": n}) for n in range(3)), Context()) == {"batchItemFailures": []}
    second = event((json_bytes({"n": n}) for n in range(3, 5)), shard="shardId-000000000001")
    assert worker.process(second, Context()) == {"batchItemFailures": []}
    # THEN the items are in the sink account, and STS was called once, at cold start
    items = other.scan(TableName=TABLE)["Items"]
    assert sorted(json.loads(i["payload"]["S"])["n"] for i in items) == [0, 1, 2, 3, 4]
    assert [(c["RoleArn"], c["ExternalId"], c["DurationSeconds"]) for c in calls] == [(SINK_ROLE, "xacct-ext-1", 3600)]
    identity = boto3.client(
        "sts", region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
    ).get_caller_identity()
    assert identity["Account"] == SINK_ACCOUNT
