"""Property: whatever bytes arrive, every record ends up in the table, in the queue, or reported."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
from hypothesis import HealthCheck, given, settings, strategies as st
from moto import mock_aws

from kinesis_events import Context, event, sequence
from runtime_fakes import REGION, TABLE, FakeClock, ScriptedDynamoDB, create_table
from xacct_consumer.config import Settings
from xacct_consumer.runtime import Runtime

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
payloads = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.text(max_size=10), json_values, max_size=5).map(lambda v: json.dumps(v).encode()),
)
scripts = st.lists(st.sampled_from(["ok", "throttle", "unprocessed:1", "unprocessed:5"]), max_size=8)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(batch=st.lists(payloads, min_size=1, max_size=40), script=scripts, remaining_ms=st.sampled_from([1_500, 60_000]))
def test_every_record_is_written_parked_or_reported(aws_env: None, batch: list[bytes], script: list[str], remaining_ms: int) -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_table(dynamodb)
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        worker = Runtime(
            Settings(table_name=TABLE, dead_letter_queue_url=url, region=REGION, sink_region=REGION),
            ScriptedDynamoDB(dynamodb, script),
            sqs,
            FakeClock(),
        )
        # WHEN
        response = worker.process(event(batch), Context(remaining_ms))
        # THEN
        failures = response["batchItemFailures"]
        assert len(failures) <= 1
        retry_from = int(failures[0]["itemIdentifier"]) if failures else None
        items = dynamodb.scan(TableName=TABLE)["Items"]
        written = {i["sk"]["S"].split("#")[0]: i for i in items}
        parked: dict[str, Any] = {}
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                body = json.loads(message["Body"])
                parked.setdefault(body["sequence_number"], []).append(body)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        for index, data in enumerate(batch):
            seq = sequence(index)
            if seq in written:
                assert written[seq]["payload"]["S"].encode() == data  # exactly what was sent
            elif seq in parked:
                parts = sorted(parked[seq], key=lambda b: b["part"])
                assert base64.b64decode("".join(p["data_base64"] for p in parts)) == data
            else:
                assert retry_from is not None and int(seq) >= retry_from, f"record {index} lost"
            # Nothing is both written and parked.
            assert not (seq in written and seq in parked)
