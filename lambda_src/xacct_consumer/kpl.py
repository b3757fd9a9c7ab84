"""Kinesis Producer Library aggregation: decode (and, for tests and tools, encode).

An aggregated record is: the magic bytes F3 89 9A C2, a protobuf `AggregatedRecord`, and the
16-byte MD5 of that protobuf. The schema (from the KPL's `messages.proto`):

    message AggregatedRecord {
      repeated string partition_key_table     = 1;
      repeated string explicit_hash_key_table = 2;
      repeated Record records                 = 3;
    }
    message Record {
      required uint64 partition_key_index     = 1;
      optional uint64 explicit_hash_key_index = 2;
      required bytes  data                    = 3;
      repeated Tag    tags                    = 4;
    }

Like the KPL's own deaggregators, data that has the magic prefix but a wrong checksum is
treated as one ordinary record; a correct checksum over a malformed message is an error.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterator, Sequence

MAGIC = b"\xf3\x89\x9a\xc2"
DIGEST_SIZE = 16


class AggregationError(ValueError):
    """The checksum matched but the protobuf message is malformed."""


@dataclass(frozen=True)
class SubRecord:
    partition_key: str
    data: bytes


def is_aggregated(data: bytes) -> bool:
    """True when `data` is a KPL aggregate with a valid checksum."""
    if len(data) < len(MAGIC) + DIGEST_SIZE or not data.startswith(MAGIC):
        return False
    message, digest = data[len(MAGIC) : -DIGEST_SIZE], data[-DIGEST_SIZE:]
    return hashlib.md5(message).digest() == digest  # noqa: S324 (a checksum, not security)


def _varint(buffer: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(buffer):
            raise AggregationError("truncated varint")
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise AggregationError("varint longer than 64 bits")


def _fields(buffer: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs of one protobuf message; unknown wire types are errors."""
    position = 0
    while position < len(buffer):
        key, position = _varint(buffer, position)
        number, wire_type = key >> 3, key & 0x7
        if wire_type == 0:
            value, position = _varint(buffer, position)
            yield number, value
        elif wire_type == 2:
            length, position = _varint(buffer, position)
            end = position + length
            if end > len(buffer):
                raise AggregationError("length-delimited field runs past the end")
            yield number, buffer[position:end]
            position = end
        elif wire_type == 1:
            position += 8
        elif wire_type == 5:
            position += 4
        else:
            raise AggregationError(f"unsupported wire type {wire_type}")
    if position != len(buffer):
        raise AggregationError("fixed-width field runs past the end")


def deaggregate(data: bytes) -> list[SubRecord]:
    """The user records inside an aggregate (call only when `is_aggregated(data)`)."""
    message = data[len(MAGIC) : -DIGEST_SIZE]
    partition_keys: list[str] = []
    raw_records: list[bytes] = []
    for number, value in _fields(message):
        if number == 1 and isinstance(value, bytes):
            partition_keys.append(value.decode("utf-8", errors="replace"))
        elif number == 3 and isinstance(value, bytes):
            raw_records.append(value)
    records = []
    for raw in raw_records:
        key_index: int | None = None
        payload: bytes | None = None
        for number, value in _fields(raw):
            if number == 1 and isinstance(value, int):
                key_index = value
            elif number == 3 and isinstance(value, bytes):
                payload = value
        if key_index is None or payload is None:
            raise AggregationError("record without partition_key_index or data")
        if key_index >= len(partition_keys):
            raise AggregationError(f"partition_key_index {key_index} outside a table of {len(partition_keys)}")
        records.append(SubRecord(partition_keys[key_index], payload))
    return records


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | 2) + _encode_varint(len(payload)) + payload


def aggregate(records: Sequence[SubRecord]) -> bytes:
    """A KPL aggregate of `records` (what the KPL would put on the stream)."""
    keys: list[str] = []
    body = bytearray()
    for record in records:
        if record.partition_key not in keys:
            keys.append(record.partition_key)
    message = bytearray(b"".join(_field(1, k.encode()) for k in keys))
    for record in records:
        inner = _encode_varint(1 << 3 | 0) + _encode_varint(keys.index(record.partition_key)) + _field(3, record.data)
        body += _field(3, inner)
    message += body
    return MAGIC + bytes(message) + hashlib.md5(bytes(message)).digest()  # noqa: S324
