"""An example of a team's own consumer: counts order events per type, logs and skips undecodable records.

Deployed by `examples/existing-stream.toml` (README quick start) in place of the built-in runtime.
A record that is not a JSON object will never decode, however often Lambda retries it: reporting it in
`batchItemFailures` would make Lambda resume the shard from it and retry the batch until the mapping's
retries run out, holding back every record behind it. So it is logged at ERROR with its coordinates
(stream, shard, sequence number: enough to read it again while the stream holds it) and skipped.
`batchItemFailures` is for what may succeed on a retry; this handler has nothing of that kind.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections import Counter
from typing import Any


def decode(record: dict[str, Any]) -> dict[str, Any]:
    """One Kinesis record's data as a JSON object; ValueError if it is not one."""
    try:
        body = json.loads(base64.b64decode(record["kinesis"]["data"], validate=True))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, KeyError) as error:
        raise ValueError(f"not a JSON record: {error}") from None
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    return body


def coordinates(record: dict[str, Any]) -> dict[str, str]:
    """Where a record lies in its stream: enough to read it again while the stream holds it."""
    return {
        "eventSourceARN": record.get("eventSourceARN", ""),
        "shardId": record.get("eventID", "").split(":", 1)[0],
        "sequenceNumber": record["kinesis"]["sequenceNumber"],
    }


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    counts: Counter[str] = Counter()
    skipped = 0
    for record in event.get("Records", []):
        try:
            counts[str(decode(record).get("type", "unknown"))] += 1
        except ValueError as error:
            skipped += 1
            print(json.dumps({"level": "ERROR", "message": f"skipped: {error}", **coordinates(record)}))
    print(json.dumps({"level": "INFO", "team": os.environ.get("TEAM", ""), "counts": dict(sorted(counts.items())), "skipped": skipped}))
    return {"batchItemFailures": []}
