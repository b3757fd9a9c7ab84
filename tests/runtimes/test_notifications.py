"""The SES notification forwarder (SNS -> PutRecords into another account's stream) against moto."""

from __future__ import annotations

import copy
import json
from typing import Any, Iterator

import pytest
from moto import mock_aws

from conftest import TESTS, assumed_session
from kinesis_events import Context
from runtime_fakes import FakeClock
from xacct_consumer.config import ConfigurationError
from xacct_notifications.forwarder import Forwarder, ForwarderSettings, partition_key

REGION = "eu-west-1"
STREAM_ACCOUNT, SES_ACCOUNT = "111111111111", "222222222222"
STREAM = "xacct-ses-events"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{STREAM_ACCOUNT}:stream/{STREAM}"
SAMPLE = json.loads((TESTS / "events" / "ses_sns_delivery_event.json").read_text())
MESSAGE_ID = "0102019a1b2c3d4e-5f6a7b8c-1111-2222-3333-444455556666-000000"


class Aws:
    def __init__(self) -> None:
        self.stream_account = assumed_session(STREAM_ACCOUNT, "deploy")
        self.kinesis = self.stream_account.client("kinesis")
        self.kinesis.create_stream(StreamName=STREAM, ShardCount=4)
        ses = assumed_session(SES_ACCOUNT, "deploy")
        self.sqs = ses.client("sqs")
        self.queue_url = self.sqs.create_queue(QueueName="xacct-ses-forwarder-dlq")["QueueUrl"]
        self.settings = ForwarderSettings(
            stream_arn=STREAM_ARN, stream_role_arn=f"arn:aws:iam::{STREAM_ACCOUNT}:role/xacct-ses-stream-writer",
            dead_letter_queue_url=self.queue_url, region=REGION, function_name="fn",
        )

    def records(self) -> list[dict[str, Any]]:
        out = []
        for shard in self.kinesis.list_shards(StreamName=STREAM)["Shards"]:
            iterator = self.kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            out += [{**r, "ShardId": shard["ShardId"]} for r in self.kinesis.get_records(ShardIterator=iterator)["Records"]]
        return out

    def parked(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]


@pytest.fixture
def aws(aws_env: None) -> Iterator[Aws]:
    with mock_aws():
        yield Aws()


def sns_event(count: int) -> dict[str, Any]:
    record = SAMPLE["Records"][0]
    records = []
    for i in range(count):
        copy_ = copy.deepcopy(record)
        message = json.loads(copy_["Sns"]["Message"])
        message["mail"]["messageId"] = f"mail-{i:04d}"
        copy_["Sns"]["Message"] = json.dumps(message)
        copy_["Sns"]["MessageId"] = f"sns-{i}"
        records.append(copy_)
    return {"Records": records}


def test_sample_notification_lands_in_the_other_accounts_stream_keyed_by_mail(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the stream account's role, as Forwarder.from_settings would assume it
    forwarder = Forwarder(aws.settings, aws.kinesis, aws.sqs, FakeClock())
    # WHEN
    result = forwarder.process(SAMPLE, Context())
    # THEN the SES notification is in the stream as sent, keyed by the email's message id
    assert result == {"delivered": 1, "parked": 0}
    (record,) = aws.records()
    assert record["PartitionKey"] == MESSAGE_ID
    assert json.loads(record["Data"]) == json.loads(SAMPLE["Records"][0]["Sns"]["Message"])
    line = json.loads(capsys.readouterr().out.strip())
    assert (line["RecordsIn"], line["RecordsWritten"], line["kinesis_calls"]) == (1, 1, 1)


def test_mail_message_ids_spread_over_every_shard(aws: Aws) -> None:
    # GIVEN 400 notifications of 400 emails; WHEN
    Forwarder(aws.settings, aws.kinesis, aws.sqs, FakeClock()).process(sns_event(400), Context())
    # THEN all four shards take a fair share (seed 004 sent everything to one key)
    per_shard: dict[str, int] = {}
    for record in aws.records():
        per_shard[record["ShardId"]] = per_shard.get(record["ShardId"], 0) + 1
    assert sum(per_shard.values()) == 400 and len(per_shard) == 4
    assert min(per_shard.values()) >= 60


@pytest.mark.parametrize(
    "message, sns_id, expected",
    [
        pytest.param('{"mail": {"messageId": "m-1"}}', "s-1", "m-1", id="ses-notification"),
        pytest.param("not json", "s-2", "s-2", id="not-json"),
        pytest.param('{"mail": {}}', "s-3", "s-3", id="no-message-id"),
        pytest.param('["a"]', "s-4", "s-4", id="json-array"),
        pytest.param('{"mail": {"messageId": ""}}', "", "unknown", id="nothing-to-key-on"),
    ],
)
def test_partition_key(message: str, sns_id: str, expected: str) -> None:
    assert partition_key(message, sns_id) == expected


class RefusingKinesis:
    """The real (moto) client, except that the listed partition keys are refused `times` times."""

    def __init__(self, real: Any, refused: set[str], times: int) -> None:
        self.real, self.left, self.calls = real, {k: times for k in refused}, 0

    def put_records(self, StreamARN: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        answers, passed = [], []
        for entry in Records:
            if self.left.get(entry["PartitionKey"], 0) > 0:
                self.left[entry["PartitionKey"]] -= 1
                answers.append({"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"})
            else:
                passed.append(entry)
                answers.append({"SequenceNumber": "1", "ShardId": "shardId-000000000000"})
        if passed:
            self.real.put_records(StreamARN=StreamARN, Records=passed)
        return {"FailedRecordCount": sum("ErrorCode" in a for a in answers), "Records": answers}


def test_refused_entries_are_retried_until_they_land(aws: Aws) -> None:
    kinesis = RefusingKinesis(aws.kinesis, {"mail-0003", "mail-0007"}, times=3)
    result = Forwarder(aws.settings, kinesis, aws.sqs, FakeClock()).process(sns_event(10), Context())
    assert result == {"delivered": 10, "parked": 0}
    assert sorted(r["PartitionKey"] for r in aws.records()) == [f"mail-{i:04d}" for i in range(10)]
    assert kinesis.calls == 4


def test_what_keeps_failing_is_parked_whole_on_the_dead_letter_queue(aws: Aws) -> None:
    kinesis = RefusingKinesis(aws.kinesis, {"mail-0002"}, times=10**6)
    result = Forwarder(aws.settings, kinesis, aws.sqs, FakeClock()).process(sns_event(5), Context(remaining_ms=4_000))
    assert result == {"delivered": 4, "parked": 1}
    (parked,) = aws.parked()
    assert parked["reason"] == "not delivered to the stream" and parked["stream_arn"] == STREAM_ARN
    assert json.loads(parked["sns"]["Message"])["mail"]["messageId"] == "mail-0002"


def test_invocation_fails_when_neither_stream_nor_queue_takes_a_notification(aws: Aws) -> None:
    kinesis = RefusingKinesis(aws.kinesis, {"mail-0000"}, times=10**6)
    settings = ForwarderSettings(**{**aws.settings.__dict__, "dead_letter_queue_url": aws.queue_url + "-missing"})
    with pytest.raises(RuntimeError, match="1 notifications neither delivered nor parked"):
        Forwarder(settings, kinesis, aws.sqs, FakeClock()).process(sns_event(1), Context(remaining_ms=3_000))


def test_from_settings_writes_through_the_role_in_the_stream_account(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the function's own credentials in the SES account
    ses = assumed_session(SES_ACCOUNT, "xacct-ses-forwarder-role")
    creds = ses.get_credentials()
    for name, value in (("AWS_ACCESS_KEY_ID", creds.access_key), ("AWS_SECRET_ACCESS_KEY", creds.secret_key), ("AWS_SESSION_TOKEN", creds.token)):
        monkeypatch.setenv(name, value)
    # WHEN the forwarder builds its clients and runs twice
    forwarder = Forwarder.from_settings(aws.settings)
    forwarder.process(sns_event(2), Context())
    forwarder.process(sns_event(2), Context())
    # THEN the records are in the stream account's stream (the role's account)
    assert len(aws.records()) == 4


GOOD = {"AWS_REGION": REGION, "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/222222222222/dlq",
        "STREAM_ARN": STREAM_ARN, "STREAM_ROLE_ARN": f"arn:aws:iam::{STREAM_ACCOUNT}:role/w"}


@pytest.mark.parametrize(
    "overrides, variable, message",
    [
        pytest.param({"STREAM_ARN": ""}, "STREAM_ARN", "is not set", id="no-stream"),
        pytest.param({"STREAM_ARN": "arn:aws:sqs:eu-west-1:111111111111:q"}, "STREAM_ARN", "is not a Kinesis stream ARN", id="not-kinesis"),
        pytest.param({"STREAM_ARN": STREAM_ARN.replace("eu-west-1", "us-east-1")}, "STREAM_ARN", "is not in AWS_REGION eu-west-1", id="other-region"),
        pytest.param({"STREAM_ROLE_ARN": "role/w"}, "STREAM_ROLE_ARN", "is not an IAM role ARN", id="bad-role"),
    ],
)
def test_bad_settings_name_the_variable(overrides: dict[str, str], variable: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        ForwarderSettings.from_env({**GOOD, **overrides})
    assert raised.value.variable == variable
