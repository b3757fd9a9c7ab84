"""Consumer Lambda for a Kinesis stream shared from another account (placeholder runtime).

Logs each decoded record and acknowledges the batch. A record whose payload cannot be decoded
is logged with its sequence number and still acknowledged: this placeholder has no sink yet,
so retrying it would only block the shard.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from typing import Any

logger = logging.getLogger()
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))


def decode_record(record: dict[str, Any]) -> Any:
    """The JSON value carried by one Kinesis record of a Lambda event."""
    data = base64.b64decode(record["kinesis"]["data"], validate=True)
    return json.loads(data)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    decoded = undecodable = 0
    for record in event.get("Records", []):
        kinesis = record["kinesis"]
        try:
            value = decode_record(record)
        except (binascii.Error, ValueError) as err:
            undecodable += 1
            logger.warning(
                "undecodable record",
                extra={"sequence_number": kinesis["sequenceNumber"], "event_id": record.get("eventID"), "error": str(err)},
            )
            continue
        decoded += 1
        logger.info("record", extra={"sequence_number": kinesis["sequenceNumber"], "record": value})
    logger.info("batch done", extra={"decoded": decoded, "undecodable": undecodable})
    return {"batchItemFailures": []}
