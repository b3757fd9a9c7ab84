"""`make smoke`: after a deploy, one record end to end, producer stream to consumer table.

Puts a uniquely tagged record into the shared stream with the producer deploy role, computes
the sink item's keys from the shard and sequence number Kinesis returns (the same derivation as
the consumer's), and polls the sink table with the consumer deploy role until the item appears
(bounded, with a progress line), then prints the end-to-end latency. Exit status 1 on timeout,
2 for unusable input. The table must be the one the stack created in the consumer account.

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
    region = tfvars["region"]
    base = boto3.Session(region_name=region)
    producer = assumed(base, tfvars["producer_deploy_role_arn"], region, endpoint)
    consumer = assumed(base, tfvars["consumer_deploy_role_arn"], region, endpoint)
    marker = f"xacct-smoke-{uuid.uuid4()}"
    sent = clock()
    put = producer.client("kinesis", endpoint_url=endpoint).put_record(
        StreamName=outputs["stream_name"], PartitionKey=marker, Data=json.dumps({"smoke_test_id": marker, "sent_at": sent}).encode()
    )
    pk, sk = item_keys(put["ShardId"], put["SequenceNumber"], 0)
    print(f"put {marker} to {outputs['stream_name']} ({put['ShardId']}, {put['SequenceNumber']}); waiting for it in {outputs['sink_table_name']}", file=progress, flush=True)
    table = consumer.client("dynamodb", endpoint_url=endpoint)
    deadline = sent + timeout
    while clock() < deadline:
        item = table.get_item(TableName=outputs["sink_table_name"], Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True).get("Item")
        if item is not None:
            if json.loads(item["payload"]["S"]).get("smoke_test_id") != marker:
                raise RuntimeError(f"item {pk}/{sk} holds another record: {item['payload']['S'][:200]}")
            print(file=progress)
            return clock() - sent
        print(f"\r  {clock() - sent:5.0f} s / {timeout:.0f} s", end="", file=progress, flush=True)
        time.sleep(interval)
    print(file=progress)
    return None


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
        missing = [name for name in ("stream_name", "sink_table_name") if name not in outputs]
        if missing:
            raise ConfigError(str(args.outputs), ", ".join(missing), "the outputs of a stack that created its sink table")
    except (ConfigError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    latency = run(tfvars, outputs, args.timeout, endpoint=args.endpoint_url)
    if latency is None:
        print(f"FAIL  the record did not reach {outputs['sink_table_name']} within {args.timeout:.0f} s")
        return 1
    print(f"PASS  end-to-end latency {latency:.1f} s (stream {outputs['stream_name']} -> table {outputs['sink_table_name']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
