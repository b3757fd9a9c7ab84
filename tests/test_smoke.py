"""make smoke against moto, with a thread standing in for the event source mapping."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

import dynamodb_events
from conftest import ROOT, assumed_session
from kinesis_events import from_get_records
from test_runtime import create_table
from xacct_consumer.config import Settings
from xacct_consumer.runtime import Runtime
from xacct_ops import smoke

OUTPUTS = {"stream_name": {"value": "xacct-shared-stream"}, "sink_table_name": {"value": "xacct-sink"}}



def _mapping(stop: threading.Event, producer: boto3.Session, runtime: Runtime) -> None:
    """Reads the shard like Lambda's poller and hands each new batch to the real runtime."""
    kinesis = producer.client("kinesis")
    iterator = None
    while not stop.is_set():
        if iterator is None:
            iterator = kinesis.get_shard_iterator(StreamName="xacct-shared-stream", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        page = kinesis.get_records(ShardIterator=iterator)
        iterator = page["NextShardIterator"]
        if page["Records"]:
            records = [from_get_records(r, "shardId-000000000000") for r in page["Records"]]
            runtime.process({"Records": records}, None)
        stop.wait(0.2)


@pytest.mark.parametrize("consumer_running", [True, False], ids=["delivered", "timeout"])
def test_smoke(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], consumer_running: bool) -> None:
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text((ROOT / "terraform.tfvars.example").read_text())
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(OUTPUTS))
    with mock_aws():
        producer, consumer = assumed_session("111111111111"), assumed_session("222222222222")
        producer.client("kinesis").create_stream(StreamName="xacct-shared-stream", ShardCount=1)
        create_table(consumer.client("dynamodb"))
        queue = consumer.client("sqs").create_queue(QueueName="dlq")["QueueUrl"]
        runtime = Runtime(
            Settings(table_name="xacct-sink", dead_letter_queue_url=queue, region="eu-west-1", sink_region="eu-west-1"),
            consumer.client("dynamodb"), consumer.client("sqs"),
        )
        stop = threading.Event()
        worker = threading.Thread(target=_mapping, args=(stop, producer, runtime), daemon=True)
        if consumer_running:
            worker.start()
        try:
            status = smoke.main(["--tfvars", str(tfvars), "--outputs", str(outputs), "--timeout", "20" if consumer_running else "2"])
        finally:
            stop.set()
            if consumer_running:
                worker.join(5)
    out = capsys.readouterr()
    if consumer_running:
        assert status == 0, out
        last = out.out.strip().splitlines()[-1]  # earlier lines: the consumer's metrics
        assert last.startswith("PASS  end-to-end latency ") and last.endswith("(stream xacct-shared-stream -> table xacct-sink)")
        assert "waiting for it in xacct-sink" in out.err
    else:
        assert status == 1
        assert out.out.strip() == "FAIL  nothing reached the end (stream xacct-shared-stream -> table xacct-sink) within 2 s"
        assert "waiting for it in xacct-sink" in out.err and " s / 2 s" in out.err


def test_outputs_without_a_sink_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text((ROOT / "terraform.tfvars.example").read_text())
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"stream_name": {"value": "s"}}))
    assert smoke.main(["--tfvars", str(tfvars), "--outputs", str(outputs)]) == 2
    assert "sink_table_name" in capsys.readouterr().err


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
        stop = threading.Event()
        worker = threading.Thread(target=_change_mapping, args=(stop, producer, table["LatestStreamArn"], runtime), daemon=True)
        if forwarder_running:
            worker.start()
        try:
            status = smoke.main(["--tfvars", str(tfvars), "--outputs", str(outputs), "--timeout", "20" if forwarder_running else "2"])
        finally:
            stop.set()
            if forwarder_running:
                worker.join(5)
    out = capsys.readouterr()
    # THEN the item's change arrived under its keys, or the wait ends with what did not arrive
    assert "waiting for its change in orders-changes" in out.err
    if forwarder_running:
        assert status == 0, out
        last = out.out.strip().splitlines()[-1]
        assert last.startswith("PASS  end-to-end latency ") and last.endswith("(table orders -> change log orders-changes)")
    else:
        assert status == 1
        assert out.out.strip() == "FAIL  nothing reached the end (table orders -> change log orders-changes) within 2 s"
