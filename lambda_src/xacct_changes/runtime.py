"""One DynamoDB Streams batch, end to end: flatten, deliver, park poison, report failures.

Checkpointing is the Kinesis runtime's (`xacct_consumer.runtime`): Lambda resumes a stream
shard from the lowest sequence number in `batchItemFailures`, so one entry, the lowest change
not delivered, says it all; poison records before it are parked on the dead-letter queue with
the whole record, poison at or after it waits for the retry so it is parked once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import boto3

from xacct_changes.changes import MAX_ITEM_BYTES, MAX_PARTITION_KEY_BYTES, Change, PoisonChange, decode_changes
from xacct_changes.config import ChangeSettings
from xacct_consumer.delivery import FIREHOSE_MAX_RECORD_BYTES, Clock, Outcome, put_firehose_records, send_messages, write_items
from xacct_consumer.runtime import CLIENT_CONFIG, DEFAULT_REMAINING_SECONDS, SAFETY_SECONDS
from xacct_consumer.telemetry import batch_line, emit


@dataclass
class ChangeRuntime:
    settings: ChangeSettings
    sink: Any  # a DynamoDB client (change-log table) or a Firehose client
    sqs: Any
    clock: Clock = field(default_factory=Clock)

    @classmethod
    def from_settings(cls, settings: ChangeSettings) -> "ChangeRuntime":
        session = boto3.Session(region_name=settings.region)
        sqs = session.client("sqs", config=CLIENT_CONFIG)
        if settings.delivery_stream_name is not None:
            return cls(settings, session.client("firehose", config=CLIENT_CONFIG), sqs)
        return cls(settings, session.client("dynamodb", config=CLIENT_CONFIG), sqs)

    def _deliver(self, changes: list[Change], deadline: float) -> tuple[Outcome, list[tuple[int, str]]]:
        """Delivers what fits the sink; returns the outcome and (index, why) of those that never can."""
        never: dict[int, str] = {}
        if self.settings.delivery_stream_name is not None:
            payloads = [change.json_line() for change in changes]
            never.update((i, "over the sink's size limit") for i, p in enumerate(payloads) if len(p) > FIREHOSE_MAX_RECORD_BYTES)
        else:
            payloads = [change.item() for change in changes]
            for i, item in enumerate(payloads):
                # An item's size counts names and values; the JSON text of the images dominates it.
                if sum(len(k) + len(str(v)) for k, v in item.items()) > MAX_ITEM_BYTES:
                    never[i] = "over the sink's size limit"
                # The keys' JSON may outgrow the change log's partition key although each source key
                # fits its own table: one such item makes DynamoDB refuse the whole batch write.
                elif len(item["pk"]["S"].encode("utf-8")) > MAX_PARTITION_KEY_BYTES:
                    never[i] = f"keys over the change log's partition key limit ({MAX_PARTITION_KEY_BYTES} bytes)"
        fits = [i for i in range(len(payloads)) if i not in never]
        too_big = sorted(never.items())
        chosen = [payloads[i] for i in fits]
        if self.settings.delivery_stream_name is not None:
            outcome = put_firehose_records(self.sink, self.settings.delivery_stream_name, chosen, deadline, self.clock)
        else:
            outcome = write_items(self.sink, self.settings.table_name or "", chosen, deadline, self.clock, item_of=lambda item: item)
        outcome.failed = [fits[i] for i in outcome.failed]
        return outcome, too_big

    def process(self, event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
        started = self.clock.monotonic()
        remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else DEFAULT_REMAINING_SECONDS
        deadline = started + max(0.0, remaining - SAFETY_SECONDS)
        records = event.get("Records", [])
        decoded = decode_changes(records)
        changes = decoded.changes

        delivery, too_big = self._deliver(changes, deadline)
        poison = decoded.poison + [
            PoisonChange(why, changes[i].sequence_number, records_by_sequence(records, changes[i].sequence_number))
            for i, why in too_big
        ]
        failures = [changes[i].sequence_number for i in delivery.failed]
        lowest_failure = _lowest(failures)
        parkable = sorted(
            (p for p in poison if lowest_failure is None or int(p.sequence_number) < int(lowest_failure)),
            key=lambda p: int(p.sequence_number),
        )
        bodies: list[str] = []
        owners: list[int] = []
        for index, item in enumerate(parkable):
            for body in item.messages():
                bodies.append(body)
                owners.append(index)
        park = send_messages(self.sqs, self.settings.dead_letter_queue_url, bodies, deadline, self.clock)
        unparked = sorted({owners[i] for i in park.failed})
        lowest = _lowest(failures + [parkable[i].sequence_number for i in unparked])

        deferred = len(poison) - len(parkable)
        delivered = len(changes) - len(too_big) - len(delivery.failed)
        emit(
            batch_line(
                self.settings.metrics_namespace,
                self.settings.function_name,
                {
                    "RecordsIn": len(records),
                    "RecordsWritten": delivered,
                    "RecordsParked": len(parkable) - len(unparked),
                    "RecordsRetried": delivery.retried + park.retried,
                    "RecordsFailed": len(delivery.failed) + len(unparked) + deferred,
                },
                {
                    "sink": "firehose" if self.settings.delivery_stream_name else "table",
                    "lowest_failed_sequence_number": lowest,
                    "poison_deferred": deferred,
                    "sink_calls": delivery.calls,
                    "sqs_calls": park.calls,
                    "duration_ms": round((self.clock.monotonic() - started) * 1000, 1),
                },
            )
        )
        return {"batchItemFailures": [{"itemIdentifier": lowest}] if lowest is not None else []}


def records_by_sequence(records: list[dict[str, Any]], sequence_number: str) -> dict[str, Any]:
    return next(r for r in records if r.get("dynamodb", {}).get("SequenceNumber") == sequence_number)


def _lowest(sequence_numbers: list[str]) -> Optional[str]:
    return min(sequence_numbers, key=int) if sequence_numbers else None
