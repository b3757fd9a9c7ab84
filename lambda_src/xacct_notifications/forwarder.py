"""SNS-delivered SES notifications -> PutRecords into another account's stream, through a role.

Seed 004 put one record per invocation with a fixed partition key (its TODO: "generate a random
partitionKey ... a multi shard stream will lead to performance problems"). Here the partition key
is the SES `mail.messageId`: unique per email and random, so load spreads evenly over the shards,
while every event of one email (send, delivery, open, click...) lands on the same shard, in order.
A message that is not an SES notification is keyed by its SNS MessageId (random too).

Entries Kinesis refuses are retried with backoff inside the remaining time; what still fails, or
can never fit a record (over 1 MiB), goes whole to the dead-letter queue. Only if that fails too
does the invocation fail, so Lambda retries it (and sends it to the function's own dead-letter
queue after its asynchronous retries).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from xacct_contracts import ForwarderSettings
from xacct_consumer.credentials import assumed_role_session
from xacct_consumer.delivery import Clock, put_kinesis_records, send_messages
from xacct_consumer.runtime import CLIENT_CONFIG, DEFAULT_REMAINING_SECONDS, SAFETY_SECONDS
from xacct_consumer.telemetry import batch_line, emit

MAX_PARTITION_KEY = 256


def partition_key(message: str, sns_message_id: str) -> str:
    try:
        notification = json.loads(message)
        key = notification["mail"]["messageId"]
    except (ValueError, KeyError, TypeError):
        return sns_message_id[:MAX_PARTITION_KEY] or "unknown"
    return key[:MAX_PARTITION_KEY] if isinstance(key, str) and key else (sns_message_id[:MAX_PARTITION_KEY] or "unknown")


@dataclass
class Forwarder:
    settings: ForwarderSettings
    kinesis: Any  # a client on the stream account's role
    sqs: Any
    clock: Clock = field(default_factory=Clock)

    @classmethod
    def from_settings(cls, settings: ForwarderSettings) -> "Forwarder":
        session = boto3.Session(region_name=settings.region)
        stream = assumed_role_session(
            session.client("sts", config=CLIENT_CONFIG), settings.stream_role_arn, f"{settings.function_name}-stream", settings.region
        )
        return cls(settings, stream.client("kinesis", config=CLIENT_CONFIG), session.client("sqs", config=CLIENT_CONFIG))

    def process(self, event: dict[str, Any], context: Any) -> dict[str, int]:
        started = self.clock.monotonic()
        remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else DEFAULT_REMAINING_SECONDS
        deadline = started + max(0.0, remaining - SAFETY_SECONDS)
        notifications = [record["Sns"] for record in event.get("Records", []) if "Sns" in record]
        entries = [(n.get("Message", "").encode("utf-8"), partition_key(n.get("Message", ""), n.get("MessageId", ""))) for n in notifications]
        put = put_kinesis_records(self.kinesis, self.settings.stream_arn, entries, deadline, self.clock)
        bodies = [
            json.dumps({"reason": "not delivered to the stream", "stream_arn": self.settings.stream_arn, "sns": notifications[i]}, separators=(",", ":"))
            for i in put.failed
        ]
        park = send_messages(self.sqs, self.settings.dead_letter_queue_url, bodies, deadline, self.clock)
        counts = {
            "RecordsIn": len(entries),
            "RecordsWritten": len(entries) - len(put.failed),
            "RecordsParked": len(bodies) - len(park.failed),
            "RecordsRetried": put.retried + park.retried,
            "RecordsFailed": len(park.failed),
        }
        emit(batch_line(self.settings.metrics_namespace, self.settings.function_name, counts, {"kinesis_calls": put.calls, "sqs_calls": park.calls}))
        if park.failed:
            # Neither the stream nor the queue took them: fail, so Lambda retries the invocation.
            raise RuntimeError(f"{len(park.failed)} notifications neither delivered nor parked")
        return {"delivered": counts["RecordsWritten"], "parked": counts["RecordsParked"]}

