"""Kinesis event records to DynamoDB items, or to poison records with the reason they failed.

Item layout (written with the low-level client, so no type conversion is lost):

    pk             S  "<shard id>#<2 hex digits>"  the digits: low byte of CRC-32(sequence number)
    sk             S  "<sequence number>#<sub-sequence number, 5 digits>"
    partition_key  S  the (sub-)record's Kinesis partition key
    arrival_ms     N  approximate arrival time on the stream, epoch milliseconds
    payload        S  the record's JSON object, exactly as produced

Shard id, sequence number and sub-sequence number are read back from the keys.

Both keys derive from the record's identity only, so a replay writes the same item again and the
table does not change. 256 hashed buckets per shard spread writes evenly whatever the sequence
number's digits look like (seed 001 used two of its digits, `sequenceNumber[-3:-1] + shardId`:
at most 100 values, and fewer when sequence numbers advance in steps; see tests/test_keys.py).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
import gc
from dataclasses import dataclass, field
from typing import Any, Optional

from xacct_consumer import kpl

# DynamoDB's item limit counts attribute names and values; leave room for the fixed attributes.
MAX_ITEM_BYTES = 400 * 1024
FIXED_ATTRIBUTE_BYTES = 1024
# Base64 characters per SQS message part: well under SQS's 256 KB with the metadata around it.
PART_BASE64_CHARS = 192 * 1024


@dataclass(slots=True)
class Poison:
    """A record (or KPL sub-record) that can never be written, kept with its full payload."""

    reason: str
    shard_id: str
    sequence_number: str
    sub_sequence_number: Optional[int]
    partition_key: str
    arrival_timestamp: Any
    data_base64: str

    def messages(self, event_source_arn: str) -> list[str]:
        """SQS message bodies carrying this record. A payload too big for one 256 KB message
        (up to 1 MB is allowed on Kinesis) is split into numbered parts, each with the metadata;
        join `data_base64` of parts 1..n to get it back."""
        chunks = [self.data_base64[i : i + PART_BASE64_CHARS] for i in range(0, len(self.data_base64), PART_BASE64_CHARS)] or [""]
        return [
            json.dumps(
                {
                    "reason": self.reason,
                    "event_source_arn": event_source_arn,
                    "shard_id": self.shard_id,
                    "sequence_number": self.sequence_number,
                    "sub_sequence_number": self.sub_sequence_number,
                    "partition_key": self.partition_key,
                    "approximate_arrival_timestamp": self.arrival_timestamp,
                    "part": number,
                    "parts": len(chunks),
                    "data_base64": chunk,
                },
                separators=(",", ":"),
            )
            for number, chunk in enumerate(chunks, start=1)
        ]


# One item to write: (pk, sk, partition key, arrival ms or None, payload). Kept as a flat tuple:
# the DynamoDB attribute maps are built 25 at a time, just before each call, so a 10,000-record
# batch never holds 60,000 small dicts at once.
Row = tuple[str, str, str, Optional[str], str]


def to_item(row: Row) -> dict[str, Any]:
    pk, sk, partition_key, arrival_ms, payload = row
    item = {"pk": {"S": pk}, "sk": {"S": sk}, "partition_key": {"S": partition_key}, "payload": {"S": payload}}
    if arrival_ms is not None:
        item["arrival_ms"] = {"N": arrival_ms}
    return item


@dataclass(slots=True)
class Decoded:
    """What one event batch turned into."""

    items: list[Row] = field(default_factory=list)
    poison: list[Poison] = field(default_factory=list)
    records_in: int = 0

    def item_sequence(self, index: int) -> str:
        """The sequence number of the Kinesis record item `index` came from (read off its sort key)."""
        return self.items[index][1].split("#", 1)[0]


_HEX_BYTE = [f"{value:02x}" for value in range(256)]
_JSON = json.JSONDecoder()


def partition_bucket(sequence_number: str) -> str:
    # CRC-32 mixes every digit into the low byte: uniform over 256 buckets, and cheap.
    return _HEX_BYTE[zlib.crc32(sequence_number.encode()) & 0xFF]


def sort_key(sequence_number: str, sub_sequence_number: int) -> str:
    return f"{sequence_number}#{sub_sequence_number:05d}"


def item_keys(shard_id: str, sequence_number: str, sub_sequence_number: int) -> tuple[str, str]:
    return f"{shard_id}#{partition_bucket(sequence_number)}", sort_key(sequence_number, sub_sequence_number)


def decode_batch(records: list[dict[str, Any]]) -> Decoded:
    """Splits an event's records into DynamoDB items and poison records."""
    # Up to 10,000 records make tens of thousands of small dicts and no reference cycles: the
    # cyclic collector would only rescan them again and again (about 10 % of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _decode(records)
    finally:
        if collecting:
            gc.enable()


def _decode(records: list[dict[str, Any]]) -> Decoded:
    out = Decoded(records_in=len(records))
    items, poison = out.items, out.poison
    # a2b_base64 in strict mode validates without b64decode(validate=True)'s regex pass, and the
    # decoder is called directly (json.loads only adds argument checks on top of it).
    b64decode, loads = binascii.a2b_base64, _JSON.decode
    for record in records:
        kinesis = record["kinesis"]
        sequence = kinesis["sequenceNumber"]
        shard_id = record["eventID"].split(":", 1)[0]
        partition_key = kinesis.get("partitionKey", "")
        arrival = kinesis.get("approximateArrivalTimestamp")
        data_b64 = kinesis["data"]
        try:
            data = b64decode(data_b64, strict_mode=True)
        except (binascii.Error, ValueError, TypeError):
            poison.append(Poison("not base64", shard_id, sequence, None, partition_key, arrival, data_b64))
            continue
        if data[:4] == kpl.MAGIC and kpl.is_aggregated(data):
            try:
                parts = [(index, sub.partition_key, sub.data) for index, sub in enumerate(kpl.deaggregate(data))]
            except kpl.AggregationError as err:
                poison.append(Poison(f"malformed KPL aggregate: {err}", shard_id, sequence, None, partition_key, arrival, data_b64))
                continue
            aggregated = True
        else:
            parts = [(0, partition_key, data)]
            aggregated = False
        pk = f"{shard_id}#{partition_bucket(sequence)}"
        arrival_ms = None if arrival is None else str(int(arrival * 1000))
        for sub_sequence, sub_key, payload in parts:
            reason = None
            try:
                text = payload.decode("utf-8")
                value = loads(text)
            except UnicodeDecodeError:
                reason = "not UTF-8 text"
            except ValueError:
                reason = "not JSON"
            else:
                if type(value) is not dict:
                    reason = f"not a JSON object (a JSON {type(value).__name__})"
                elif len(payload) + len(sub_key) + FIXED_ATTRIBUTE_BYTES > MAX_ITEM_BYTES:
                    reason = "over the DynamoDB item size limit (400 KB)"
            if reason is not None:
                sub_b64 = base64.b64encode(payload).decode() if aggregated else data_b64
                poison.append(Poison(reason, shard_id, sequence, sub_sequence if aggregated else None, sub_key, arrival, sub_b64))
                continue
            items.append((pk, sort_key(sequence, sub_sequence), sub_key, arrival_ms, text))
    return out
