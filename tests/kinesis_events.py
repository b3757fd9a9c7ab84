"""Builds Kinesis event records the way Lambda delivers them from an EFO consumer."""

from __future__ import annotations

import base64
import json
from typing import Any, Iterable

SHARD = "shardId-000000000000"
SOURCE_ARN = "arn:aws:kinesis:eu-west-1:111111111111:stream/xacct-shared-stream/consumer/xacct-lambda-consumer:1763799000"
FIRST_SEQUENCE = 49590338271490256608559692538361571095921575989136588801


def sequence(index: int) -> str:
    # Real sequence numbers are 56-digit decimals that grow along the shard.
    return str(FIRST_SEQUENCE + index * 100)


def record(data: bytes, index: int, shard: str = SHARD, partition_key: str = "pk-1") -> dict[str, Any]:
    seq = sequence(index)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": seq,
            "data": base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": 1763800000.123 + index,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::222222222222:role/xacct-stream-consumer-role",
        "awsRegion": "eu-west-1",
        "eventSourceARN": SOURCE_ARN,
    }


def from_get_records(record: dict[str, Any], shard_id: str, source_arn: str = SOURCE_ARN) -> dict[str, Any]:
    """A record returned by Kinesis GetRecords, as Lambda's poller would hand it to the function."""
    return {
        "kinesis": {
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode(),
            "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
        },
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventSourceARN": source_arn,
    }


def event(payloads: Iterable[bytes], shard: str = SHARD) -> dict[str, Any]:
    return {"Records": [record(data, index, shard) for index, data in enumerate(payloads)]}


def json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


class Context:
    """The part of the Lambda context the handler reads."""

    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
