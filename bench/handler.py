#!/usr/bin/env python3
"""Handler benchmark: our consumer on a 10,000-record batch against the decode floor.

The floor is a bare loop of base64 decode + json.loads over the same records: no consumer can
do less. Ours is the whole `Runtime.process` (decode, keys, items, batching, retries bookkeeping,
the log line) with every AWS call stubbed at the botocore level (`BaseClient._make_api_call`),
so only our code is timed. Both run alternately; medians are reported. AWS calls are counted
per operation, for a cold invocation (first in a container) and a warm one, with the sink in
another account (SINK_ROLE_ARN set), the case where seed 001 called STS every time.

    make bench-handler          # or: .venv/bin/python bench/handler.py
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import datetime
import io
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambda_src"))

import botocore.client  # noqa: E402

from report import finish  # noqa: E402

from xacct_consumer.config import Settings  # noqa: E402
from xacct_consumer.runtime import Runtime  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "handler.json"
RECORDS = 10_000  # the Kinesis maximum batch for Lambda
GOALS = {"ratio_to_floor_min": 0.6, "write_calls_per_10k_max": 400, "warm_sts_calls_max": 0}
# Seed 001: one PutItem per record and one AssumeRole per invocation.
SEED_001_CALLS = {"PutItem": RECORDS, "AssumeRole": 1}


def make_batch(count: int, seed: int = 7) -> dict[str, Any]:
    """~500-byte JSON order events, as a producer would put them."""
    rng = random.Random(seed)
    first = 49590338271490256608559692538361571095921575989136588801
    records = []
    for i in range(count):
        body = {
            "event_id": f"evt-{i:08d}",
            "type": rng.choice(["order.created", "order.paid", "order.shipped"]),
            "order_id": f"o-{rng.randrange(10**9):09d}",
            "customer_id": f"c-{rng.randrange(10**7):07d}",
            "amount": round(rng.uniform(1, 500), 2),
            "currency": "EUR",
            "items": [{"sku": f"sku-{rng.randrange(10**5):05d}", "qty": rng.randrange(1, 5), "price": round(rng.uniform(1, 99), 2)} for _ in range(3)],
            "shipping": {"country": rng.choice(["DE", "FR", "NL", "IE"]), "postcode": f"{rng.randrange(10**5):05d}"},
            "note": "x" * rng.randrange(120, 180),
        }
        data = json.dumps(body).encode()
        seq = str(first + i * 100)
        records.append(
            {
                "kinesis": {"partitionKey": body["order_id"], "sequenceNumber": seq, "data": base64.b64encode(data).decode(), "approximateArrivalTimestamp": 1763800000.0 + i / 1000},
                "eventID": f"shardId-000000000000:{seq}",
                "eventSourceARN": "arn:aws:kinesis:eu-west-1:111111111111:stream/s/consumer/c:1",
            }
        )
    return {"Records": records}


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 300_000


class StubbedAws:
    """Replaces botocore's API call: counts operations, answers as AWS does on success."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()

    def __call__(self, client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls[operation] += 1
        if operation == "AssumeRole":
            expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
            return {"Credentials": {"AccessKeyId": "AKIA", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": expires}}
        if operation == "BatchWriteItem":
            return {"UnprocessedItems": {}}
        if operation == "SendMessageBatch":
            return {"Successful": [{"Id": e["Id"]} for e in params["Entries"]], "Failed": []}
        raise AssertionError(f"unexpected call {operation}")


def floor(batch: dict[str, Any]) -> float:
    started = time.perf_counter()
    for record in batch["Records"]:
        json.loads(base64.b64decode(record["kinesis"]["data"]))
    return time.perf_counter() - started


def ours(runtime: Runtime, batch: dict[str, Any]) -> float:
    with contextlib.redirect_stdout(io.StringIO()):
        started = time.perf_counter()
        response = runtime.process(batch, Context())
        elapsed = time.perf_counter() - started
    assert response == {"batchItemFailures": []}, response
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_DEFAULT_REGION": "eu-west-1"})
    batch = make_batch(RECORDS)
    payload_bytes = statistics.mean(len(base64.b64decode(r["kinesis"]["data"])) for r in batch["Records"])
    stub = StubbedAws()
    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", lambda self, op, params: stub(self, op, params)):
        settings = Settings(
            table_name="sink", dead_letter_queue_url="https://sqs.eu-west-1.amazonaws.com/222222222222/dlq",
            region="eu-west-1", sink_region="eu-west-1", sink_role_arn="arn:aws:iam::333333333333:role/sink-writer",
        )
        runtime = Runtime.from_settings(settings)  # cold start: clients and the assumed role
        ours(runtime, batch)
        cold = dict(stub.calls)
        stub.calls.clear()
        ours(runtime, batch)
        warm = dict(stub.calls)
        floors, our_times = [], []
        for _ in range(args.runs):
            floors.append(floor(batch))
            our_times.append(ours(runtime, batch))
    floor_median, our_median = statistics.median(floors), statistics.median(our_times)
    ratio = floor_median / our_median
    write_calls = warm.get("BatchWriteItem", 0)
    checks = {
        "throughput >= 0.6 of the floor": ratio >= GOALS["ratio_to_floor_min"],
        "<= 400 write calls per 10,000 records": write_calls <= GOALS["write_calls_per_10k_max"],
        "0 STS calls on a warm invocation": warm.get("AssumeRole", 0) <= GOALS["warm_sts_calls_max"],
    }
    report = {
        "benchmark": "handler",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0],
        "records": RECORDS,
        "mean_payload_bytes": round(payload_bytes),
        "runs": args.runs,
        "floor_median_seconds": floor_median,
        "ours_median_seconds": our_median,
        "floor_records_per_second": RECORDS / floor_median,
        "ours_records_per_second": RECORDS / our_median,
        "ratio_to_floor": ratio,
        "aws_calls_cold_invocation": cold,
        "aws_calls_warm_invocation": warm,
        "seed_001_calls_per_invocation": SEED_001_CALLS,
        "goals": GOALS,
        "checks": checks,
        "floor_seconds": floors,
        "ours_seconds": our_times,
    }
    print(f"{RECORDS} records of ~{payload_bytes:.0f} bytes, median of {args.runs} runs each")
    print(f"  floor (b64decode + json.loads): {RECORDS / floor_median:10,.0f} records/s  ({floor_median * 1000:.1f} ms)")
    print(f"  ours  (Runtime.process):        {RECORDS / our_median:10,.0f} records/s  ({our_median * 1000:.1f} ms)")
    print(f"  ratio ours/floor: {ratio:.2f}")
    print(f"  AWS calls, cold invocation: {cold}")
    print(f"  AWS calls, warm invocation: {warm}   (seed 001: {SEED_001_CALLS})")
    return finish(report, checks, args.output)


if __name__ == "__main__":
    sys.exit(main())
