"""One batch, end to end: decode, write idempotently, park poison records, report failures.

Kinesis checkpoint semantics: Lambda resumes a shard from the lowest sequence number reported
in `batchItemFailures`, so one entry, the lowest not-delivered record, says it all. Poison
records at or after that point are not parked now: the retry will park them, so they reach the
queue once. Everything before it is in the table or in the queue when the batch is acknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import boto3
from botocore.config import Config

from xacct_consumer.config import Settings
from xacct_consumer.credentials import assumed_role_session
from xacct_consumer.delivery import Clock, send_messages, write_items
from xacct_consumer.records import decode_batch
from xacct_consumer.telemetry import batch_line, emit

# Left for parking, logging and returning once writes give up.
SAFETY_SECONDS = 1.0
DEFAULT_REMAINING_SECONDS = 60.0
# Our own loop retries, within the function's remaining time; botocore must not retry on its own.
CLIENT_CONFIG = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=10)


@dataclass
class Runtime:
    settings: Settings
    dynamodb: Any
    sqs: Any
    clock: Clock = field(default_factory=Clock)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Runtime":
        """Clients for this container; called once, on the first invocation."""
        session = boto3.Session(region_name=settings.region)
        if settings.sink_role_arn:
            sts = session.client("sts", config=CLIENT_CONFIG)
            sink = assumed_role_session(
                sts, settings.sink_role_arn, f"{settings.function_name}-sink", settings.sink_region, settings.sink_external_id
            )
        else:
            sink = boto3.Session(region_name=settings.sink_region)
        return cls(settings, sink.client("dynamodb", config=CLIENT_CONFIG), session.client("sqs", config=CLIENT_CONFIG))

    def process(self, event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
        started = self.clock.monotonic()
        remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else DEFAULT_REMAINING_SECONDS
        deadline = started + max(0.0, remaining - SAFETY_SECONDS)
        records = event.get("Records", [])
        decoded = decode_batch(records)

        write = write_items(self.dynamodb, self.settings.table_name, decoded.items, deadline, self.clock)
        write_failures = [decoded.item_sequence(i) for i in write.failed]
        lowest_write_failure = _lowest(write_failures)

        parkable = [p for p in decoded.poison if lowest_write_failure is None or int(p.sequence_number) < int(lowest_write_failure)]
        parkable.sort(key=lambda p: (int(p.sequence_number), p.sub_sequence_number or 0))
        source_arn = records[0].get("eventSourceARN", "") if records else ""
        bodies: list[str] = []
        owners: list[int] = []  # which parkable record each message belongs to
        for index, poison in enumerate(parkable):
            for body in poison.messages(source_arn):
                bodies.append(body)
                owners.append(index)
        park = send_messages(self.sqs, self.settings.dead_letter_queue_url, bodies, deadline, self.clock)
        unparked = sorted({owners[i] for i in park.failed})
        lowest = _lowest(write_failures + [parkable[i].sequence_number for i in unparked])

        deferred = len(decoded.poison) - len(parkable)
        counts = {
            "RecordsIn": len(decoded.items) + len(decoded.poison),
            "RecordsWritten": len(decoded.items) - len(write.failed),
            "RecordsParked": len(parkable) - len(unparked),
            "RecordsRetried": write.retried + park.retried,
            "RecordsFailed": len(write.failed) + len(unparked) + deferred,
        }
        emit(
            batch_line(
                self.settings.metrics_namespace,
                self.settings.function_name,
                counts,
                {
                    "kinesis_records": decoded.records_in,
                    "shard_id": records[0]["eventID"].split(":", 1)[0] if records else None,
                    "lowest_failed_sequence_number": lowest,
                    "poison_deferred": deferred,
                    "dynamodb_calls": write.calls,
                    "sqs_calls": park.calls,
                    "duration_ms": round((self.clock.monotonic() - started) * 1000, 1),
                },
            )
        )
        return {"batchItemFailures": [{"itemIdentifier": lowest}] if lowest is not None else []}


def _lowest(sequence_numbers: list[str]) -> Optional[str]:
    return min(sequence_numbers, key=int) if sequence_numbers else None
