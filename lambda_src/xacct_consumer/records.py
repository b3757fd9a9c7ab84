"""Kinesis event records to DynamoDB items, or to poison records with the reason they failed.

Item layout (all strings, written with the low-level client, so no type conversion is lost):

    pk                   "<shard id>#<2 hex digits>"  the digits: first byte of BLAKE2b(sequence number)
    sk                   "<sequence number>#<sub-sequence number, 5 digits>"
    shard_id, sequence_number, sub_sequence_number, partition_key, arrival_timestamp
    payload              the record's JSON object, exactly as produced

Both keys derive from the record's identity only, so a replay writes the same item again and the
table does not change. 256 hashed buckets per shard spread writes evenly whatever the sequence
number's digits look like (seed 001 used two of its digits, `sequenceNumber[-3:-1] + shardId`:
at most 100 values, and fewer when sequence numbers advance in steps; see tests/test_keys.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
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


@dataclass(slots=True)
class Decoded:
    """What one event batch turned into."""

    items: list[dict[str, Any]] = field(default_factory=list)
    # The sequence number of the Kinesis record each item came from, index for index.
    item_sequences: list[str] = field(default_factory=list)
    poison: list[Poison] = field(default_factory=list)
    records_in: int = 0


def partition_bucket(sequence_number: str) -> str:
    return hashlib.blake2b(sequence_number.encode(), digest_size=1).hexdigest()


def item_keys(shard_id: str, sequence_number: str, sub_sequence_number: int) -> tuple[str, str]:
    return f"{shard_id}#{partition_bucket(sequence_number)}", f"{sequence_number}#{sub_sequence_number:05d}"


def decode_batch(records: list[dict[str, Any]]) -> Decoded:
    """Splits an event's records into DynamoDB items and poison records."""
    out = Decoded(records_in=len(records))
    items, sequences, poison = out.items, out.item_sequences, out.poison
    b64decode, loads = base64.b64decode, json.loads
    for record in records:
        kinesis = record["kinesis"]
        sequence = kinesis["sequenceNumber"]
        shard_id = record["eventID"].split(":", 1)[0]
        partition_key = kinesis.get("partitionKey", "")
        arrival = kinesis.get("approximateArrivalTimestamp")
        data_b64 = kinesis["data"]
        try:
            data = b64decode(data_b64, validate=True)
        except (binascii.Error, ValueError):
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
        arrival_attribute = None if arrival is None else {"N": str(arrival)}
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
            item = {
                "pk": {"S": pk},
                "sk": {"S": f"{sequence}#{sub_sequence:05d}"},
                "shard_id": {"S": shard_id},
                "sequence_number": {"S": sequence},
                "sub_sequence_number": {"N": str(sub_sequence)},
                "partition_key": {"S": sub_key},
                "payload": {"S": text},
            }
            if arrival_attribute is not None:
                item["arrival_timestamp"] = arrival_attribute
            items.append(item)
            sequences.append(sequence)
    return out
