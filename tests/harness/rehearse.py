#!/usr/bin/env python3
"""`make rehearse`: apply, verify, replan and destroy the real configuration against moto.

1. A moto server on a free loopback port, in this process, with `moto_extensions` installed;
   always stopped, even on failure.
2. A scratch copy of the synthesized stack plus a generated `rehearsal_override.tf.json` that
   points both aliased providers at it (endpoints, test keys, local state); the product
   configuration itself is not changed. Deploy roles live in two accounts, so moto's STS hands
   out credentials of 111111111111 (producer) and 222222222222 (consumer).
3. `terraform init` (provider mirror) -> `plan -out` -> `apply` of that plan.
4. boto3 checks, per account, that everything exists where it belongs and nowhere else, with
   the exact principals and actions.
5. Records (good and poison) put with producer credentials, read back from the shard, and run
   through the real handler runtime in-process; the sink table and dead-letter queue are checked.
6. `plan -detailed-exitcode` must report no changes.
7. Deletion protection of the sink table is switched off (a second override, as an operator
   would before tearing down), then `terraform destroy`; both accounts are checked empty.

Prints a line per step with its duration; exits non-zero on the first failed step.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "constructs"), str(ROOT / "lambda_src"), str(Path(__file__).resolve().parent), str(ROOT / "tests")]

import boto3  # noqa: E402

import moto_extensions  # noqa: E402
from kinesis_events import from_get_records  # noqa: E402

REGION = "eu-west-1"
PRODUCER, CONSUMER = "111111111111", "222222222222"
SERVICES = ("cloudwatch", "dynamodb", "iam", "kinesis", "kms", "lambda", "logs", "sns", "sqs", "sts")
STACK = "xacct-kinesis-efo"


class RehearsalFailed(RuntimeError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise RehearsalFailed(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def moto_server() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    moto_extensions.install()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def mirror_config(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    candidates = [os.environ.get("TF_PLUGIN_MIRROR", "")] + [str(p.parent) for p in sorted(Path("/opt").glob("*/registry.terraform.io"))]
    mirror = next((c for c in candidates if c and (Path(c) / "registry.terraform.io/hashicorp/aws").is_dir()), None)
    rc = workdir / "terraform.rc"
    if mirror:
        rc.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }}\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
        )
    else:
        rc.write_text("# no provider mirror: the registry\n")
    env.update({"TF_CLI_CONFIG_FILE": str(rc), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"})
    return env


def write_override(stack_dir: Path, endpoint: str) -> None:
    def provider(alias: str) -> dict[str, Any]:
        return {
            "alias": alias,
            "access_key": "test",
            "secret_key": "test",
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
            "endpoints": [{service: endpoint for service in SERVICES}],
        }

    override = {
        "provider": {"aws": [provider("producer"), provider("consumer")]},
        "terraform": {"backend": {"local": {"path": "rehearsal.tfstate"}}},
    }
    (stack_dir / "rehearsal_override.tf.json").write_text(json.dumps(override, indent=2))
    (stack_dir / "rehearsal.tfvars").write_text(
        f'region = "{REGION}"\nproducer_account_id = "{PRODUCER}"\nconsumer_account_id = "{CONSUMER}"\n'
        f'producer_deploy_role_arn = "arn:aws:iam::{PRODUCER}:role/deploy"\n'
        f'consumer_deploy_role_arn = "arn:aws:iam::{CONSUMER}:role/deploy"\n'
        'tags = { project = "xacct-streaming", rehearsal = "true" }\n'
    )


def terraform(stack_dir: Path, env: dict[str, str], *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["terraform", *args, "-no-color"], cwd=stack_dir, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode not in ok:
        raise RehearsalFailed(f"terraform {args[0]} exited {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def session(endpoint: str, account: str) -> boto3.Session:
    base = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
    creds = base.client("sts", endpoint_url=endpoint).assume_role(RoleArn=f"arn:aws:iam::{account}:role/deploy", RoleSessionName="verify")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], region_name=REGION,
    )


def outputs(stack_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    raw = json.loads(terraform(stack_dir, env, "output", "-json").stdout)
    return {name: value["value"] for name, value in raw.items()}


def verify_deployment(endpoint: str, out: dict[str, Any]) -> None:
    from xacct_streaming.policy import STREAM_CONSUMER_READ_ACTIONS, STREAM_READ_ACTIONS

    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    kinesis = producer.client("kinesis", endpoint_url=endpoint)
    summary = kinesis.describe_stream_summary(StreamName=out["stream_name"])["StreamDescriptionSummary"]
    check(summary["StreamARN"] == out["stream_arn"] and f":{PRODUCER}:" in out["stream_arn"], "stream not in the producer account")
    check(summary["EncryptionType"] == "KMS" and summary["KeyId"] == out["kms_key_arn"], f"stream not encrypted with the key: {summary}")
    consumers = kinesis.list_stream_consumers(StreamARN=out["stream_arn"])["Consumers"]
    check([c["ConsumerARN"] for c in consumers] == [out["stream_consumer_arn"]], f"EFO consumers: {consumers}")
    role = out["lambda_role_arn"]
    check(f":{CONSUMER}:role/" in role, f"role not in the consumer account: {role}")
    for arn, actions in ((out["stream_arn"], STREAM_READ_ACTIONS), (out["stream_consumer_arn"], STREAM_CONSUMER_READ_ACTIONS)):
        statements = json.loads(kinesis.get_resource_policy(ResourceARN=arn)["Policy"])["Statement"]
        check(len(statements) == 1, f"{arn}: {statements}")
        granted = statements[0]["Action"]
        check(statements[0]["Principal"] == {"AWS": role} and sorted(granted if isinstance(granted, list) else [granted]) == sorted(actions), f"{arn}: {statements}")
    key = producer.client("kms", endpoint_url=endpoint).describe_key(KeyId=out["kms_key_arn"])["KeyMetadata"]
    check(key["KeyManager"] == "CUSTOMER" and key["KeyState"] == "Enabled", f"key: {key}")

    lambda_ = consumer.client("lambda", endpoint_url=endpoint)
    function = lambda_.get_function(FunctionName=out["lambda_function_name"])["Configuration"]
    check(function["FunctionArn"] == out["lambda_function_arn"] and function["Role"] == role, f"function: {function['FunctionArn']}")
    mappings = [m for m in lambda_.list_event_source_mappings()["EventSourceMappings"] if m["FunctionArn"] == out["lambda_function_arn"]]
    check([m["EventSourceArn"] for m in mappings] == [out["stream_consumer_arn"]], f"mappings: {mappings}")
    check(mappings[0]["UUID"] == out["event_source_mapping_uuid"], "mapping uuid differs from the output")
    table = consumer.client("dynamodb", endpoint_url=endpoint).describe_table(TableName=out["sink_table_name"])["Table"]
    check(table["TableArn"] == out["sink_table_arn"] and f":{CONSUMER}:" in table["TableArn"], "table not in the consumer account")
    sqs = consumer.client("sqs", endpoint_url=endpoint)
    check(out["on_failure_queue_url"] in sqs.list_queues().get("QueueUrls", []), "on-failure queue missing")

    # Nothing landed in the wrong account.
    check(consumer.client("kinesis", endpoint_url=endpoint).list_streams()["StreamNames"] == [], "a stream in the consumer account")
    check(producer.client("lambda", endpoint_url=endpoint).list_functions()["Functions"] == [], "a function in the producer account")
    check(producer.client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"] == [], "a table in the producer account")
    check(producer.client("sqs", endpoint_url=endpoint).list_queues().get("QueueUrls", []) == [], "a queue in the producer account")


def exercise_handler(endpoint: str, out: dict[str, Any], count: int = 300) -> str:
    """Puts `count` records (every 50th poison) and runs the handler on them as the mapping would."""
    from xacct_consumer.config import Settings
    from xacct_consumer.runtime import Runtime

    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    kinesis = producer.client("kinesis", endpoint_url=endpoint)
    poison = {i for i in range(count) if i % 50 == 7}
    entries = [
        {"Data": b"not json %d" % i if i in poison else json.dumps({"n": i, "kind": "rehearsal"}).encode(), "PartitionKey": f"pk-{i % 5}"}
        for i in range(count)
    ]
    for start in range(0, count, 100):
        result = kinesis.put_records(StreamName=out["stream_name"], Records=entries[start : start + 100])
        check(result["FailedRecordCount"] == 0, f"put_records failed: {result}")
    # moto cannot subscribe or invoke: read each shard with producer credentials instead.
    records = []
    for shard in kinesis.list_shards(StreamName=out["stream_name"])["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=out["stream_name"], ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]
        records.extend(from_get_records(record, shard["ShardId"], out["stream_consumer_arn"]) for record in page)
    check(len(records) == count, f"read back {len(records)} of {count} records")
    dynamodb, sqs = consumer.client("dynamodb", endpoint_url=endpoint), consumer.client("sqs", endpoint_url=endpoint)
    settings = Settings(
        table_name=out["sink_table_name"], dead_letter_queue_url=out["dead_letter_queue_url"], region=REGION, sink_region=REGION,
        function_name=out["lambda_function_name"],
    )
    with contextlib.redirect_stdout(io.StringIO()):  # the handler's metrics line
        response = Runtime(settings, dynamodb, sqs).process({"Records": records}, None)
    check(response == {"batchItemFailures": []}, f"handler reported failures: {response}")
    written = dynamodb.scan(TableName=out["sink_table_name"], Select="COUNT")["Count"]
    parked = int(sqs.get_queue_attributes(QueueUrl=out["dead_letter_queue_url"], AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
    check((written, parked) == (count - len(poison), len(poison)), f"table {written} / queue {parked}, expected {count - len(poison)} / {len(poison)}")
    return f"{written} written, {parked} parked"


def disable_deletion_protection(stack_dir: Path, config: dict[str, Any]) -> None:
    tables = config["resource"].get("aws_dynamodb_table", {})
    override = {"resource": {"aws_dynamodb_table": {name: {"deletion_protection_enabled": False} for name in tables}}}
    (stack_dir / "teardown_override.tf.json").write_text(json.dumps(override, indent=2))


def verify_empty(endpoint: str, out: dict[str, Any]) -> None:
    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    check(producer.client("kinesis", endpoint_url=endpoint).list_streams()["StreamNames"] == [], "stream left")
    check(consumer.client("lambda", endpoint_url=endpoint).list_functions()["Functions"] == [], "function left")
    check(consumer.client("lambda", endpoint_url=endpoint).list_event_source_mappings()["EventSourceMappings"] == [], "mapping left")
    check(consumer.client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"] == [], "table left")
    check(consumer.client("sqs", endpoint_url=endpoint).list_queues().get("QueueUrls", []) == [], "queue left")
    check(consumer.client("iam", endpoint_url=endpoint).list_roles()["Roles"] == [] or all(
        r["RoleName"] == "deploy" for r in consumer.client("iam", endpoint_url=endpoint).list_roles()["Roles"]
    ), "role left")
    # KMS keys cannot be deleted at once: destroy schedules their deletion. (moto keeps a
    # "Default key" of its own in the consumer account, which is not ours to check.)
    for account, key_arn in ((producer, out["kms_key_arn"]), (consumer, out["consumer_kms_key_arn"])):
        state = account.client("kms", endpoint_url=endpoint).describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"]
        check(state == "PendingDeletion", f"key {key_arn} is {state}")


def rehearse(stack_src: Path, keep: bool = False) -> list[tuple[str, float, str]]:
    timings: list[tuple[str, float, str]] = []

    def step(name: str, action: Callable[[], str | None]) -> None:
        started = time.perf_counter()
        detail = action() or ""
        timings.append((name, time.perf_counter() - started, detail))
        print(f"  {name:<34s} {timings[-1][1]:6.1f} s  {detail}", flush=True)

    scratch = Path(tempfile.mkdtemp(prefix="rehearsal-"))
    try:
        stack_dir = scratch / "stack"
        shutil.copytree(stack_src, stack_dir, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "tfplan"))
        config = json.loads((stack_dir / "cdk.tf.json").read_text())
        env = mirror_config(scratch)
        with moto_server() as endpoint:
            print(f"moto on {endpoint}; scratch {scratch}", flush=True)
            step("override + init", lambda: (write_override(stack_dir, endpoint), terraform(stack_dir, env, "init", "-input=false"))[1] and None)
            step("plan -out", lambda: _plan_line(terraform(stack_dir, env, "plan", "-input=false", "-var-file=rehearsal.tfvars", "-out=tfplan").stdout))
            step("apply", lambda: [l for l in terraform(stack_dir, env, "apply", "-input=false", "tfplan").stdout.splitlines() if l.startswith("Apply complete")][0])
            out = outputs(stack_dir, env)
            step("verify both accounts", lambda: verify_deployment(endpoint, out))
            step("records through the handler", lambda: exercise_handler(endpoint, out))
            step("replan: no changes", lambda: _replan(stack_dir, env))
            step("teardown: unprotect + destroy", lambda: _destroy(stack_dir, env, config))
            step("verify nothing left", lambda: verify_empty(endpoint, out))
    finally:
        if keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return timings


def _plan_line(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith("Plan:"))


def _replan(stack_dir: Path, env: dict[str, str]) -> str:
    result = terraform(stack_dir, env, "plan", "-input=false", "-var-file=rehearsal.tfvars", "-detailed-exitcode", ok=(0, 2))
    check(result.returncode == 0, f"the second plan is not empty:\n{result.stdout[-6000:]}")
    return "No changes."


def _destroy(stack_dir: Path, env: dict[str, str], config: dict[str, Any]) -> str:
    disable_deletion_protection(stack_dir, config)
    terraform(stack_dir, env, "apply", "-input=false", "-auto-approve", "-var-file=rehearsal.tfvars", "-target=aws_dynamodb_table." + next(iter(config["resource"].get("aws_dynamodb_table", {"x": 0}))))
    result = terraform(stack_dir, env, "destroy", "-input=false", "-auto-approve", "-var-file=rehearsal.tfvars")
    return [l for l in result.stdout.splitlines() if l.startswith("Destroy complete")][0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack-dir", type=Path, default=ROOT / "cdktf.out" / "stacks" / STACK, help="synthesized stack to rehearse")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory for inspection")
    args = parser.parse_args()
    if not (args.stack_dir / "cdk.tf.json").is_file():
        print(f"no cdk.tf.json in {args.stack_dir}: run 'make synth' first", file=sys.stderr)
        return 2
    if shutil.which("terraform") is None:
        print("terraform is not on PATH", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        rehearse(args.stack_dir, keep=args.keep)
    except RehearsalFailed as failure:
        print(f"REHEARSAL FAILED: {failure}", file=sys.stderr)
        return 1
    print(f"rehearsal passed in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
