"""Builds DynamoDB Streams event records the way Lambda delivers them."""

from __future__ import annotations

from typing import Any, Optional

TABLE_ARN = "arn:aws:dynamodb:eu-west-1:111111111111:table/xacct-orders"
STREAM_ARN = f"{TABLE_ARN}/stream/2026-11-23T00:00:00.000"
FIRST_SEQUENCE = 4_421_584_500_000_000_017_450_439_091


def sequence(index: int) -> str:
    # Real DynamoDB Streams sequence numbers are 21-40 digit decimals growing along the shard.
    return str(FIRST_SEQUENCE + index * 7)


def change(
    index: int,
    event_name: str = "INSERT",
    keys: Optional[dict[str, Any]] = None,
    new: Optional[dict[str, Any]] = None,
    old: Optional[dict[str, Any]] = None,
) -> dict[str, Any]:
    keys = keys if keys is not None else {"pk": {"S": f"order-{index}"}}
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": 1763856000 + index,
        "Keys": keys,
        "SequenceNumber": sequence(index),
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        body["NewImage"] = new
    if old is not None:
        body["OldImage"] = old
    return {
        "eventID": f"event-{index}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": body,
        "eventSourceARN": STREAM_ARN,
    }


def insert(index: int, **attributes: dict[str, Any]) -> dict[str, Any]:
    keys = {"pk": {"S": f"order-{index}"}}
    return change(index, "INSERT", keys, new={**keys, **attributes})


def from_get_records(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A record returned by DynamoDB Streams GetRecords, as Lambda's poller hands it over."""
    body = dict(record["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if created is not None and not isinstance(created, (int, float)):
        body["ApproximateCreationDateTime"] = created.timestamp()
    return {**{k: v for k, v in record.items() if k != "dynamodb"}, "dynamodb": body, "eventSourceARN": stream_arn}
