"""`make smoke`: after a deploy, one change end to end through the stack, with its latency.

Two flows, chosen by the stack's outputs:
- a stream read into a sink table (xacct-kinesis-efo, and the stream-to-table half of
  xacct-api-ingest): puts a uniquely tagged record into the shared stream with the producer deploy
  role, computes the sink item's keys from the shard and sequence number Kinesis returns (the same
  derivation as the consumer's), and polls the sink table with the consumer deploy role;
- a table's stream read into a change log (xacct-dynamodb-streams): writes a uniquely keyed item into
  the shared table with the producer deploy role and polls the consumer's change log for that item's
  change (its partition key is the item's keys, as the change forwarder writes it).
Polling is bounded, with a progress line; then the end-to-end latency is printed. Exit status 1 on
timeout, 2 for unusable input (outputs of a stack no flow covers).

    python -m xacct_ops.smoke --tfvars terraform.tfvars --outputs outputs.json [--timeout 180]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

import boto3

from xacct_consumer.records import item_keys
from xacct_ops.preflight import read_tfvars
from xacct_streaming.settings.errors import ConfigError


def assumed(base: boto3.Session, role_arn: str, region: str, endpoint: Optional[str]) -> boto3.Session:
    creds = base.client("sts", region_name=region, endpoint_url=endpoint).assume_role(RoleArn=role_arn, RoleSessionName="xacct-smoke")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], region_name=region,
    )


def _sessions(tfvars: dict[str, Any], endpoint: Optional[str]) -> tuple[boto3.Session, boto3.Session]:
    """The producer's and the consumer's deploy roles, assumed with the caller's credentials."""
    region = tfvars["region"]
    base = boto3.Session(region_name=region)
    return (assumed(base, tfvars["producer_deploy_role_arn"], region, endpoint),
            assumed(base, tfvars["consumer_deploy_role_arn"], region, endpoint))


def _wait(arrived: Callable[[], bool], sent: float, timeout: float, interval: float, progress: TextIO, clock: Callable[[], float]) -> Optional[float]:
    """Seconds from `sent` until `arrived()` holds, polled with a progress line; None after `timeout`."""
    deadline = sent + timeout
    while clock() < deadline:
        if arrived():
            print(file=progress)
            return clock() - sent
        print(f"\r  {clock() - sent:5.0f} s / {timeout:.0f} s", end="", file=progress, flush=True)
        time.sleep(interval)
    print(file=progress)
    return None


def run(
    tfvars: dict[str, Any],
    outputs: dict[str, Any],
    timeout: float,
    interval: float = 1.0,
    endpoint: Optional[str] = None,
    progress: Optional[TextIO] = None,
    clock: Callable[[], float] = time.time,
) -> Optional[float]:
    """Seconds from put to item in the table, or None on timeout."""
    progress = progress or sys.stderr
    producer, consumer = _sessions(tfvars, endpoint)
    marker = f"xacct-smoke-{uuid.uuid4()}"
    sent = clock()
    put = producer.client("kinesis", endpoint_url=endpoint).put_record(
        StreamName=outputs["stream_name"], PartitionKey=marker, Data=json.dumps({"smoke_test_id": marker, "sent_at": sent}).encode()
    )
    pk, sk = item_keys(put["ShardId"], put["SequenceNumber"], 0)
    print(f"put {marker} to {outputs['stream_name']} ({put['ShardId']}, {put['SequenceNumber']}); waiting for it in {outputs['sink_table_name']}", file=progress, flush=True)
    table = consumer.client("dynamodb", endpoint_url=endpoint)

    def arrived() -> bool:
        item = table.get_item(TableName=outputs["sink_table_name"], Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True).get("Item")
        if item is not None and json.loads(item["payload"]["S"]).get("smoke_test_id") != marker:
            raise RuntimeError(f"item {pk}/{sk} holds another record: {item['payload']['S'][:200]}")
        return item is not None

    return _wait(arrived, sent, timeout, interval, progress, clock)


def run_table_changes(
    tfvars: dict[str, Any],
    outputs: dict[str, Any],
    timeout: float,
    interval: float = 1.0,
    endpoint: Optional[str] = None,
    progress: Optional[TextIO] = None,
    clock: Callable[[], float] = time.time,
) -> Optional[float]:
    """Seconds from the write into the shared table to its change in the change log, or None on timeout."""
    from xacct_changes.images import to_json

    progress = progress or sys.stderr
    producer, consumer = _sessions(tfvars, endpoint)
    source = producer.client("dynamodb", endpoint_url=endpoint)
    marker = f"xacct-smoke-{uuid.uuid4()}"
    description = source.describe_table(TableName=outputs["table_name"])["Table"]
    types = {a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]}
    sent = clock()
    # Every key attribute gets the marker (a number key: the send time in microseconds).
    keys = {k["AttributeName"]: str(int(sent * 1_000_000)) if types[k["AttributeName"]] == "N" else marker for k in description["KeySchema"]}
    item = {name: {types[name]: value} for name, value in keys.items()}
    source.put_item(TableName=outputs["table_name"], Item={**item, "smoke_test_id": {"S": marker}})
    pk = to_json({name: (int(value) if types[name] == "N" else value) for name, value in sorted(keys.items())})
    print(f"wrote {pk} to {outputs['table_name']}; waiting for its change in {outputs['change_log_table_name']}", file=progress, flush=True)
    log = consumer.client("dynamodb", endpoint_url=endpoint)

    def arrived() -> bool:
        found = log.query(TableName=outputs["change_log_table_name"], KeyConditionExpression="pk = :pk",
                          ExpressionAttributeValues={":pk": {"S": pk}}, ConsistentRead=True)["Items"]
        if found and marker not in found[0].get("new_image", {}).get("S", ""):
            raise RuntimeError(f"the change of {pk} holds another item: {found[0]}")
        return bool(found)

    return _wait(arrived, sent, timeout, interval, progress, clock)


# Each flow: the outputs it needs, how it runs, and what it reports it went through.
FLOWS: dict[str, tuple[tuple[str, ...], Callable[..., Optional[float]], str]] = {
    "table changes": (("table_name", "change_log_table_name"), run_table_changes, "table {table_name} -> change log {change_log_table_name}"),
    "stream to table": (("stream_name", "sink_table_name"), run, "stream {stream_name} -> table {sink_table_name}"),
}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tfvars", type=Path, default=Path("terraform.tfvars"))
    parser.add_argument("--outputs", type=Path, required=True, help="`terraform output -json` of the stack")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the record (default 180)")
    parser.add_argument("--endpoint-url", default=None, help=argparse.SUPPRESS)  # tests: a local AWS
    args = parser.parse_args(argv)
    try:
        tfvars = read_tfvars(args.tfvars, ["producer", "consumer"])
        raw = json.loads(args.outputs.read_text())
        outputs = {name: value["value"] if isinstance(value, dict) and "value" in value else value for name, value in raw.items()}
        flow = next((flow for flow in FLOWS.values() if all(name in outputs for name in flow[0])), None)
        if flow is None:
            needed = "; ".join(" and ".join(names) for names, _, _ in FLOWS.values())
            raise ConfigError(str(args.outputs), ", ".join(sorted(outputs)) or "no outputs",
                              f"the outputs of a stack a smoke flow covers ({needed})")
    except (ConfigError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    _, flow_run, path = flow
    latency = flow_run(tfvars, outputs, args.timeout, endpoint=args.endpoint_url)
    if latency is None:
        print(f"FAIL  nothing reached the end ({path.format(**outputs)}) within {args.timeout:.0f} s")
        return 1
    print(f"PASS  end-to-end latency {latency:.1f} s ({path.format(**outputs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
