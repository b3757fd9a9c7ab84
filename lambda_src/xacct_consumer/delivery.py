"""Writes to DynamoDB and SQS in batches, retrying what AWS did not take, within a deadline.

Every retry waits an exponentially growing, fully jittered delay ("full jitter"), and no wait
starts that would end after the deadline: what is left then is returned as failed, and the
handler reports it so Lambda retries the batch from there.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from xacct_consumer.records import to_item

DYNAMODB_BATCH = 25
SQS_BATCH = 10
SQS_MAX_MESSAGE_BYTES = 256 * 1024
SQS_MAX_BATCH_BYTES = 256 * 1024
KINESIS_BATCH = 500
KINESIS_MAX_RECORD_BYTES = 1024 * 1024  # data and partition key together
KINESIS_MAX_BATCH_BYTES = 5 * 1024 * 1024
FIREHOSE_BATCH = 500
FIREHOSE_MAX_RECORD_BYTES = 1000 * 1024
FIREHOSE_MAX_BATCH_BYTES = 4 * 1024 * 1024
BASE_DELAY_SECONDS = 0.05
MAX_DELAY_SECONDS = 2.0
# Errors worth another try: throttling and the service's own failures.
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "RequestThrottled",
        "TooManyRequestsException",
        "InternalFailure",
        "InternalError",
    }
)


def is_retryable(error: Exception) -> bool:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in RETRYABLE_CODES or status >= 500
    return isinstance(error, BotoCoreError)  # connection resets, timeouts


@dataclass
class Clock:
    """Time, sleep and randomness, injectable so tests run instantly and deterministically."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    uniform: Callable[[float, float], float] = random.uniform

    def backoff(self, attempt: int) -> float:
        return self.uniform(0.0, min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2**attempt))


@dataclass
class Outcome:
    failed: list[int]  # indexes into the input that were not delivered
    retried: int  # entries sent again after a throttle, an error or an unprocessed response
    calls: int


def _deliver(
    batches: list[list[int]],
    send: Callable[[list[int]], list[int]],
    deadline: float,
    clock: Clock,
) -> Outcome:
    """Runs `send` on each batch of indexes; `send` returns the indexes to try again."""
    failed: list[int] = []
    retried = calls = 0
    queue = [(batch, 0) for batch in batches]
    while queue:
        batch, attempt = queue.pop(0)
        if clock.monotonic() >= deadline:
            failed.extend(batch)
            continue
        calls += 1
        try:
            again = send(batch)
        except Exception as error:  # noqa: BLE001  (classified right below)
            if not is_retryable(error):
                failed.extend(batch)
                continue
            again = batch
        if not again:
            continue
        delay = clock.backoff(attempt)
        if clock.monotonic() + delay >= deadline:
            failed.extend(again)
            continue
        clock.sleep(delay)
        retried += len(again)
        queue.append((again, attempt + 1))
    return Outcome(sorted(failed), retried, calls)


def write_items(
    client: Any,
    table: str,
    rows: Sequence[Any],
    deadline: float,
    clock: Clock,
    item_of: Callable[[Any], dict[str, Any]] = to_item,
) -> Outcome:
    """BatchWriteItem in groups of 25; UnprocessedItems and retryable errors go round again.

    `item_of` turns a row into its DynamoDB item; every item has a string sort key `sk`,
    unique within the call, by which AWS' UnprocessedItems (copies) are matched back.
    """
    by_sort_key: dict[str, int] = {}

    def send(batch: list[int]) -> list[int]:
        response = client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item_of(rows[i])}} for i in batch]})
        unprocessed = response.get("UnprocessedItems", {}).get(table, [])
        if not unprocessed:
            return []
        if not by_sort_key:  # built only when AWS pushes back
            by_sort_key.update((item_of(row)["sk"]["S"], index) for index, row in enumerate(rows))
        return [by_sort_key[request["PutRequest"]["Item"]["sk"]["S"]] for request in unprocessed]

    indexes = list(range(len(rows)))
    batches = [indexes[i : i + DYNAMODB_BATCH] for i in range(0, len(indexes), DYNAMODB_BATCH)]
    return _deliver(batches, send, deadline, clock)


def group_entries(
    sizes: Sequence[int], max_entries: int, max_batch_bytes: int, max_entry_bytes: int
) -> tuple[list[list[int]], list[int]]:
    """Groups entry indexes into batch calls within the service's limits; entries over the
    per-entry limit can never be sent and are returned apart."""
    batches: list[list[int]] = []
    oversize: list[int] = []
    current: list[int] = []
    current_bytes = 0
    for index, size in enumerate(sizes):
        if size > max_entry_bytes:
            oversize.append(index)
            continue
        if current and (len(current) == max_entries or current_bytes + size > max_batch_bytes):
            batches.append(current)
            current, current_bytes = [], 0
        current.append(index)
        current_bytes += size
    if current:
        batches.append(current)
    return batches, oversize


def send_messages(client: Any, queue_url: str, bodies: Sequence[str], deadline: float, clock: Clock) -> Outcome:
    """SendMessageBatch with retries; a message over SQS's 256 KB limit cannot be sent and fails."""
    hopeless: list[int] = []  # entries SQS rejected as malformed: trying again will not help

    def send(batch: list[int]) -> list[int]:
        entries = [{"Id": str(i), "MessageBody": bodies[i]} for i in batch]
        failed = client.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
        hopeless.extend(int(f["Id"]) for f in failed if f.get("SenderFault"))
        return [int(f["Id"]) for f in failed if not f.get("SenderFault")]

    sizes = [len(body.encode("utf-8")) for body in bodies]
    batches, oversize = group_entries(sizes, SQS_BATCH, SQS_MAX_BATCH_BYTES, SQS_MAX_MESSAGE_BYTES)
    outcome = _deliver(batches, send, deadline, clock)
    outcome.failed = sorted(outcome.failed + hopeless + oversize)
    return outcome


def put_firehose_records(client: Any, delivery_stream: str, records: Sequence[bytes], deadline: float, clock: Clock) -> Outcome:
    """PutRecordBatch in groups of 500 / 4 MiB; entries Firehose did not take are sent again.

    Firehose answers per entry (`RequestResponses[i].ErrorCode`, mostly ServiceUnavailable when
    the stream is over its throughput), so only those go round again, with backoff. A record
    over 1,000 KiB can never be put and fails at once.
    """

    def send(batch: list[int]) -> list[int]:
        response = client.put_record_batch(DeliveryStreamName=delivery_stream, Records=[{"Data": records[i]} for i in batch])
        if not response.get("FailedPutCount"):
            return []
        return [index for index, answer in zip(batch, response["RequestResponses"]) if answer.get("ErrorCode")]

    batches, oversize = group_entries([len(r) for r in records], FIREHOSE_BATCH, FIREHOSE_MAX_BATCH_BYTES, FIREHOSE_MAX_RECORD_BYTES)
    outcome = _deliver(batches, send, deadline, clock)
    outcome.failed = sorted(outcome.failed + oversize)
    return outcome


def put_kinesis_records(client: Any, stream_arn: str, entries: Sequence[tuple[bytes, str]], deadline: float, clock: Clock) -> Outcome:
    """PutRecords (data, partition key) in groups of 500 / 5 MiB, by stream ARN (another account's
    stream works through an assumed role); entries Kinesis refused (throughput, internal) go again."""

    def send(batch: list[int]) -> list[int]:
        records = [{"Data": entries[i][0], "PartitionKey": entries[i][1]} for i in batch]
        response = client.put_records(StreamARN=stream_arn, Records=records)
        if not response.get("FailedRecordCount"):
            return []
        return [index for index, answer in zip(batch, response["Records"]) if answer.get("ErrorCode")]

    sizes = [len(data) + len(key.encode("utf-8")) for data, key in entries]
    batches, oversize = group_entries(sizes, KINESIS_BATCH, KINESIS_MAX_BATCH_BYTES, KINESIS_MAX_RECORD_BYTES)
    outcome = _deliver(batches, send, deadline, clock)
    outcome.failed = sorted(outcome.failed + oversize)
    return outcome
