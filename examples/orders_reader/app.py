"""An example of a team's own consumer: counts order events per type, reports undecodable records.

Deployed by `examples/existing-stream.toml` (README quick start) in place of the built-in runtime.
Lambda retries only the records this returns in `batchItemFailures` (the mapping reports
partial batch failures), so one bad record never blocks the shard.
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


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    counts: Counter[str] = Counter()
    failures = []
    for record in event.get("Records", []):
        try:
            counts[str(decode(record).get("type", "unknown"))] += 1
        except ValueError as error:
            failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
            print(json.dumps({"level": "ERROR", "message": str(error), "sequenceNumber": record["kinesis"]["sequenceNumber"]}))
    print(json.dumps({"level": "INFO", "team": os.environ.get("TEAM", ""), "counts": dict(sorted(counts.items()))}))
    return {"batchItemFailures": failures}
