"""The change forwarder (DynamoDB Streams -> change-log table or Firehose) against moto."""

from __future__ import annotations

import json
from typing import Any, Iterator

import boto3
import pytest

from conftest import TESTS
from moto import mock_aws

from dynamodb_events import STREAM_ARN, change, insert, sequence
from kinesis_events import Context
from runtime_fakes import FakeClock
from xacct_changes.changes import decode_changes
from xacct_changes.config import ChangeSettings
from xacct_changes.images import ImageError, flatten, to_json
from xacct_changes.runtime import ChangeRuntime
from xacct_consumer.config import ConfigurationError

REGION = "eu-west-1"
LOG_TABLE = "xacct-change-log"
DELIVERY_STREAM = "xacct-changes"
BUCKET = "xacct-changes-archive"
EVENTS = TESTS / "events"
SAMPLE = json.loads((EVENTS / "dynamodb_stream_batch.json").read_text())


class Aws:
    def __init__(self) -> None:
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.dynamodb.create_table(
            TableName=LOG_TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.s3 = boto3.client("s3", region_name=REGION)
        self.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        self.firehose = boto3.client("firehose", region_name=REGION)
        self.firehose.create_delivery_stream(
            DeliveryStreamName=DELIVERY_STREAM,
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                "BucketARN": f"arn:aws:s3:::{BUCKET}",
                "Prefix": "changes/",
            },
        )
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.queue_url = self.sqs.create_queue(QueueName="xacct-changes-dlq")["QueueUrl"]

    def items(self) -> list[dict[str, Any]]:
        return sorted(self.dynamodb.scan(TableName=LOG_TABLE)["Items"], key=lambda i: i["sk"]["S"])

    def lines(self) -> list[dict[str, Any]]:
        keys = sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))
        text = "".join(self.s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().decode() for k in keys)
        assert text == "" or text.endswith("\n")
        return [json.loads(line) for line in text.splitlines()]

    def parked(self) -> list[dict[str, Any]]:
        out = []
        while batch := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                out.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return sorted(out, key=lambda m: int(m["sequence_number"]))


@pytest.fixture
def aws(aws_env: None) -> Iterator[Aws]:
    with mock_aws():
        yield Aws()


def table_runtime(aws: Aws, dynamodb: Any = None) -> ChangeRuntime:
    settings = ChangeSettings(dead_letter_queue_url=aws.queue_url, region=REGION, table_name=LOG_TABLE, function_name="fn")
    return ChangeRuntime(settings, dynamodb or aws.dynamodb, aws.sqs, FakeClock())


def firehose_runtime(aws: Aws, firehose: Any = None) -> ChangeRuntime:
    settings = ChangeSettings(dead_letter_queue_url=aws.queue_url, region=REGION, delivery_stream_name=DELIVERY_STREAM, function_name="fn")
    return ChangeRuntime(settings, firehose or aws.firehose, aws.sqs, FakeClock())


SAMPLE_NEW_IMAGE = (
    '{"pk":"order-1","sk":"v1","amount":12.50,"exact":3.14159265358979323846264338327950288,"paid":true,"note":null,'
    '"lines":[{"sku":"A-1","qty":2}],"tags":["express","gift"],"sizes":[2,10],"blob":"aGVsbG8="}'
)


# --- flattening -------------------------------------------------------------------------------

def test_sample_image_flattens_every_type_without_losing_digits() -> None:
    # GIVEN the sample INSERT's new image (every DynamoDB type)
    image = SAMPLE["Records"][0]["dynamodb"]["NewImage"]
    # WHEN
    text = to_json(flatten(image))
    # THEN numbers keep their exact text, sets are sorted, binaries stay base64
    assert text == SAMPLE_NEW_IMAGE
    assert json.loads(text, parse_float=str)["exact"] == "3.14159265358979323846264338327950288"


@pytest.mark.parametrize(
    "typed, message",
    [
        pytest.param({"N": "twelve"}, "is not a decimal", id="number-not-decimal"),
        pytest.param({"N": "Infinity"}, "is not finite", id="number-infinite"),
        pytest.param({"N": 12}, "is not a string", id="number-not-text"),
        pytest.param({"X": "1"}, "unknown attribute type 'X'", id="unknown-type"),
        pytest.param({"S": "a", "N": "1"}, "is not a one-key map", id="two-types"),
        pytest.param({"BOOL": "true"}, "is not a boolean", id="bool-as-text"),
        pytest.param({"SS": ["a", 1]}, "is not a list of strings", id="string-set-with-number"),
        pytest.param({"L": {"S": "a"}}, "is not a list", id="list-not-list"),
    ],
)
def test_malformed_values_are_rejected_with_the_reason(typed: dict[str, Any], message: str) -> None:
    with pytest.raises(ImageError, match=message):
        flatten({"attr": typed})


# --- change-log table -------------------------------------------------------------------------

def test_sample_batch_lands_in_the_change_log_with_idempotent_keys(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the sample INSERT and REMOVE; WHEN
    response = table_runtime(aws).process(SAMPLE, Context())
    # THEN
    assert response == {"batchItemFailures": []}
    assert [i["sk"]["S"] for i in aws.items()] == [
        "0000000000004421584500000000017450439091",
        "0000000000004421584500000000017450439098",
    ]
    first, second = aws.items()
    assert first["pk"]["S"] == '{"pk":"order-1","sk":"v1"}'
    assert first["event_name"]["S"] == "INSERT" and first["created_ms"]["N"] == "1763856000000"
    assert first["new_image"]["S"] == SAMPLE_NEW_IMAGE and "old_image" not in first
    assert second["pk"]["S"] == '{"pk":"order-0","sk":"v1"}' and second["event_name"]["S"] == "REMOVE"
    assert second["old_image"]["S"] == '{"pk":"order-0","sk":"v1","amount":7}' and "new_image" not in second
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["RecordsIn"], line["RecordsWritten"], line["RecordsFailed"], line["sink"]) == (2, 2, 0, "table")


def test_replaying_a_batch_changes_nothing(aws: Aws) -> None:
    runtime = table_runtime(aws)
    runtime.process(SAMPLE, Context())
    before = aws.items()
    # WHEN Lambda delivers the same batch again (a retry after a timeout)
    assert runtime.process(SAMPLE, Context()) == {"batchItemFailures": []}
    # THEN the table holds exactly the same two items
    assert aws.items() == before and len(before) == 2


def test_poison_before_a_write_failure_is_parked_and_the_lowest_failure_reported(aws: Aws) -> None:
    # GIVEN five changes: #1 malformed, #3 malformed, and the table refuses everything from #2 on
    records = [insert(0, amount={"N": "1"}), change(1, keys={"pk": {"X": "?"}}), insert(2), change(3, "RENAME"), insert(4)]

    class RefusesAfterFirst:
        def __init__(self, real: Any) -> None:
            self.real, self.calls = real, 0

        def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
            (table, requests), = RequestItems.items()
            self.calls += 1
            taken = requests[:1] if self.calls == 1 else []
            if taken:
                self.real.batch_write_item(RequestItems={table: taken})
            return {"UnprocessedItems": {table: json.loads(json.dumps(requests[len(taken):]))}}

    runtime = table_runtime(aws, RefusesAfterFirst(aws.dynamodb))
    # WHEN (the deadline cuts the retries short: 2 s left)
    response = runtime.process({"Records": records}, Context(remaining_ms=2_000))
    # THEN #0 is written, #1 (before the first failure, #2) parked, #3 waits for the retry
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence(2)}]}
    assert [i["sk"]["S"].lstrip("0") for i in aws.items()] == [sequence(0)]
    parked = aws.parked()
    assert [(p["sequence_number"], p["parts"]) for p in parked] == [(sequence(1), 1)]
    assert parked[0]["reason"] == "not a DynamoDB image: unknown attribute type 'X'"
    assert json.loads(parked[0]["record_json"])["dynamodb"]["Keys"] == {"pk": {"X": "?"}}
    assert parked[0]["event_source_arn"] == STREAM_ARN


# --- Firehose ---------------------------------------------------------------------------------

def test_sample_batch_reaches_s3_through_firehose_as_json_lines(aws: Aws) -> None:
    response = firehose_runtime(aws).process(SAMPLE, Context())
    assert response == {"batchItemFailures": []}
    inserted, removed = aws.lines()
    assert inserted == {
        "table": "xacct-orders",
        "event_name": "INSERT",
        "sequence_number": "4421584500000000017450439091",
        "approximate_creation_ms": 1763856000000,
        "keys": {"pk": "order-1", "sk": "v1"},
        "new_image": json.loads(SAMPLE_NEW_IMAGE),
        "old_image": None,
    }
    assert (removed["event_name"], removed["new_image"], removed["old_image"]) == ("REMOVE", None, {"pk": "order-0", "sk": "v1", "amount": 7})


class ScriptedFirehose:
    """The real (moto) client, except that the listed entries fail `failures` times each."""

    def __init__(self, real: Any, failing: set[str], failures: int) -> None:
        self.real, self.failing, self.left, self.calls = real, failing, {s: failures for s in failing}, 0

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        self.calls += 1
        answers, passed = [], []
        for entry in Records:
            seq = json.loads(entry["Data"])["sequence_number"]
            if self.left.get(seq, 0) > 0:
                self.left[seq] -= 1
                answers.append({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."})
            else:
                passed.append(entry)
                answers.append({"RecordId": "r"})
        if passed:
            self.real.put_record_batch(DeliveryStreamName=DeliveryStreamName, Records=passed)
        return {"FailedPutCount": sum(1 for a in answers if "ErrorCode" in a), "RequestResponses": answers}


def test_entries_firehose_refuses_are_sent_again(aws: Aws) -> None:
    # GIVEN 600 changes (two calls) and Firehose refusing two entries twice each
    records = [insert(i) for i in range(600)]
    scripted = ScriptedFirehose(aws.firehose, {sequence(5), sequence(550)}, failures=2)
    # WHEN
    response = firehose_runtime(aws, scripted).process({"Records": records}, Context())
    # THEN all 600 arrive once: 2 first calls + 2 retries of the refused entries
    assert response == {"batchItemFailures": []}
    assert sorted(line["sequence_number"] for line in aws.lines()) == sorted(sequence(i) for i in range(600))
    assert scripted.calls == 6


def test_an_entry_firehose_keeps_refusing_is_reported_as_the_lowest_failure(aws: Aws) -> None:
    records = [insert(i) for i in range(10)]
    scripted = ScriptedFirehose(aws.firehose, {sequence(7), sequence(3)}, failures=10**6)
    response = firehose_runtime(aws, scripted).process({"Records": records}, Context(remaining_ms=5_000))
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence(3)}]}
    assert len(aws.lines()) == 8


def test_a_change_over_the_firehose_record_limit_is_parked_in_parts(aws: Aws) -> None:
    # GIVEN an item whose JSON line is over 1,000 KiB (a 380 KB string in both images)
    big = {"S": "x" * 380_000}
    keys = {"pk": {"S": "order-big"}}
    records = [change(0, "MODIFY", keys, new={**keys, "a": big, "b": big, "c": big}, old={**keys, "a": big}), insert(1)]
    # WHEN
    response = firehose_runtime(aws).process({"Records": records}, Context())
    # THEN the other change is delivered and the big one parked whole, split across messages
    assert response == {"batchItemFailures": []}
    assert [line["sequence_number"] for line in aws.lines()] == [sequence(1)]
    parts = aws.parked()
    assert [p["part"] for p in sorted(parts, key=lambda p: p["part"])] == list(range(1, len(parts) + 1))
    assert len(parts) == 8 and {p["reason"] for p in parts} == {"over the sink's size limit"}
    whole = json.loads("".join(p["record_json"] for p in sorted(parts, key=lambda p: p["part"])))
    assert whole == records[0]


def test_a_change_whose_keys_outgrow_the_change_logs_partition_key_is_parked(aws: Aws) -> None:
    # GIVEN a source item whose keys each fit DynamoDB (2,000 of 2,048 bytes, 1,000 of 1,024), so their
    # JSON together (over 3,000 bytes UTF-8, fewer characters than 2,048) cannot be a change-log key
    keys = {"pk": {"S": "é" * 1000}, "sk": {"S": "x" * 1000}}
    records = [insert(0), change(1, "INSERT", keys, new=keys), insert(2)]
    # WHEN
    response = table_runtime(aws).process({"Records": records}, Context())
    # THEN the other changes are written (one such item would make DynamoDB refuse the whole batch write),
    # and the long one is parked whole with the reason, not reported for a retry that could never succeed
    assert response == {"batchItemFailures": []}
    assert [item["sk"]["S"] for item in aws.items()] == [sequence(0).zfill(40), sequence(2).zfill(40)]
    (parked,) = aws.parked()
    assert parked["reason"] == "keys over the change log's partition key limit (2048 bytes)"
    assert (parked["sequence_number"], parked["part"], parked["parts"]) == (sequence(1), 1, 1)
    assert json.loads(parked["record_json"]) == records[1]


def test_a_record_without_a_sequence_number_is_parked() -> None:
    decoded = decode_changes([{"eventName": "INSERT", "dynamodb": {"Keys": {}}}])
    assert [(p.reason, p.sequence_number) for p in decoded.poison] == [("no sequence number", "0")]


# --- settings ---------------------------------------------------------------------------------

GOOD_ENV = {"AWS_REGION": REGION, "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/222222222222/dlq"}


@pytest.mark.parametrize(
    "env, variable, message",
    [
        pytest.param({}, "TABLE_NAME", "exactly one of TABLE_NAME and DELIVERY_STREAM_NAME", id="no-sink"),
        pytest.param({"TABLE_NAME": "log", "DELIVERY_STREAM_NAME": "s"}, "TABLE_NAME", "exactly one of", id="two-sinks"),
        pytest.param({"DELIVERY_STREAM_NAME": "bad name"}, "DELIVERY_STREAM_NAME", "is not a Firehose stream name", id="bad-stream"),
        pytest.param({"TABLE_NAME": "ab"}, "TABLE_NAME", "is not a DynamoDB table name", id="short-table"),
        pytest.param({"TABLE_NAME": "log", "DEAD_LETTER_QUEUE_URL": ""}, "DEAD_LETTER_QUEUE_URL", "is not set", id="no-dlq"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], variable: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        ChangeSettings.from_env({**GOOD_ENV, **env})
    assert raised.value.variable == variable


def test_settings_pick_the_firehose_sink() -> None:
    settings = ChangeSettings.from_env({**GOOD_ENV, "DELIVERY_STREAM_NAME": "xacct-changes", "AWS_LAMBDA_FUNCTION_NAME": "fn"})
    assert (settings.delivery_stream_name, settings.table_name, settings.function_name) == ("xacct-changes", None, "fn")
