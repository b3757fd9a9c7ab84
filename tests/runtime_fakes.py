"""Fakes the runtime tests share: a clock that moves only when the code sleeps, the sink table, and a
DynamoDB client whose BatchWriteItem outcomes are scripted."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from xacct_consumer.delivery import Clock

REGION = "eu-west-1"
TABLE = "xacct-sink"


@dataclass
class FakeClock(Clock):
    """Time moves only when the code sleeps; jitter is always the full window."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.monotonic = lambda: self.now
        self.sleep = self._sleep
        self.uniform = lambda low, high: high

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def throttle(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, operation)


class ScriptedDynamoDB:
    """The real (moto) client, except for scripted BatchWriteItem outcomes, one per call."""

    def __init__(self, real: Any, script: list[str]) -> None:
        self.real, self.script, self.calls = real, list(script), 0

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        self.calls += 1
        step = self.script.pop(0) if self.script else "ok"
        (table, requests), = RequestItems.items()
        if step == "throttle":
            raise throttle("BatchWriteItem")
        if step.startswith("unprocessed:"):
            keep = int(step.split(":")[1])
            done, left = requests[:-keep], requests[-keep:]
            if done:
                self.real.batch_write_item(RequestItems={table: done})
            # AWS answers with new objects, not the request's own: a JSON round trip says so.
            return {"UnprocessedItems": {table: json.loads(json.dumps(left))}}
        return self.real.batch_write_item(RequestItems=RequestItems)
