"""make smoke against moto, with a thread standing in for the event source mapping."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

import dynamodb_events
from conftest import ROOT, assumed_session, run_make
from kinesis_events import from_get_records
from runtime_fakes import create_table
from xacct_consumer.config import Settings
from xacct_consumer.runtime import Runtime
from xacct_ops import smoke, smoke_flows

OUTPUTS = {"stream_name": {"value": "xacct-shared-stream"}, "sink_table_name": {"value": "xacct-sink"}}



def _mapping(stop: threading.Event, producer: boto3.Session, *runtimes: Any, stream: str = "xacct-shared-stream") -> None:
    """Reads the stream's shards like Lambda's poller and hands each new batch to every runtime."""
    kinesis = producer.client("kinesis")
    iterators: dict[str, Any] = {}
    while not stop.is_set():
        for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in iterators:
                iterators[shard_id] = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            page = kinesis.get_records(ShardIterator=iterators[shard_id])
            iterators[shard_id] = page["NextShardIterator"]
            if page["Records"]:
                for runtime in runtimes:
                    runtime.process({"Records": [from_get_records(r, shard_id) for r in page["Records"]]}, None)
        stop.wait(0.2)


class Workers:
    """Threads standing in for AWS's pollers and deliveries, stopped and joined on exit."""

    def __init__(self, *targets: tuple[Any, ...]) -> None:
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=target, args=(self.stop, *args), daemon=True) for target, *args in targets]

    def __enter__(self) -> "Workers":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(5)


def _last_line(stdout: str) -> str:
    """Smoke's last line: the consumer's worker thread prints its metrics (one JSON object a line) whenever it runs."""
    return [line for line in stdout.strip().splitlines() if not line.startswith('{"_aws"')][-1]


def _files(tmp_path: Path, outputs: dict[str, Any], tfvars: str = "", *, kind: str) -> list[str]:
    """The tfvars (the example's, plus `tfvars`) and outputs files of a stack of `kind`, as make smoke's arguments."""
    (tmp_path / "terraform.tfvars").write_text((ROOT / "terraform.tfvars.example").read_text() + tfvars)
    (tmp_path / "outputs.json").write_text(json.dumps({name: {"value": value} for name, value in outputs.items()}))
    return ["--tfvars", str(tmp_path / "terraform.tfvars"), "--outputs", str(tmp_path / "outputs.json"), "--kind", kind]


def _sink_runtime(session: boto3.Session, table: str, queue_name: str = "dlq") -> Runtime:
    """The built-in consumer writing into `table` of `session`'s account (which it creates)."""
    dynamodb = session.client("dynamodb")
    dynamodb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    queue = session.client("sqs").create_queue(QueueName=queue_name)["QueueUrl"]
    return Runtime(Settings(table_name=table, dead_letter_queue_url=queue, region="eu-west-1", sink_region="eu-west-1"), dynamodb, session.client("sqs"))


@pytest.mark.parametrize("consumer_running", [True, False], ids=["delivered", "timeout"])
def test_smoke(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], consumer_running: bool) -> None:
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text((ROOT / "terraform.tfvars.example").read_text())
    outputs = tmp_path / "outputs.json"
    alarms = ["xacct-stream-consumer-errors", "xacct-stream-consumer-iterator-age"]
    outputs.write_text(json.dumps({**OUTPUTS, "alarm_names": {"value": {"consumer": alarms}}}))
    with mock_aws():
        producer, consumer = assumed_session("111111111111"), assumed_session("222222222222")
        producer.client("kinesis").create_stream(StreamName="xacct-shared-stream", ShardCount=1)
        # the stack's alarms, one of them firing
        cloudwatch = consumer.client("cloudwatch")
        for name in alarms:
            cloudwatch.put_metric_alarm(AlarmName=name, Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum", Period=300, EvaluationPeriods=1,
                                        Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
        cloudwatch.set_alarm_state(AlarmName="xacct-stream-consumer-errors", StateValue="ALARM", StateReason="test")
        create_table(consumer.client("dynamodb"))
        queue = consumer.client("sqs").create_queue(QueueName="dlq")["QueueUrl"]
        runtime = Runtime(
            Settings(table_name="xacct-sink", dead_letter_queue_url=queue, region="eu-west-1", sink_region="eu-west-1"),
            consumer.client("dynamodb"), consumer.client("sqs"),
        )
        with Workers(*([(_mapping, producer, runtime)] if consumer_running else [])):
            status = smoke.main(["--tfvars", str(tfvars), "--outputs", str(outputs), "--kind", "xacct-kinesis-efo", "--timeout", "20" if consumer_running else "2"])
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    # THEN after the flow's verdict, the state of each of the stack's alarms, read in its account (printed, not judged)
    assert lines[-3:] == ["alarms (state now):", "  consumer: xacct-stream-consumer-errors: ALARM", "  consumer: xacct-stream-consumer-iterator-age: OK"]
    verdict = lines[-4]  # earlier lines: the consumer's metrics
    if consumer_running:
        assert status == 0, out
        assert verdict.startswith("PASS  end-to-end latency ") and verdict.endswith("(stream xacct-shared-stream -> table xacct-sink)")
        assert "waiting for it in xacct-sink" in out.err
    else:
        assert status == 1
        assert verdict == "FAIL  nothing reached the end (stream xacct-shared-stream -> table xacct-sink) within 2 s"
        assert "waiting for it in xacct-sink" in out.err and " s / 2 s" in out.err


def test_outputs_without_a_sink_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text((ROOT / "terraform.tfvars.example").read_text())
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"stream_name": {"value": "s"}}))
    assert smoke.main(["--tfvars", str(tfvars), "--outputs", str(outputs), "--kind", "xacct-kinesis-efo"]) == 2
    assert "missing: sink_table_name" in capsys.readouterr().err


def _change_mapping(stop: threading.Event, producer: boto3.Session, stream_arn: str, runtime: Any) -> None:
    """Reads the table's stream like Lambda's poller and hands each new batch to the change forwarder."""
    streams = producer.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while not stop.is_set():
        page = streams.get_records(ShardIterator=iterator)
        iterator = page["NextShardIterator"]
        if page["Records"]:
            runtime.process({"Records": [dynamodb_events.from_get_records(r, stream_arn) for r in page["Records"]]}, None)
        stop.wait(0.2)


@pytest.mark.parametrize("forwarder_running", [True, False], ids=["delivered", "timeout"])
def test_smoke_of_a_shared_table_stream(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], forwarder_running: bool) -> None:
    from xacct_changes.config import ChangeSettings
    from xacct_changes.runtime import ChangeRuntime

    # GIVEN the DynamoDB-streams stack's tables: a shared table with a stream (pk, sk) and the change log
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text((ROOT / "terraform.tfvars.example").read_text())
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"table_name": {"value": "orders"}, "change_log_table_name": {"value": "orders-changes"}}))
    with mock_aws():
        producer, consumer = assumed_session("111111111111"), assumed_session("222222222222")
        table = producer.client("dynamodb").create_table(
            TableName="orders", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}, {"AttributeName": "version", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}, {"AttributeName": "version", "AttributeType": "N"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        consumer.client("dynamodb").create_table(
            TableName="orders-changes", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        )
        queue = consumer.client("sqs").create_queue(QueueName="dlq")["QueueUrl"]
        runtime = ChangeRuntime(ChangeSettings(dead_letter_queue_url=queue, region="eu-west-1", table_name="orders-changes"),
                                consumer.client("dynamodb"), consumer.client("sqs"))
        with Workers(*([(_change_mapping, producer, table["LatestStreamArn"], runtime)] if forwarder_running else [])):
            status = smoke.main(["--tfvars", str(tfvars), "--outputs", str(outputs), "--kind", "xacct-dynamodb-streams", "--timeout", "20" if forwarder_running else "2"])
    out = capsys.readouterr()
    # THEN the item's change arrived under its keys, or the wait ends with what did not arrive
    assert "waiting for its change in orders-changes" in out.err
    if forwarder_running:
        assert status == 0, out
        last = _last_line(out.out)
        assert last.startswith("PASS  end-to-end latency ") and last.endswith("(table orders -> change log orders-changes)")
    else:
        assert status == 1
        assert out.out.strip() == "FAIL  nothing reached the end (table orders -> change log orders-changes) within 2 s"


# ---- the replication stack: stream -> writer -> replica table -> flattener -> Firehose -> bucket ----

REPLICATION_OUTPUTS = {
    "stream_name": "xacct-shared-stream", "replica_table_name": "xacct-replica", "delivery_stream_name": "xacct-changes",
    "delivery_bucket_name": "xacct-web-analytics-222222222222-eu-west-1",
}


@pytest.mark.parametrize("flattener_running", [True, False], ids=["delivered", "stuck-at-the-replica"])
def test_smoke_of_the_replication_chain(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], flattener_running: bool) -> None:
    from xacct_changes.config import ChangeSettings
    from xacct_changes.runtime import ChangeRuntime

    # GIVEN the stream in the producer account; the replica table, Firehose stream and bucket in the consumer's
    with mock_aws():
        producer, consumer = assumed_session("111111111111"), assumed_session("222222222222")
        producer.client("kinesis").create_stream(StreamName="xacct-shared-stream", ShardCount=2)
        writer = _sink_runtime(consumer, "xacct-replica")
        bucket = REPLICATION_OUTPUTS["delivery_bucket_name"]
        consumer.client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        consumer.client("firehose").create_delivery_stream(
            DeliveryStreamName="xacct-changes", DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::222222222222:role/firehose", "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": "changes/",
                "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 120},
            },
        )
        queue = consumer.client("sqs").create_queue(QueueName="flattener-dlq")["QueueUrl"]
        flattener = ChangeRuntime(ChangeSettings(dead_letter_queue_url=queue, region="eu-west-1", delivery_stream_name="xacct-changes"),
                                  consumer.client("firehose"), consumer.client("sqs"))
        replica_stream = consumer.client("dynamodb").describe_table(TableName="xacct-replica")["Table"]["LatestStreamArn"]
        args = _files(tmp_path, REPLICATION_OUTPUTS, kind="xacct-kinesis-replication")
        # WHEN the writer runs, and the flattener too or not
        workers = [(_mapping, producer, writer), *([(_change_mapping, consumer, replica_stream, flattener)] if flattener_running else [])]
        with Workers(*workers):
            # (delivered: the default wait, which covers Firehose's buffering interval of 120 s)
            status = smoke.main([*args] if flattener_running else [*args, "--timeout", "8"])
    out = capsys.readouterr()
    # THEN each stop is reported with its latency, and the end decides
    path = "(stream xacct-shared-stream -> replica table xacct-replica -> bucket xacct-web-analytics-222222222222-eu-west-1)"
    assert f"then in s3://xacct-web-analytics-222222222222-eu-west-1/changes/, up to {300 if flattener_running else 8} s" in out.err
    stops = [line for line in out.out.splitlines() if line.startswith("  ")]
    assert [line.split(":")[0] for line in stops] == ["  replica table xacct-replica", f"  bucket {bucket}"]
    assert stops[0].endswith(" s") and "not reached" not in stops[0]
    if flattener_running:
        assert status == 0, out
        assert _last_line(out.out).endswith(path)
    else:
        assert status == 1
        assert stops[1] == f"  bucket {bucket}: not reached"
        assert _last_line(out.out) == f"FAIL  nothing reached the end {path} within 8 s"


# ---- the SES stack: an email through the configuration set -> SNS -> forwarder -> the other account's stream ----

def _ses_events(stop: threading.Event, forwarder: Any) -> None:
    """Stands in for SES event publishing and SNS: each email moto's SES took becomes a Send event to the forwarder."""
    from moto.ses.models import ses_backends

    sample = json.loads((ROOT / "tests" / "events" / "ses_sns_delivery_event.json").read_text())["Records"][0]
    handed = 0
    while not stop.is_set():
        sent = ses_backends["222222222222"]["eu-west-1"].sent_messages[handed:]
        for message in sent:
            event = {"eventType": "Send", "mail": {**json.loads(sample["Sns"]["Message"])["mail"], "messageId": message.id,
                                                   "source": message.source, "commonHeaders": {"subject": message.subject}}, "send": {}}
            forwarder.process({"Records": [{**sample, "Sns": {**sample["Sns"], "MessageId": str(uuid.uuid4()), "Message": json.dumps(event)}}]}, None)
        handed += len(sent)
        stop.wait(0.2)


SES_OUTPUTS = {"stream_name": "xacct-ses-events", "ses_configuration_set_name": "xacct-mail"}


@pytest.mark.parametrize(
    ("identity", "sender", "expected_status", "expected_last"),
    [
        ("ops@example.com", None, 0, "PASS  end-to-end latency "),
        ("example.com", "alerts@example.com", 0, "PASS  end-to-end latency "),
        (None, None, 1, "FAIL  no verified SES identity in the SES account to send from: verify one, or pass SENDER=<address>"),
        ("ops@example.com", "someone@elsewhere.example", 1, "FAIL  SES refused the email from someone@elsewhere.example: "),
    ],
    ids=["verified-address", "address-in-a-verified-domain", "no-identity", "unverified-sender"],
)
def test_smoke_of_ses_notifications(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    identity: str, sender: str, expected_status: int, expected_last: str) -> None:
    from xacct_notifications.forwarder import Forwarder, ForwarderSettings

    # GIVEN the stream (4 shards) in the producer account and the SES account's forwarder
    with mock_aws():
        producer, ses_account = assumed_session("111111111111"), assumed_session("222222222222")
        producer.client("kinesis").create_stream(StreamName="xacct-ses-events", ShardCount=4)
        ses = ses_account.client("ses")
        if identity and "@" in identity:
            ses.verify_email_identity(EmailAddress=identity)
        elif identity:
            ses.verify_domain_identity(Domain=identity)
        ses.create_configuration_set(ConfigurationSet={"Name": "xacct-mail"})
        queue = ses_account.client("sqs").create_queue(QueueName="forwarder-dlq")["QueueUrl"]
        forwarder = Forwarder(ForwarderSettings(stream_arn="arn:aws:kinesis:eu-west-1:111111111111:stream/xacct-ses-events",
                                                stream_role_arn="arn:aws:iam::111111111111:role/writer", dead_letter_queue_url=queue,
                                                region="eu-west-1"), producer.client("kinesis"), ses_account.client("sqs"))
        # WHEN make smoke sends one email
        with Workers((_ses_events, forwarder)):
            status = smoke.main([*_files(tmp_path, SES_OUTPUTS, kind="xacct-ses-notifications"), "--timeout", "20", *(["--sender", sender] if sender else [])])
        sent = ses_backends_messages()
    out = capsys.readouterr()
    # THEN its event is found in the shard its message id keys, or the run says why nothing was sent
    assert status == expected_status, out
    assert _last_line(out.out).startswith(expected_last)
    if expected_status == 0:
        assert out.out.strip().endswith("(SES xacct-mail -> stream xacct-ses-events)")
        assert [(m.source, m.destinations["ToAddresses"]) for m in sent] == [(sender or identity, ["success@simulator.amazonses.com"])]
        assert f"from {sender or identity} to success@simulator.amazonses.com with xacct-mail; waiting for its event in xacct-ses-events" in out.err
    else:
        assert sent == []


def ses_backends_messages() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends["222222222222"]["eu-west-1"].sent_messages)


# ---- the fan-out stack: one record, every consumer's sink table in its own account ----

FANOUT_TFVARS = """
consumer_accounts = {
  analytics = { account_id = "333333333333", deploy_role_arn = "arn:aws:iam::333333333333:role/terraform-deploy" }
  billing   = { account_id = "444444444444", deploy_role_arn = "arn:aws:iam::444444444444:role/terraform-deploy" }
}
"""


FANOUT_ACCOUNTS = {"analytics": "333333333333", "billing": "444444444444", "audit": "111111111111"}


def _fanout_outputs(split: bool) -> list[dict[str, Any]]:
    """One plan's outputs, or a split fan-out's: the producer plan's (its own account's consumer) and each account plan's."""
    tables = {name: f"fan-{name}-sink" for name in FANOUT_ACCOUNTS}
    roles = {name: f"arn:aws:iam::{account}:role/fan-{name}" for name, account in FANOUT_ACCOUNTS.items()}
    if not split:
        return [{"stream_name": "xacct-shared-stream", "consumer_sink_table_names": tables, "consumer_role_arns": roles}]
    return [{"stream_name": "xacct-shared-stream", "consumer_sink_table_names": {"audit": tables["audit"]}, "consumer_role_arns": {"audit": roles["audit"]}},
            *({"reader_role_arns": {name: roles[name]}, "consumer_sink_table_names": {name: tables[name]}} for name in ("analytics", "billing"))]


def _outputs_args(tmp_path: Path, plans: list[dict[str, Any]], tfvars: str) -> list[str]:
    args = _files(tmp_path, plans[0], tfvars, kind="xacct-kinesis-fanout")
    for i, outputs in enumerate(plans[1:]):
        (tmp_path / f"outputs-{i}.json").write_text(json.dumps({name: {"value": value} for name, value in outputs.items()}))
        args += ["--outputs", str(tmp_path / f"outputs-{i}.json")]
    return args


@pytest.mark.parametrize(("billing_running", "split"), [(True, False), (False, False), (True, True)],
                         ids=["all-delivered", "one-consumer-down", "split-plans"])
def test_smoke_of_a_fanout(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], billing_running: bool, split: bool) -> None:
    # GIVEN a stream read by consumers in two consumer accounts and in the producer account itself (one plan or split)
    accounts = FANOUT_ACCOUNTS
    with mock_aws():
        producer = assumed_session("111111111111")
        producer.client("kinesis").create_stream(StreamName="xacct-shared-stream", ShardCount=1)
        runtimes = {name: _sink_runtime(assumed_session(account), f"fan-{name}-sink", f"fan-{name}-dlq") for name, account in accounts.items()}
        running = [runtime for name, runtime in runtimes.items() if billing_running or name != "billing"]
        # WHEN the record is put and polled in every account
        with Workers((_mapping, producer, *running)):
            status = smoke.main([*_outputs_args(tmp_path, _fanout_outputs(split), FANOUT_TFVARS), "--timeout", "20" if billing_running else "8"])
    out = capsys.readouterr()
    # THEN each consumer's table is reported; one missing fails the run
    stops = sorted(line for line in out.out.splitlines() if line.startswith("  "))
    assert [line.split(": ")[0] + ": " + line.split(": ")[1] for line in stops] == [
        "  analytics: table fan-analytics-sink", "  audit: table fan-audit-sink", "  billing: table fan-billing-sink"]
    assert "waiting for it in 3 sink tables" in out.err
    if billing_running:
        assert status == 0, out
        assert _last_line(out.out).endswith("(stream xacct-shared-stream -> every consumer's sink table)")
    else:
        assert status == 1
        assert stops[2] == "  billing: table fan-billing-sink: not reached"
        assert "not reached" not in stops[0] + stops[1]


@pytest.mark.parametrize(
    ("second", "expected"),
    [({"stream_name": "another-stream"}, 'stream_name: \'"another-stream"\' is not allowed; expected the value the other outputs files give ("xacct-shared-stream")'),
     ({"consumer_sink_table_names": {"audit": "elsewhere"}}, "consumer_sink_table_names: 'audit' is not allowed; expected keys no other outputs file gives another value"),
     ({"reader_role_arns": {"audit": "arn:aws:iam::555555555555:role/x"}}, "consumer_role_arns: 'audit' is not allowed")],
    ids=["two-streams", "one-consumer-two-tables", "one-consumer-two-roles"],
)
def test_outputs_of_plans_that_do_not_belong_together(tmp_path: Path, capsys: pytest.CaptureFixture[str], second: dict[str, Any], expected: str) -> None:
    # GIVEN the split producer plan's outputs and another plan's that contradict them
    args = _outputs_args(tmp_path, [_fanout_outputs(True)[0], second], FANOUT_TFVARS)
    # WHEN smoke reads them together, THEN it refuses before any AWS call, naming the output and the file
    assert smoke.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {tmp_path / 'outputs-0.json'}: ") and expected in err


def test_fanout_consumer_whose_role_no_outputs_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a split account plan's sink tables without its reader roles (an older output, or a hand-made file)
    args = _outputs_args(tmp_path, [_fanout_outputs(True)[0], {"consumer_sink_table_names": {"analytics": "fan-analytics-sink"}}], FANOUT_TFVARS)
    # WHEN / THEN the run stops before putting anything, naming the consumer
    assert smoke.main([*args, "--timeout", "2"]) == 1
    assert capsys.readouterr().out.strip() == "FAIL  no role in the outputs for analytics: pass the outputs of the plan that creates its function too"


def test_fanout_consumer_in_an_account_the_tfvars_do_not_name(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = {"stream_name": "s", "consumer_sink_table_names": {"x": "t"}, "consumer_role_arns": {"x": "arn:aws:iam::999999999999:role/r"}}
    with mock_aws():
        assumed_session("111111111111").client("kinesis").create_stream(StreamName="s", ShardCount=1)
        status = smoke.main([*_files(tmp_path, outputs, FANOUT_TFVARS, kind="xacct-kinesis-fanout"), "--timeout", "2"])
    assert status == 1
    assert capsys.readouterr().out.strip() == "FAIL  account 999999999999 (from the outputs) is not in the tfvars: no deploy role to read it with"


# ---- the API stack: POST with basic auth -> stream -> consumer -> sink table ----

class _ApiGateway(http.server.BaseHTTPRequestHandler):
    """Stands in for the REST API: the real authorizer on the Authorization header, then Kinesis PutRecord
    with the body and the path's event id, answered in the shape of the integration's success template."""

    authorizer: Any
    kinesis: Any

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        from xacct_ingest.authorizer import Unauthorized

        event_id = self.path.rsplit("/", 1)[-1]
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            allowed = self.authorizer.authorize({"methodArn": "arn:aws:execute-api:eu-west-1:222222222222:api/prod/POST/events/x",
                                                 "headers": dict(self.headers)})["policyDocument"]["Statement"][0]["Effect"] == "Allow"
            status = 200 if allowed else 403
        except Unauthorized:
            status = 401
        answer: dict[str, Any] = {"message": "Unauthorized" if status == 401 else "User is not authorized to access this resource"}
        if status == 200:
            put = self.kinesis.put_record(StreamName="xacct-shared-stream", PartitionKey=event_id, Data=body)
            answer = {"eventId": event_id, "sequenceNumber": put["SequenceNumber"], "shardId": put["ShardId"]}
        self.send_response(status)
        self.end_headers()
        self.wfile.write(json.dumps(answer).encode())

    def log_message(self, *_: Any) -> None:
        pass


@pytest.mark.parametrize(
    ("password", "expected_status", "expected_last"),
    [("s3cret-pass", 0, "PASS  end-to-end latency "),
     ("rotated-since", 1, 'FAIL  POST http://127.0.0.1:{port}/prod/events/xacct-smoke-')],
    ids=["delivered", "secret-does-not-match"],
)
def test_smoke_of_the_api(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], password: str, expected_status: int, expected_last: str) -> None:
    from xacct_ingest.authorizer import Authorizer, AuthorizerSettings

    # GIVEN the API's secret (what the smoke reads) and the credentials the authorizer checks
    with mock_aws():
        producer, consumer = assumed_session("111111111111"), assumed_session("222222222222")
        producer.client("kinesis").create_stream(StreamName="xacct-shared-stream", ShardCount=2)
        secrets = consumer.client("secretsmanager")
        arn = secrets.create_secret(Name="xacct-api-basic-auth", SecretString=json.dumps({"username": "ingest", "password": "s3cret-pass"}))["ARN"]
        checked = secrets.create_secret(Name="checked", SecretString=json.dumps({"username": "ingest", "password": password}))["ARN"]
        handler = type("Api", (_ApiGateway,), {"authorizer": Authorizer(AuthorizerSettings(secret_id=checked), secrets), "kinesis": producer.client("kinesis")})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        outputs = {"api_invoke_url": f"http://127.0.0.1:{port}/prod/events/{{eventId}}", "api_id": "a1b2c3", "basic_auth_secret_arn": arn,
                   "stream_name": "xacct-shared-stream", "sink_table_name": "xacct-sink"}
        try:
            with Workers((_mapping, producer, _sink_runtime(consumer, "xacct-sink"))):
                status = smoke.main([*_files(tmp_path, outputs, kind="xacct-api-ingest"), "--timeout", "20"])
        finally:
            server.shutdown()
    out = capsys.readouterr()
    # THEN the event went through the API and the stream into the sink table, or the API's refusal is shown
    assert status == expected_status, out
    last = _last_line(out.out)
    assert last.startswith(expected_last.format(port=port))
    if expected_status == 0:
        assert last.endswith("(API a1b2c3 -> stream xacct-shared-stream -> table xacct-sink)")
        assert [line.split(":")[0] for line in out.out.splitlines() if line.startswith("  ")] == ["  API a1b2c3", "  table xacct-sink"]
    else:
        assert " answered 403: " in last


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [("synth", smoke_flows.stream_to_table), ("existing_synth", smoke_flows.stream_to_table), ("api_synth", smoke_flows.api_to_table),
     ("replication_synth", smoke_flows.stream_to_replica_to_bucket), ("ses_synth", smoke_flows.ses_to_stream),
     ("fanout_synth", smoke_flows.stream_to_every_sink), ("ddb_synth", smoke_flows.table_to_change_log)],
    ids=["core", "existing-stream", "api", "replication", "ses", "fanout", "dynamodb-streams"],
)
def test_every_stack_has_its_flow(request: pytest.FixtureRequest, tmp_path: Path, fixture: str, expected: Any) -> None:
    # GIVEN a synthesized stack's outputs.json in its directory (where make smoke writes it)
    synth = request.getfixturevalue(fixture)
    outputs = _outputs_in_stack_dir(tmp_path, synth, {name: {"value": "x"} for name in synth.config["output"]})
    # WHEN smoke looks up the stack's kind in the manifest, THEN it runs that kind's flow, whose outputs the stack has
    kind, flow = smoke.flow_of_kind([outputs], None)
    smoke.check_outputs(flow, smoke.read_outputs([outputs]), str(outputs))
    assert flow.run is expected and kind == json.loads((synth.stack_dir.parent.parent / "manifest.json").read_text())["stacks"][synth.stack_dir.name]["kind"]


def _outputs_in_stack_dir(tmp_path: Path, synth: Any, outputs: dict[str, Any]) -> Path:
    """`outputs` as make smoke writes them, in a copy of the stack's directory next to its output's manifest."""
    (tmp_path / "stacks" / synth.stack_dir.name).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(synth.stack_dir.parent.parent / "manifest.json", tmp_path / "manifest.json")
    path = tmp_path / "stacks" / synth.stack_dir.name / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_a_split_fanouts_plans_together_have_the_fanout_flow(tmp_path: Path, split_synths: dict[str, Any]) -> None:
    # GIVEN each split plan's output names (values: one map per plan, keyed by the plan)
    paths = [_outputs_in_stack_dir(tmp_path, synth, {name: {"value": {stack: "x"}} for name in synth.config["output"]})
             for stack, synth in sorted(split_synths.items())]
    # WHEN read together, THEN the fan-out flow runs with what they give together
    kind, flow = smoke.flow_of_kind(paths, None)
    smoke.check_outputs(flow, smoke.read_outputs(paths), "outputs")
    assert (kind, flow.run) == ("xacct-kinesis-fanout", smoke_flows.stream_to_every_sink)
    # no account plan alone has the stream
    assert [stack for stack, synth in split_synths.items() if "stream_name" in synth.config["output"]] == [next(s for s in split_synths if "producer" in s)]


@pytest.mark.parametrize("timeout", ["0", "-5"], ids=["zero", "negative"])
def test_a_timeout_that_cannot_wait_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], timeout: str) -> None:
    args = _files(tmp_path, {"stream_name": "s", "sink_table_name": "t"}, kind="xacct-kinesis-efo")
    assert smoke.main([*args, "--timeout", timeout]) == 2
    assert capsys.readouterr().err.strip() == f"error: --timeout: '{float(timeout)}' is not allowed; expected a number of seconds above 0"


@pytest.mark.parametrize(
    ("prefix", "sent", "now", "expected"),
    [("changes/", 1_764_806_400.0, 1_764_806_700.0, ["changes/2025/12/04/00/"]),
     ("changes/", 1_764_809_990.0, 1_764_810_290.0, ["changes/2025/12/04/00/", "changes/2025/12/04/01/"]),
     ("", 1_764_806_400.0, 1_764_806_401.0, ["2025/12/04/00/"]),
     ("changes/!{timestamp:yyyy}/", 1_764_806_400.0, 1_764_806_700.0, ["changes/"])],
    ids=["one-hour", "across-the-hour", "no-prefix", "custom-expressions"],
)
def test_where_firehose_delivers(prefix: str, sent: float, now: float, expected: list[str]) -> None:
    assert smoke_flows.delivery_prefixes(prefix, sent, now) == expected


def test_an_aws_refusal_fails_the_run_with_its_message(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN outputs naming a stream that is not there (deployed elsewhere, or already destroyed)
    args = _files(tmp_path, {"stream_name": "gone", "sink_table_name": "t"}, kind="xacct-kinesis-efo")
    # WHEN smoke puts its record, THEN it fails with AWS's words, no traceback
    with mock_aws():
        assert smoke.main([*args, "--timeout", "2"]) == 1
    out = capsys.readouterr().out.strip()
    assert out.startswith("FAIL  AWS: An error occurred (ResourceNotFoundException) when calling the PutRecord operation: ")
    assert "gone" in out


def _plan_state(stack_dir: Path, outputs: dict[str, Any]) -> None:
    """A stack directory whose local state holds `outputs`, as `terraform output -json` reads them after a deploy."""
    stack_dir.mkdir(parents=True)
    state = {"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": str(uuid.uuid4()), "resources": [], "check_results": None,
             "outputs": {name: {"value": value, "type": "string" if isinstance(value, str) else ["map", "string"]} for name, value in outputs.items()}}
    (stack_dir / "terraform.tfstate").write_text(json.dumps(state))


@pytest.mark.parametrize("running", [True, False], ids=["delivered", "nothing-reads"])
def test_make_smoke_of_a_split_fanout_through_terraform_outputs(aws_env: None, terraform_env: dict[str, str], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch, running: bool) -> None:
    from moto.server import ThreadedMotoServer

    # GIVEN two deployed split plans (their outputs in their states) and their AWS on a moto server
    out = tmp_path / "out"
    producer_plan, analytics_plan = _fanout_outputs(True)[:2]
    _plan_state(out / "stacks" / "fan-producer", producer_plan)
    _plan_state(out / "stacks" / "fan-analytics", analytics_plan)
    # and their output's manifest, where smoke looks up the stacks' kind
    kind = {"kind": "xacct-kinesis-fanout", "smoke_flow": "stream_to_every_sink", "rehearsal": "fanout"}
    (out / "manifest.json").write_text(json.dumps({"stacks": {"fan-producer": {**kind, "part": "producer"}, "fan-analytics": {**kind, "part": "analytics"}}}))
    (tmp_path / "terraform.tfvars").write_text((ROOT / "terraform.tfvars.example").read_text() + FANOUT_TFVARS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = "http://{}:{}".format(*server.get_host_and_port())
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    try:
        # moto's state lives in this process: start from none
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()
        producer = assumed_session("111111111111")
        producer.client("kinesis").create_stream(StreamName="xacct-shared-stream", ShardCount=1)
        runtimes = [_sink_runtime(assumed_session(FANOUT_ACCOUNTS[name]), f"fan-{name}-sink", f"fan-{name}-dlq") for name in ("audit", "analytics")]
        # WHEN `make smoke` names both plans
        with Workers(*([(_mapping, producer, *runtimes)] if running else [])):
            result = run_make("smoke", OUTDIR=out, STACK="fan-producer fan-analytics", TFVARS=tmp_path / "terraform.tfvars", TIMEOUT=20 if running else 2)
    finally:
        server.stop()
    # THEN it polls both plans' tables, each in its account, and says how it went
    lines = result.stdout.strip().splitlines()
    assert sorted(line.rsplit(": ", 1)[0] for line in lines if line.startswith("  ")) == ["  analytics: table fan-analytics-sink", "  audit: table fan-audit-sink"]
    if running:
        assert result.returncode == 0, result.stdout + result.stderr
        assert lines[-1].startswith("PASS  end-to-end latency ") and lines[-1].endswith("(stream xacct-shared-stream -> every consumer's sink table)")
    else:
        assert result.returncode != 0
        assert lines[-1] == "FAIL  nothing reached the end (stream xacct-shared-stream -> every consumer's sink table) within 2 s"


def test_outputs_of_a_stack_whose_kind_nothing_records_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN outputs outside a synthesized output (no manifest to look the kind up in) and no --kind
    args = [arg for arg in _files(tmp_path, {"stream_name": "s", "sink_table_name": "t"}, kind="x")[:4]]
    # WHEN smoke runs, THEN it names what it needs before any AWS call, and never guesses from the outputs
    assert smoke.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: --outputs: '{tmp_path / 'outputs.json'}' is not allowed; expected outputs.json in a stack directory whose kind the manifest records, or --kind")


def test_an_unknown_kind_is_refused_with_the_kinds_there_are(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert smoke.main(_files(tmp_path, {"stream_name": "s"}, kind="xacct-kinesis-efx")) == 2
    assert capsys.readouterr().err.strip().startswith("error: --kind: 'xacct-kinesis-efx' is not allowed; expected one of xacct-kinesis-efo, ")


def test_a_dry_run_names_the_flow_and_calls_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a replication stack's outputs (no AWS at all: a call would fail without credentials)
    args = _files(tmp_path, {"stream_name": "s", "replica_table_name": "r", "delivery_bucket_name": "b", "delivery_stream_name": "d"},
                  kind="xacct-kinesis-replication")
    # WHEN / THEN
    assert smoke.main([*args, "--dry-run"]) == 0
    assert capsys.readouterr().out == "DRY   xacct-kinesis-replication: stream_to_replica_to_bucket (stream s -> replica table r -> bucket b); accounts producer, consumer\n"
