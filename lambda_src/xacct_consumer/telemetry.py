"""One structured log line per batch that is also CloudWatch metrics (embedded metric format)."""

from __future__ import annotations

import json
import sys
import time
from typing import Mapping, TextIO

METRICS = ("RecordsIn", "RecordsWritten", "RecordsParked", "RecordsRetried", "RecordsFailed")


def batch_line(namespace: str, function_name: str, counts: Mapping[str, int], extra: Mapping[str, object]) -> str:
    document: dict[str, object] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in METRICS],
                }
            ],
        },
        "level": "INFO",
        "message": "batch processed",
        "FunctionName": function_name,
        **{name: int(counts.get(name, 0)) for name in METRICS},
        **extra,
    }
    return json.dumps(document, separators=(",", ":"), default=str)


def emit(line: str, stream: TextIO | None = None) -> None:
    # Lambda ships stdout lines to CloudWatch Logs as they are; EMF needs the bare JSON line.
    print(line, file=stream or sys.stdout, flush=True)
