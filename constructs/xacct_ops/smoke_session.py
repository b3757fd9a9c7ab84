"""One smoke run (make smoke): the outputs, the deploy-role sessions of each account, and the bounded
wait with its progress line; the flows (smoke_flows.py) run in it."""

from __future__ import annotations

import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TextIO

import boto3

from xacct_consumer.records import item_keys
from xacct_ops.deploy_accounts import assumed

DEFAULT_TIMEOUT = 180.0
# SES's mailbox simulator: accepted in the sandbox, delivered without touching the sender's reputation.
SIMULATOR_RECIPIENT = "success@simulator.amazonses.com"


class SmokeError(Exception):
    """The flow could not start (a refused request, a missing identity): exit 1 with this message."""


def deploy_roles(tfvars: dict[str, Any]) -> dict[str, str]:
    """Each account id the tfvars name, with its deploy role: producer, consumer, every fan-out account."""
    roles = {}
    for side in ("producer", "consumer"):
        if tfvars.get(f"{side}_account_id"):
            roles[str(tfvars[f"{side}_account_id"])] = tfvars[f"{side}_deploy_role_arn"]
    for account in (tfvars.get("consumer_accounts") or {}).values():
        roles[str(account["account_id"])] = account["deploy_role_arn"]
    return roles


@dataclass
class Smoke:
    """One run: the outputs, the deploy-role sessions (assumed once each), and the bounded wait."""

    tfvars: dict[str, Any]
    outputs: dict[str, Any]
    timeout: float
    interval: float = 1.0
    endpoint: Optional[str] = None
    progress: TextIO = field(default_factory=lambda: sys.stderr)
    clock: Callable[[], float] = time.time
    sender: Optional[str] = None
    timeout_is_default: bool = False  # flows through a buffer may wait longer
    marker: str = field(default_factory=lambda: f"xacct-smoke-{uuid.uuid4()}")
    _sessions: dict[str, boto3.Session] = field(default_factory=dict)

    def session(self, account_id: str) -> boto3.Session:
        if account_id not in self._sessions:
            roles = deploy_roles(self.tfvars)
            if account_id not in roles:
                raise SmokeError(f"account {account_id} (from the outputs) is not in the tfvars: no deploy role to read it with")
            region = self.tfvars["region"]
            self._sessions[account_id] = assumed(boto3.Session(region_name=region), roles[account_id], region, self.endpoint, "xacct-smoke")
        return self._sessions[account_id]

    def client(self, side: str, service: str) -> Any:
        """A client in the producer or consumer account, through its deploy role."""
        return self.session(str(self.tfvars[f"{side}_account_id"])).client(service, endpoint_url=self.endpoint)

    def say(self, line: str) -> None:
        print(line, file=self.progress, flush=True)

    def wait(self, stops: dict[str, Callable[[], bool]], sent: float) -> dict[str, Optional[float]]:
        """Seconds from `sent` until each stop's check holds, polled together; None for those not there by the deadline."""
        deadline, reached = sent + self.timeout, {}
        pending = dict(stops)
        while pending and self.clock() < deadline:
            for name, arrived in list(pending.items()):
                if arrived():
                    reached[name] = self.clock() - sent
                    del pending[name]
            if pending:
                print(f"\r  {self.clock() - sent:5.0f} s / {self.timeout:.0f} s", end="", file=self.progress, flush=True)
                time.sleep(self.interval)
        print(file=self.progress)
        return {name: reached.get(name) for name in stops}

    # ---- the pieces the flows share --------------------------------------------------------------

    def put_record(self) -> tuple[float, str, str]:
        """Puts the marker into the shared stream: the send time, the shard and the sequence number."""
        sent = self.clock()
        put = self.client("producer", "kinesis").put_record(
            StreamName=self.outputs["stream_name"], PartitionKey=self.marker,
            Data=json.dumps({"smoke_test_id": self.marker, "sent_at": sent}).encode(),
        )
        self.say(f"put {self.marker} to {self.outputs['stream_name']} ({put['ShardId']}, {put['SequenceNumber']})")
        return sent, put["ShardId"], put["SequenceNumber"]

    def item_arrived(self, dynamodb: Any, table: str, shard_id: str, sequence_number: str) -> Callable[[], bool]:
        """Whether the consumer wrote the marker's record into `table` (under the keys it derives)."""
        pk, sk = item_keys(shard_id, sequence_number, 0)

        def arrived() -> bool:
            item = dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True).get("Item")
            if item is not None and json.loads(item["payload"]["S"]).get("smoke_test_id") != self.marker:
                raise RuntimeError(f"item {pk}/{sk} of {table} holds another record: {item['payload']['S'][:200]}")
            return item is not None

        return arrived


Flow = Callable[[Smoke], dict[str, Optional[float]]]
