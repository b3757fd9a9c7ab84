"""DynamoDB Streams event records to changes, or to poison records with the reason.

A change keeps what a reader of the source table needs: the event name (INSERT, MODIFY,
REMOVE), the item's keys, the new and old images flattened to plain JSON (`images.py`), the
stream sequence number and the approximate creation time.

Change-log item layout (the consumer account's table, written with the low-level client):

    pk            S  the item's keys as canonical JSON (sorted names): all changes of one item
    sk            S  the sequence number, zero-padded to 40 digits so string order is stream order
    event_name    S  INSERT | MODIFY | REMOVE
    created_ms    N  approximate creation time, epoch milliseconds
    new_image     S  flattened JSON (absent for REMOVE or a KEYS_ONLY / OLD_IMAGE stream)
    old_image     S  flattened JSON (absent for INSERT or a KEYS_ONLY / NEW_IMAGE stream)

Both keys come from the record's identity, so a replay writes the same item again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

from xacct_changes.images import ImageError, flatten, to_json

SEQUENCE_DIGITS = 40
MAX_ITEM_BYTES = 400 * 1024
# DynamoDB: a partition key value is at most 2,048 bytes (UTF-8); BatchWriteItem rejects the whole batch
# when one item's key is longer (API reference, BatchWriteItem).
MAX_PARTITION_KEY_BYTES = 2048
# Part size for a poison record's JSON in SQS messages (256 KB each, metadata included).
PART_CHARS = 192 * 1024


@dataclass(frozen=True, slots=True)
class Change:
    event_name: str
    sequence_number: str
    keys: dict[str, Any]
    new_image: Optional[dict[str, Any]]
    old_image: Optional[dict[str, Any]]
    created_ms: Optional[int]
    table_arn: str

    @property
    def table_name(self) -> str:
        return self.table_arn.split(":table/", 1)[-1].split("/", 1)[0]

    def json_line(self) -> bytes:
        """One newline-terminated JSON object, the form Firehose writes to S3 as is."""
        document: dict[str, Any] = {
            "table": self.table_name,
            "event_name": self.event_name,
            "sequence_number": self.sequence_number,
            "approximate_creation_ms": self.created_ms,
            "keys": self.keys,
            "new_image": self.new_image,
            "old_image": self.old_image,
        }
        return (to_json(document) + "\n").encode("utf-8")

    def item(self) -> dict[str, Any]:
        """The change-log item (layout in the module docstring)."""
        item: dict[str, Any] = {
            "pk": {"S": to_json(dict(sorted(self.keys.items())))},
            "sk": {"S": self.sequence_number.zfill(SEQUENCE_DIGITS)},
            "event_name": {"S": self.event_name},
        }
        if self.created_ms is not None:
            item["created_ms"] = {"N": str(self.created_ms)}
        if self.new_image is not None:
            item["new_image"] = {"S": to_json(self.new_image)}
        if self.old_image is not None:
            item["old_image"] = {"S": to_json(self.old_image)}
        return item


@dataclass(frozen=True, slots=True)
class PoisonChange:
    """A record that can never be delivered, kept whole for a person to look at."""

    reason: str
    sequence_number: str
    record: dict[str, Any]

    def messages(self) -> list[str]:
        """SQS bodies; a record too big for one message is split into numbered parts
        (join `record_json` of parts 1..n)."""
        text = json.dumps(self.record, separators=(",", ":"), default=str)
        chunks = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
        return [
            json.dumps(
                {
                    "reason": self.reason,
                    "event_source_arn": self.record.get("eventSourceARN", ""),
                    "sequence_number": self.sequence_number,
                    "part": number,
                    "parts": len(chunks),
                    "record_json": chunk,
                },
                separators=(",", ":"),
            )
            for number, chunk in enumerate(chunks, start=1)
        ]


@dataclass
class DecodedChanges:
    changes: list[Change]
    poison: list[PoisonChange]


def _sequence_of(record: Any) -> Optional[str]:
    try:
        sequence = record["dynamodb"]["SequenceNumber"]
    except (KeyError, TypeError):
        return None
    return sequence if isinstance(sequence, str) and sequence.isdigit() and len(sequence) <= SEQUENCE_DIGITS else None


def decode_changes(records: list[dict[str, Any]]) -> DecodedChanges:
    """Splits an event's records into changes and poison records.

    A record without a usable sequence number cannot be checkpointed or reported; it is
    poison with sequence number "0" (never seen from DynamoDB, which numbers from 1).
    """
    out = DecodedChanges([], [])
    for record in records:
        sequence = _sequence_of(record)
        if sequence is None:
            out.poison.append(PoisonChange("no sequence number", "0", record))
            continue
        body = record["dynamodb"]
        event_name = record.get("eventName")
        if event_name not in ("INSERT", "MODIFY", "REMOVE"):
            out.poison.append(PoisonChange(f"unknown event name {event_name!r}", sequence, record))
            continue
        try:
            keys = flatten(body.get("Keys"))
            new = flatten(body["NewImage"]) if "NewImage" in body else None
            old = flatten(body["OldImage"]) if "OldImage" in body else None
        except ImageError as error:
            out.poison.append(PoisonChange(f"not a DynamoDB image: {error}", sequence, record))
            continue
        created = body.get("ApproximateCreationDateTime")
        created_ms = int(float(created) * 1000) if isinstance(created, (int, float)) else None
        out.changes.append(Change(event_name, sequence, keys, new, old, created_ms, record.get("eventSourceARN", "")))
    return out
