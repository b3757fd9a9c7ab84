#!/usr/bin/env python3
"""`make rehearse`: apply, verify, replan and destroy the real configuration against moto.

1. A moto server on a free loopback port, in this process, with `moto_extensions` installed;
   always stopped, even on failure.
2. A scratch copy of the synthesized stack plus a generated `rehearsal_override.tf.json` that
   points both aliased providers at it (endpoints, test keys, local state); the product
   configuration itself is not changed. Deploy roles live in two accounts, so moto's STS hands
   out credentials of 111111111111 (producer) and 222222222222 (consumer).
3. `terraform init` (provider mirror) -> `plan -out` -> `apply` of that plan; with `--hcl-twin`, the
   stack's HCL export is planned against the same moto before the apply and the two plans compared
   (plan_compare.py).
4. boto3 checks, per account, that everything exists where it belongs and nowhere else, with
   the exact principals and actions; then every data-plane call of `make policy-check`, with the
   ARNs the apply produced, is decided by the IAM engine (moto itself enforces no policy).
5. Records (good and poison) put with producer credentials, read back from the shard, and run
   through the real handler runtime in-process; the sink table and dead-letter queue are checked.
6. `plan -detailed-exitcode` must report no changes.
7. Deletion protection of the tables is switched off and buckets are allowed to be emptied (a
   second override, as an operator would before tearing down), then `terraform destroy`, both
   without another refresh (the replan just did one); both accounts are checked empty.

Each kind of stack has its own checks and traffic (`SCENARIOS`, by the name its kind gives and the
output's manifest.json records: `--list` shows them): the core stack, seed 003's DynamoDB stream read
from another account, seed 001's replication pipeline, the SES forwarder, the API, the fan-out.

Prints a line per step with its duration; exits non-zero on the first failed step. Several stack
directories are rehearsed side by side, one child process (and moto server) each; `--json-out`
writes one stack's steps for the test suite, which runs every rehearsal in the background.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "constructs"), str(ROOT / "lambda_src"), str(Path(__file__).resolve().parent), str(ROOT / "tests")]

import boto3  # noqa: E402

import moto_extensions  # noqa: E402
import dynamodb_events  # noqa: E402
from kinesis_events import from_get_records  # noqa: E402
from xacct_ops import manifest  # noqa: E402
from xacct_streaming.synthesis.teardown import OVERRIDE_FILE as TEARDOWN_OVERRIDE, teardown_override  # noqa: E402

REGION = "eu-west-1"
PRODUCER, CONSUMER = "111111111111", "222222222222"
SERVICES = (
    "apigateway", "cloudwatch", "dynamodb", "firehose", "iam", "kinesis", "kms", "lambda", "logs", "s3",
    "secretsmanager", "ses", "sns", "sqs", "sts",
)
STACK = "xacct-kinesis-efo"


class RehearsalFailed(RuntimeError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise RehearsalFailed(message)


def copy_checkout(repo: Path) -> None:
    """The repository's tracked files, as a pull request's or a user's fresh checkout has them, with
    this run's virtual environment (sys.executable is its bin/python, not resolved further) and Node
    tools, as the CI image or a pre-workflow hook would provide them."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, tracked.split("\0")):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    (repo / ".venv").symlink_to(Path(sys.executable).parent.parent)
    if (ROOT / "node_modules").is_dir():
        (repo / "node_modules").symlink_to(ROOT / "node_modules")


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


# A fan-out stack's consumer accounts get the ids the policy check and the access review stand in
# for them (xacct_ops.iam.resolver): each from its name alone.
from policy_check import stable_account_id  # noqa: E402


def consumer_accounts(config: dict[str, Any]) -> dict[str, str]:
    """Logical account name -> id, for a fan-out stack (its providers other than the producer's)."""
    aliases = [p["alias"] for p in config["provider"]["aws"] if p["alias"] != "producer"]
    return {alias: stable_account_id(alias) for alias in aliases} if "consumer_accounts" in config.get("variable", {}) else {}


def write_override(stack_dir: Path, endpoint: str, config: dict[str, Any] | None = None) -> None:
    """Providers pointed at moto, a local state and the tfvars of its accounts; `config`: the stack's
    JSON configuration (default: `stack_dir`'s cdk.tf.json; an HCL export's comes from its JSON twin)."""
    config = config if config is not None else json.loads((stack_dir / "cdk.tf.json").read_text())

    def provider(alias: str) -> dict[str, Any]:
        return {
            "alias": alias,
            "access_key": "test",
            "secret_key": "test",
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
            "skip_requesting_account_id": False,
            "s3_use_path_style": True,
            "endpoints": [{service: endpoint for service in SERVICES}],
        }

    override = {
        "provider": {"aws": [provider(p["alias"]) for p in config["provider"]["aws"]]},
        "terraform": {"backend": {"local": {"path": "rehearsal.tfstate"}}},
    }
    (stack_dir / "rehearsal_override.tf.json").write_text(json.dumps(override, indent=2))
    accounts = consumer_accounts(config)
    if accounts:
        consumers = "".join(f'  {n} = {{ account_id = "{a}", deploy_role_arn = "arn:aws:iam::{a}:role/deploy" }}\n' for n, a in accounts.items())
        sides = f"consumer_accounts = {{\n{consumers}}}\n"
    else:
        sides = f'consumer_account_id = "{CONSUMER}"\nconsumer_deploy_role_arn = "arn:aws:iam::{CONSUMER}:role/deploy"\n'
    (stack_dir / "rehearsal.tfvars").write_text(
        f'region = "{REGION}"\nproducer_account_id = "{PRODUCER}"\nproducer_deploy_role_arn = "arn:aws:iam::{PRODUCER}:role/deploy"\n'
        + sides + 'tags = { project = "xacct-streaming", rehearsal = "true" }\n'
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
    from xacct_streaming.blocks.policy import STREAM_CONSUMER_READ_ACTIONS, STREAM_READ_ACTIONS

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


def _read_kinesis(kinesis: Any, stream_name: str) -> list[tuple[str, dict[str, Any]]]:
    """(shard id, GetRecords record) for every record of the stream, read from the trim horizon."""
    out = []
    for shard in kinesis.list_shards(StreamName=stream_name)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        out.extend((shard["ShardId"], record) for record in kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"])
    return out


def _put_all(kinesis: Any, stream_name: str, entries: list[dict[str, Any]]) -> None:
    for start in range(0, len(entries), 100):
        result = kinesis.put_records(StreamName=stream_name, Records=entries[start : start + 100])
        check(result["FailedRecordCount"] == 0, f"put_records failed: {result}")


def _run_consumer(settings: Any, dynamodb: Any, sqs: Any, records: list[dict[str, Any]]) -> dict[str, Any]:
    from xacct_consumer.runtime import Runtime

    with contextlib.redirect_stdout(io.StringIO()):  # the handler's metrics line
        return Runtime(settings, dynamodb, sqs).process({"Records": records}, None)


def exercise_handler(endpoint: str, out: dict[str, Any], count: int = 300) -> str:
    """Puts `count` records (every 50th poison) and runs the handler on them as the mapping would."""
    from xacct_consumer.config import Settings

    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    kinesis = producer.client("kinesis", endpoint_url=endpoint)
    poison = {i for i in range(count) if i % 50 == 7}
    entries = [
        {"Data": b"not json %d" % i if i in poison else json.dumps({"n": i, "kind": "rehearsal"}).encode(), "PartitionKey": f"pk-{i % 5}"}
        for i in range(count)
    ]
    _put_all(kinesis, out["stream_name"], entries)
    # moto cannot subscribe or invoke: read each shard with producer credentials instead.
    records = [from_get_records(record, shard, out["stream_consumer_arn"]) for shard, record in _read_kinesis(kinesis, out["stream_name"])]
    check(len(records) == count, f"read back {len(records)} of {count} records")
    dynamodb, sqs = consumer.client("dynamodb", endpoint_url=endpoint), consumer.client("sqs", endpoint_url=endpoint)
    settings = Settings(
        table_name=out["sink_table_name"], dead_letter_queue_url=out["dead_letter_queue_url"], region=REGION, sink_region=REGION,
        function_name=out["lambda_function_name"],
    )
    response = _run_consumer(settings, dynamodb, sqs, records)
    check(response == {"batchItemFailures": []}, f"handler reported failures: {response}")
    written = dynamodb.scan(TableName=out["sink_table_name"], Select="COUNT")["Count"]
    parked = int(sqs.get_queue_attributes(QueueUrl=out["dead_letter_queue_url"], AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
    check((written, parked) == (count - len(poison), len(poison)), f"table {written} / queue {parked}, expected {count - len(poison)} / {len(poison)}")
    return f"{written} written, {parked} parked"


def disable_deletion_protection(stack_dir: Path, config: dict[str, Any]) -> list[str]:
    """What `main.py --teardown` writes (the product's teardown override), for this copy of the stack;
    returns the addresses it changes."""
    override = teardown_override(config)
    if override is None:
        return []
    (stack_dir / TEARDOWN_OVERRIDE).write_text(json.dumps(override, indent=2))
    return [f"{type_}.{name}" for type_, bodies in override["resource"].items() for name in bodies]


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


# --- seed 003: a DynamoDB stream read from another account ----------------------------------

def _statement_actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return sorted(actions if isinstance(actions, list) else [actions])


def verify_dynamodb_streams(endpoint: str, out: dict[str, Any]) -> None:
    from xacct_streaming.blocks.policy import TABLE_STREAM_READ_ACTIONS

    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    table = producer.client("dynamodb", endpoint_url=endpoint).describe_table(TableName=out["table_name"])["Table"]
    check(table["TableArn"] == out["table_arn"] and f":{PRODUCER}:" in out["table_arn"], "table not in the producer account")
    check(table["LatestStreamArn"] == out["table_stream_arn"], f"stream: {table.get('LatestStreamArn')}")
    check(table["SSEDescription"]["KMSMasterKeyArn"] == out["kms_key_arn"], f"table key: {table['SSEDescription']}")
    policy = producer.client("dynamodb", endpoint_url=endpoint).get_resource_policy(ResourceArn=out["table_stream_arn"])["Policy"]
    statements = json.loads(policy)["Statement"]
    role = out["lambda_role_arn"]
    check(
        len(statements) == 1 and statements[0]["Principal"] == {"AWS": role}
        and _statement_actions(statements[0]) == sorted(TABLE_STREAM_READ_ACTIONS)
        and statements[0]["Resource"] == out["table_stream_arn"],
        f"stream policy: {statements}",
    )
    lambda_ = consumer.client("lambda", endpoint_url=endpoint)
    function = lambda_.get_function(FunctionName=out["lambda_function_name"])["Configuration"]
    check(function["Role"] == role and f":{CONSUMER}:" in role, f"function role: {function['Role']}")
    check(function["Handler"] == "changes_handler.lambda_handler", f"handler: {function['Handler']}")
    mappings = _mappings_of(lambda_, out["lambda_function_arn"])
    check([m["EventSourceArn"] for m in mappings] == [out["table_stream_arn"]], f"mappings: {mappings}")
    check(consumer.client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"] == [out["change_log_table_name"]], "consumer tables")
    check(producer.client("lambda", endpoint_url=endpoint).list_functions()["Functions"] == [], "a function in the producer account")


def _mappings_of(lambda_: Any, function_arn: str) -> list[dict[str, Any]]:
    return [m for m in lambda_.list_event_source_mappings()["EventSourceMappings"] if m["FunctionArn"] == function_arn]


def _read_table_stream(client: Any, stream_arn: str) -> list[dict[str, Any]]:
    records = []
    for shard in client.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = client.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        page = client.get_records(ShardIterator=iterator, Limit=1000)["Records"]
        records.extend(dynamodb_events.from_get_records(record, stream_arn) for record in page)
    return records


def _run_changes(settings: Any, sink: Any, sqs: Any, records: list[dict[str, Any]]) -> dict[str, Any]:
    from xacct_changes.runtime import ChangeRuntime

    with contextlib.redirect_stdout(io.StringIO()):
        return ChangeRuntime(settings, sink, sqs).process({"Records": records}, None)


def exercise_dynamodb_streams(endpoint: str, out: dict[str, Any]) -> str:
    """Inserts 40 orders, updates 10, deletes 5 in the producer's table, reads its stream with
    the producer's credentials and runs the change forwarder with the consumer's."""
    from xacct_changes.config import ChangeSettings

    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    table = producer.client("dynamodb", endpoint_url=endpoint)
    for i in range(40):
        table.put_item(TableName=out["table_name"], Item={"pk": {"S": f"order-{i}"}, "sk": {"S": "v1"}, "amount": {"N": f"{i}.50"}, "lines": {"L": [{"M": {"sku": {"S": "A"}}}]}})
    for i in range(10):
        table.update_item(TableName=out["table_name"], Key={"pk": {"S": f"order-{i}"}, "sk": {"S": "v1"}}, UpdateExpression="SET paid = :t", ExpressionAttributeValues={":t": {"BOOL": True}})
    for i in range(35, 40):
        table.delete_item(TableName=out["table_name"], Key={"pk": {"S": f"order-{i}"}, "sk": {"S": "v1"}})
    records = _read_table_stream(producer.client("dynamodbstreams", endpoint_url=endpoint), out["table_stream_arn"])
    check(len(records) == 55, f"read {len(records)} of 55 stream records")
    log = consumer.client("dynamodb", endpoint_url=endpoint)
    settings = ChangeSettings(dead_letter_queue_url=out["dead_letter_queue_url"], region=REGION, table_name=out["change_log_table_name"], function_name=out["lambda_function_name"])
    response = _run_changes(settings, log, consumer.client("sqs", endpoint_url=endpoint), records)
    check(response == {"batchItemFailures": []}, f"forwarder reported failures: {response}")
    items = log.scan(TableName=out["change_log_table_name"])["Items"]
    events = sorted(i["event_name"]["S"] for i in items)
    check(events == ["INSERT"] * 40 + ["MODIFY"] * 10 + ["REMOVE"] * 5, f"change log events: {events}")
    order_3 = sorted((i for i in items if i["pk"]["S"] == '{"pk":"order-3","sk":"v1"}'), key=lambda i: i["sk"]["S"])
    check([i["event_name"]["S"] for i in order_3] == ["INSERT", "MODIFY"], f"order-3 history: {order_3}")
    check(json.loads(order_3[1]["new_image"]["S"])["paid"] is True, "order-3's update is not in the change log")
    return f"{len(items)} changes in the change log"


def verify_dynamodb_streams_empty(endpoint: str, out: dict[str, Any]) -> None:
    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    for account in (producer, consumer):
        check(account.client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"] == [], "table left")
    check(consumer.client("lambda", endpoint_url=endpoint).list_functions()["Functions"] == [], "function left")
    check(consumer.client("lambda", endpoint_url=endpoint).list_event_source_mappings()["EventSourceMappings"] == [], "mapping left")
    _keys_pending_deletion(endpoint, {PRODUCER: [out["kms_key_arn"]], CONSUMER: [out["consumer_kms_key_arn"]]})


def _keys_pending_deletion(endpoint: str, keys: dict[str, list[str]]) -> None:
    # KMS keys cannot be deleted at once: destroy schedules their deletion.
    for account, arns in keys.items():
        kms = session(endpoint, account).client("kms", endpoint_url=endpoint)
        for arn in arns:
            state = kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"]
            check(state == "PendingDeletion", f"key {arn} is {state}")


# --- seed 001: Kinesis -> writer -> replica in another account -> Firehose -> S3 -------------

def verify_replication(endpoint: str, out: dict[str, Any]) -> None:
    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    kinesis = producer.client("kinesis", endpoint_url=endpoint)
    summary = kinesis.describe_stream_summary(StreamName=out["stream_name"])["StreamDescriptionSummary"]
    check(summary["EncryptionType"] == "KMS" and summary["KeyId"] == out["kms_key_arn"], f"stream encryption: {summary}")
    check(kinesis.list_stream_consumers(StreamARN=out["stream_arn"])["Consumers"] == [], "an EFO consumer on an unshared stream")
    lambda_p = producer.client("lambda", endpoint_url=endpoint)
    writer = lambda_p.get_function(FunctionName=out["writer_function_name"])["Configuration"]
    env = writer["Environment"]["Variables"]
    check(env["SINK_ROLE_ARN"] == out["replica_writer_role_arn"] and env["TABLE_NAME"] == out["replica_table_name"], f"writer env: {env}")
    check(f":{CONSUMER}:role/" in out["replica_writer_role_arn"], "replica role not in the consumer account")
    mappings = _mappings_of(lambda_p, out["writer_function_arn"])
    check([m["EventSourceArn"] for m in mappings] == [out["stream_arn"]], f"writer mappings: {mappings}")
    iam = consumer.client("iam", endpoint_url=endpoint)
    trust = iam.get_role(RoleName=out["replica_writer_role_arn"].rsplit("/", 1)[1])["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    (statement,) = trust["Statement"]
    check(statement["Principal"] == {"AWS": out["writer_role_arn"]} and statement["Condition"]["StringEquals"]["sts:ExternalId"] == env["SINK_EXTERNAL_ID"], f"trust: {statement}")
    table = consumer.client("dynamodb", endpoint_url=endpoint).describe_table(TableName=out["replica_table_name"])["Table"]
    check(table["LatestStreamArn"] == out["replica_table_stream_arn"] and table["SSEDescription"]["KMSMasterKeyArn"] == out["data_kms_key_arn"], "replica table")
    lambda_c = consumer.client("lambda", endpoint_url=endpoint)
    mappings = _mappings_of(lambda_c, out["flattener_function_arn"])
    check([m["EventSourceArn"] for m in mappings] == [out["replica_table_stream_arn"]], f"flattener mappings: {mappings}")
    described = consumer.client("firehose", endpoint_url=endpoint).describe_delivery_stream(DeliveryStreamName=out["delivery_stream_name"])["DeliveryStreamDescription"]
    destination = described["Destinations"][0]["ExtendedS3DestinationDescription"]
    check(destination["BucketARN"] == out["delivery_bucket_arn"] and destination["Prefix"] == "changes/", f"firehose destination: {destination}")
    check(described["DeliveryStreamEncryptionConfiguration"]["Status"] == "ENABLED", f"firehose encryption: {described.get('DeliveryStreamEncryptionConfiguration')}")
    s3 = consumer.client("s3", endpoint_url=endpoint)
    check(s3.get_bucket_versioning(Bucket=out["delivery_bucket_name"])["Status"] == "Enabled", "bucket versioning")
    block = s3.get_public_access_block(Bucket=out["delivery_bucket_name"])["PublicAccessBlockConfiguration"]
    check(all(block.values()) and len(block) == 4, f"public access block: {block}")
    rule = s3.get_bucket_encryption(Bucket=out["delivery_bucket_name"])["ServerSideEncryptionConfiguration"]["Rules"][0]
    check(rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == out["data_kms_key_arn"], f"bucket encryption: {rule}")
    check(lambda_c.list_functions()["Functions"][0]["FunctionName"] == out["flattener_function_name"], "consumer functions")
    check(consumer.client("kinesis", endpoint_url=endpoint).list_streams()["StreamNames"] == [], "a stream in the consumer account")
    check(producer.client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"] == [], "a table in the producer account")


def exercise_replication(endpoint: str, out: dict[str, Any], count: int = 200) -> str:
    """Records (every 50th poison) through the writer, assuming the replica role with the external
    id as the writer's role would, then the replica's changes through the flattener to S3."""
    from xacct_changes.config import ChangeSettings
    from xacct_consumer.config import Settings
    from xacct_consumer.credentials import assumed_role_session

    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    kinesis = producer.client("kinesis", endpoint_url=endpoint)
    poison = {i for i in range(count) if i % 50 == 7}
    entries = [
        {"Data": b"not json %d" % i if i in poison else json.dumps({"n": i, "page": f"/p/{i % 7}"}).encode(), "PartitionKey": f"user-{i % 9}"}
        for i in range(count)
    ]
    _put_all(kinesis, out["stream_name"], entries)
    records = [from_get_records(record, shard, out["stream_arn"]) for shard, record in _read_kinesis(kinesis, out["stream_name"])]
    writer_env = producer.client("lambda", endpoint_url=endpoint).get_function(FunctionName=out["writer_function_name"])["Configuration"]["Environment"]["Variables"]
    sink = assumed_role_session(
        producer.client("sts", endpoint_url=endpoint), writer_env["SINK_ROLE_ARN"], "rehearsal-writer", REGION, writer_env["SINK_EXTERNAL_ID"]
    )
    settings = Settings(
        table_name=out["replica_table_name"], dead_letter_queue_url=out["writer_dead_letter_queue_url"], region=REGION, sink_region=REGION,
        sink_role_arn=writer_env["SINK_ROLE_ARN"], sink_external_id=writer_env["SINK_EXTERNAL_ID"], function_name=out["writer_function_name"],
    )
    response = _run_consumer(settings, sink.client("dynamodb", endpoint_url=endpoint), producer.client("sqs", endpoint_url=endpoint), records)
    check(response == {"batchItemFailures": []}, f"writer reported failures: {response}")
    replica = consumer.client("dynamodb", endpoint_url=endpoint)
    written = replica.scan(TableName=out["replica_table_name"], Select="COUNT")["Count"]
    check(written == count - len(poison), f"replica holds {written}, expected {count - len(poison)}")

    changes = _read_table_stream(consumer.client("dynamodbstreams", endpoint_url=endpoint), out["replica_table_stream_arn"])
    check(len(changes) == written, f"replica stream has {len(changes)} records")
    flattener = ChangeSettings(dead_letter_queue_url=out["flattener_dead_letter_queue_url"], region=REGION, delivery_stream_name=out["delivery_stream_name"], function_name=out["flattener_function_name"])
    response = _run_changes(flattener, consumer.client("firehose", endpoint_url=endpoint), consumer.client("sqs", endpoint_url=endpoint), changes)
    check(response == {"batchItemFailures": []}, f"flattener reported failures: {response}")
    s3 = consumer.client("s3", endpoint_url=endpoint)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=out["delivery_bucket_name"]).get("Contents", [])]
    check(keys and all(k.startswith("changes/") for k in keys), f"objects: {keys}")
    lines = [json.loads(line) for k in keys for line in s3.get_object(Bucket=out["delivery_bucket_name"], Key=k)["Body"].read().decode().splitlines()]
    check(len(lines) == written and {line["event_name"] for line in lines} == {"INSERT"}, f"{len(lines)} lines in S3")
    check(sorted(json.loads(line["new_image"]["payload"])["n"] for line in lines) == sorted(set(range(count)) - poison), "S3 lines do not match the records")
    return f"{written} replicated, {len(poison)} parked, {len(lines)} lines in S3"


def verify_replication_empty(endpoint: str, out: dict[str, Any]) -> None:
    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    check(producer.client("kinesis", endpoint_url=endpoint).list_streams()["StreamNames"] == [], "stream left")
    for account in (producer, consumer):
        check(account.client("lambda", endpoint_url=endpoint).list_functions()["Functions"] == [], "function left")
    check(consumer.client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"] == [], "table left")
    check(consumer.client("firehose", endpoint_url=endpoint).list_delivery_streams()["DeliveryStreamNames"] == [], "delivery stream left")
    _keys_pending_deletion(endpoint, {PRODUCER: [out["kms_key_arn"], out["writer_kms_key_arn"]], CONSUMER: [out["data_kms_key_arn"], out["flattener_kms_key_arn"]]})


# --- seed 004: SES -> SNS -> Lambda -> a stream in another account ------------------------------

def verify_ses_notifications(endpoint: str, out: dict[str, Any]) -> None:
    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    summary = producer.client("kinesis", endpoint_url=endpoint).describe_stream_summary(StreamName=out["stream_name"])["StreamDescriptionSummary"]
    check(summary["KeyId"] == out["kms_key_arn"] and f":{PRODUCER}:" in out["stream_arn"], f"stream: {summary}")
    iam = producer.client("iam", endpoint_url=endpoint)
    role_name = out["stream_writer_role_arn"].rsplit("/", 1)[1]
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    (statement,) = (json.loads(trust) if isinstance(trust, str) else trust)["Statement"]
    check(statement["Principal"] == {"AWS": out["lambda_role_arn"]} and "Condition" not in statement, f"trust: {statement}")
    policy = iam.get_role_policy(RoleName=role_name, PolicyName="put-to-stream")["PolicyDocument"]
    put = (json.loads(policy) if isinstance(policy, str) else policy)["Statement"][0]
    check(put["Action"] == ["kinesis:PutRecord", "kinesis:PutRecords"] and put["Resource"] == out["stream_arn"], f"writer policy: {put}")
    ses = consumer.client("ses", endpoint_url=endpoint)
    described = ses.describe_configuration_set(ConfigurationSetName=out["ses_configuration_set_name"], ConfigurationSetAttributeNames=["eventDestinations"])
    (destination,) = described["EventDestinations"]
    check(destination["SNSDestination"]["TopicARN"] == out["notification_topic_arn"] and destination["Enabled"], f"event destination: {destination}")
    sns = consumer.client("sns", endpoint_url=endpoint)
    attributes = sns.get_topic_attributes(TopicArn=out["notification_topic_arn"])["Attributes"]
    check(attributes["KmsMasterKeyId"] == out["topic_kms_key_arn"], f"topic key: {attributes.get('KmsMasterKeyId')}")
    (topic_statement,) = json.loads(attributes["Policy"])["Statement"]
    check(topic_statement["Principal"] == {"Service": "ses.amazonaws.com"} and topic_statement["Action"] == "SNS:Publish", f"topic policy: {topic_statement}")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=out["notification_topic_arn"])["Subscriptions"]
    check([(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("lambda", out["lambda_function_arn"])], f"subscriptions: {subscriptions}")
    env = consumer.client("lambda", endpoint_url=endpoint).get_function(FunctionName=out["lambda_function_name"])["Configuration"]["Environment"]["Variables"]
    check((env["STREAM_ARN"], env["STREAM_ROLE_ARN"]) == (out["stream_arn"], out["stream_writer_role_arn"]), f"forwarder env: {env}")
    check(consumer.client("kinesis", endpoint_url=endpoint).list_streams()["StreamNames"] == [], "a stream in the SES account")
    check(producer.client("lambda", endpoint_url=endpoint).list_functions()["Functions"] == [], "a function in the stream account")


def exercise_ses_notifications(endpoint: str, out: dict[str, Any], emails: int = 40) -> str:
    """Three SES events (send, delivery, open) for each of 40 emails, as SNS hands them to the
    forwarder, run with the SES account's credentials: the forwarder assumes the stream account's role."""
    from xacct_notifications.forwarder import Forwarder, ForwarderSettings

    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    records = []
    for i in range(emails):
        for event_type in ("Send", "Delivery", "Open"):
            message = {"eventType": event_type, "mail": {"messageId": f"0102019a-{i:04d}-rehearsal", "source": "sender@example.com", "destination": [f"r{i}@example.com"]}}
            records.append({"EventSource": "aws:sns", "Sns": {"MessageId": f"sns-{i}-{event_type}", "TopicArn": out["notification_topic_arn"], "Message": json.dumps(message)}})
    env = consumer.client("lambda", endpoint_url=endpoint).get_function(FunctionName=out["lambda_function_name"])["Configuration"]["Environment"]["Variables"]
    settings = ForwarderSettings(stream_arn=env["STREAM_ARN"], stream_role_arn=env["STREAM_ROLE_ARN"], dead_letter_queue_url=out["dead_letter_queue_url"], region=REGION, function_name=out["lambda_function_name"])
    from xacct_consumer.credentials import assumed_role_session

    stream_session = assumed_role_session(consumer.client("sts", endpoint_url=endpoint), settings.stream_role_arn, "rehearsal-forwarder", REGION)
    forwarder = Forwarder(settings, stream_session.client("kinesis", endpoint_url=endpoint), consumer.client("sqs", endpoint_url=endpoint))
    with contextlib.redirect_stdout(io.StringIO()):
        result = forwarder.process({"Records": records}, None)
    check(result == {"delivered": len(records), "parked": 0}, f"forwarder: {result}")
    kinesis = producer.client("kinesis", endpoint_url=endpoint)
    shards_of: dict[str, set[str]] = {}
    per_shard: dict[str, int] = {}
    for shard, record in _read_kinesis(kinesis, out["stream_name"]):
        shards_of.setdefault(record["PartitionKey"], set()).add(shard)
        per_shard[shard] = per_shard.get(shard, 0) + 1
    check(sum(per_shard.values()) == len(records), f"{sum(per_shard.values())} of {len(records)} in the stream")
    check(len(shards_of) == emails and all(len(s) == 1 for s in shards_of.values()), "an email's events on more than one shard")
    check(len(per_shard) > 1, f"every record on one shard: {per_shard}")
    return f"{sum(per_shard.values())} notifications of {emails} emails on {len(per_shard)} shards"


def verify_ses_notifications_empty(endpoint: str, out: dict[str, Any]) -> None:
    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    check(producer.client("kinesis", endpoint_url=endpoint).list_streams()["StreamNames"] == [], "stream left")
    check(consumer.client("lambda", endpoint_url=endpoint).list_functions()["Functions"] == [], "function left")
    check(consumer.client("sns", endpoint_url=endpoint).list_topics()["Topics"] == [], "topic left")
    check(consumer.client("ses", endpoint_url=endpoint).list_configuration_sets().get("ConfigurationSets", []) == [], "configuration set left")
    _keys_pending_deletion(endpoint, {PRODUCER: [out["kms_key_arn"]], CONSUMER: [out["topic_kms_key_arn"], out["consumer_kms_key_arn"]]})


# --- seed 002: API Gateway (basic auth) -> a stream in another account -> Lambda -> DynamoDB ----

def verify_api_ingest(endpoint: str, out: dict[str, Any]) -> None:
    from xacct_streaming.blocks.policy import STREAM_READ_ACTIONS, STREAM_WRITE_ACTIONS

    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    kinesis = producer.client("kinesis", endpoint_url=endpoint)
    statements = json.loads(kinesis.get_resource_policy(ResourceARN=out["stream_arn"])["Policy"])["Statement"]
    granted = {s["Principal"]["AWS"]: _statement_actions(s) for s in statements}
    check(granted == {out["lambda_role_arn"]: sorted(STREAM_READ_ACTIONS), out["integration_role_arn"]: sorted(STREAM_WRITE_ACTIONS)}, f"stream policy: {statements}")
    check(f":{CONSUMER}:role/" in out["integration_role_arn"], "integration role not in the consumer account")
    apigateway = consumer.client("apigateway", endpoint_url=endpoint)
    api_id = out["api_id"]
    (authorizer,) = apigateway.get_authorizers(restApiId=api_id)["items"]
    check((authorizer["type"], authorizer["identitySource"]) == ("REQUEST", "method.request.header.Authorization"), f"authorizer: {authorizer}")
    resource = next(r for r in apigateway.get_resources(restApiId=api_id)["items"] if r["path"] == "/submit/{eventId}")
    method = apigateway.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod="POST")
    check(method["authorizationType"] == "CUSTOM" and method["authorizerId"] == authorizer["id"], f"method: {method}")
    integration = method["methodIntegration"]
    check(integration["uri"].endswith(":kinesis:action/PutRecord") and integration["credentials"] == out["integration_role_arn"], f"integration: {integration}")
    check(out["stream_arn"] in integration["requestTemplates"]["application/json"], "the integration does not name the stream by ARN")
    stage = apigateway.get_stage(restApiId=api_id, stageName="prod")
    check(stage["accessLogSettings"]["destinationArn"].endswith(f":log-group:{out['api_access_log_group_name']}"), f"stage: {stage.get('accessLogSettings')}")
    secret = json.loads(consumer.client("secretsmanager", endpoint_url=endpoint).get_secret_value(SecretId=out["basic_auth_secret_arn"])["SecretString"])
    check(sorted(secret) == ["password", "username"] and len(secret["password"]) == 32, "basic-auth secret")
    check(producer.client("apigateway", endpoint_url=endpoint).get_rest_apis()["items"] == [], "an API in the producer account")
    check(consumer.client("kinesis", endpoint_url=endpoint).list_streams()["StreamNames"] == [], "a stream in the consumer account")


def exercise_api_ingest(endpoint: str, out: dict[str, Any], count: int = 100) -> str:
    """The authorizer against the deployed secret, then 100 events (5 not JSON) put as the API's
    integration role does it (moto runs neither authorizers nor mapping templates), then the
    consumer runtime on what the EFO consumer would deliver."""
    from xacct_consumer.config import Settings
    from xacct_consumer.credentials import assumed_role_session
    from xacct_ingest.authorizer import Authorizer, AuthorizerSettings

    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    secrets = consumer.client("secretsmanager", endpoint_url=endpoint)
    secret = json.loads(secrets.get_secret_value(SecretId=out["basic_auth_secret_arn"])["SecretString"])
    authorizer = Authorizer(AuthorizerSettings(secret_id="xacct-ingest/basic-auth"), secrets)
    method_arn = f"arn:aws:execute-api:{REGION}:{CONSUMER}:{out['api_id']}/prod/POST/submit/e-1"

    def decide(user: str, password: str) -> str:
        header = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        with contextlib.redirect_stdout(io.StringIO()):
            answer = authorizer.authorize({"methodArn": method_arn, "headers": {"Authorization": header}})
        return answer["policyDocument"]["Statement"][0]["Effect"]

    check(decide(secret["username"], secret["password"]) == "Allow", "the deployed credentials are refused")
    check(decide(secret["username"], secret["password"] + "x") == "Deny", "a wrong password is allowed")

    integration = assumed_role_session(consumer.client("sts", endpoint_url=endpoint), out["integration_role_arn"], "apigateway", REGION)
    kinesis_as_api = integration.client("kinesis", endpoint_url=endpoint)
    poison = {i for i in range(count) if i % 20 == 3}
    for i in range(count):
        body = b"<not json %d>" % i if i in poison else json.dumps({"eventId": f"e-{i}", "amount": i}).encode()
        kinesis_as_api.put_record(StreamARN=out["stream_arn"], PartitionKey=f"e-{i}", Data=body)
    kinesis = producer.client("kinesis", endpoint_url=endpoint)
    records = [from_get_records(record, shard, out["stream_consumer_arn"]) for shard, record in _read_kinesis(kinesis, out["stream_name"])]
    check(len(records) == count, f"{len(records)} of {count} events in the producer's stream")
    dynamodb, sqs = consumer.client("dynamodb", endpoint_url=endpoint), consumer.client("sqs", endpoint_url=endpoint)
    settings = Settings(table_name=out["sink_table_name"], dead_letter_queue_url=out["dead_letter_queue_url"], region=REGION, sink_region=REGION, function_name=out["lambda_function_name"])
    response = _run_consumer(settings, dynamodb, sqs, records)
    check(response == {"batchItemFailures": []}, f"consumer reported failures: {response}")
    written = dynamodb.scan(TableName=out["sink_table_name"], Select="COUNT")["Count"]
    check(written == count - len(poison), f"table holds {written}")
    return f"authorizer allow/deny ok, {count} events put as the API role, {written} written, {len(poison)} parked"


def verify_api_ingest_empty(endpoint: str, out: dict[str, Any]) -> None:
    producer, consumer = session(endpoint, PRODUCER), session(endpoint, CONSUMER)
    check(producer.client("kinesis", endpoint_url=endpoint).list_streams()["StreamNames"] == [], "stream left")
    check(consumer.client("apigateway", endpoint_url=endpoint).get_rest_apis()["items"] == [], "API left")
    # deleted for good, not scheduled: a redeploy can take the name again at once
    secrets = consumer.client("secretsmanager", endpoint_url=endpoint).list_secrets(IncludePlannedDeletion=True)["SecretList"]
    check(secrets == [], f"secret left (scheduled for deletion keeps its name taken): {[x['Name'] for x in secrets]}")
    check(consumer.client("lambda", endpoint_url=endpoint).list_functions()["Functions"] == [], "function left")
    check(consumer.client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"] == [], "table left")
    _keys_pending_deletion(endpoint, {PRODUCER: [out["kms_key_arn"]], CONSUMER: [out["consumer_kms_key_arn"], out["api_kms_key_arn"]]})


def edit_redeploys_the_api(stack_dir: Path, env: dict[str, str], config: dict[str, Any]) -> str:
    """An in-place edit of the API (the integration's request template) must plan a new deployment:
    a stage keeps serving its old snapshot otherwise. The edit is an override file, removed after."""
    (name, integration), = config["resource"]["aws_api_gateway_integration"].items()
    (deployment,) = config["resource"]["aws_api_gateway_deployment"]
    template = integration["request_templates"]["application/json"]
    check("$input.body" in template, f"unexpected template: {template}")
    override = stack_dir / "edit_override.tf.json"
    edited = {"resource": {"aws_api_gateway_integration": {name: {"request_templates": {"application/json": template.replace("$input.body", "$input.json('$')")}}}}}
    override.write_text(json.dumps(edited))
    try:
        result = terraform(stack_dir, env, "plan", "-input=false", "-var-file=rehearsal.tfvars", "-detailed-exitcode", ok=(2,))
    finally:
        override.unlink()
    check(f"aws_api_gateway_integration.{name} will be updated in-place" in result.stdout, f"the template edit is not planned:\n{result.stdout[-3000:]}")
    check(f"aws_api_gateway_deployment.{deployment} must be replaced" in result.stdout, f"the edit does not redeploy:\n{result.stdout[-6000:]}")
    return "template edit: integration updated, deployment replaced"


def rotate_the_password(stack_dir: Path, env: dict[str, str], config: dict[str, Any], endpoint: str, out: dict[str, Any]) -> str:
    """Rotation as documented: raising `api.password_version` (here the number it sets, in an override
    file kept until the teardown) replaces only the secret version; Terraform writes a fresh password
    through the write-only argument, and neither password is in the plan or the state."""
    from xacct_ingest.authorizer import Authorizer, AuthorizerSettings

    (name, version), = config["resource"]["aws_secretsmanager_secret_version"].items()
    check("secret_string" not in version and "secret_string_wo" in version, f"the secret is not written write-only: {sorted(version)}")
    secrets = session(endpoint, CONSUMER).client("secretsmanager", endpoint_url=endpoint)
    before = json.loads(secrets.get_secret_value(SecretId=out["basic_auth_secret_arn"])["SecretString"])
    # A warm authorizer, as Lambda keeps one, with the settings the stack gives it: it has read the secret
    # before the rotation. Its clocks are the test's: the cache's (monotonic) and the wall's (the grace window).
    (function,) = [f for f in config["resource"]["aws_lambda_function"].values() if "SECRET_ID" in f["environment"]["variables"]]
    settings = AuthorizerSettings.from_env({**function["environment"]["variables"], "SECRET_ID": out["basic_auth_secret_arn"]})
    cache, offset = [0.0], [0.0]
    authorizer = Authorizer(settings, secrets, monotonic=lambda: cache[0], clock=lambda: time.time() + offset[0])
    method_arn = f"arn:aws:execute-api:{REGION}:{CONSUMER}:{out['api_id']}/prod/POST/submit/e-1"

    def decide(password: str) -> str:
        header = "Basic " + base64.b64encode(f"{before['username']}:{password}".encode()).decode()
        with contextlib.redirect_stdout(io.StringIO()):
            return authorizer.authorize({"methodArn": method_arn, "headers": {"Authorization": header}})["policyDocument"]["Statement"][0]["Effect"]

    check(decide(before["password"]) == "Allow", "the warm authorizer does not take the password before the rotation")
    override = {"resource": {"aws_secretsmanager_secret_version": {name: {"secret_string_wo_version": version["secret_string_wo_version"] + 1}}}}
    (stack_dir / "rotation_override.tf.json").write_text(json.dumps(override))
    terraform(stack_dir, env, "plan", "-input=false", "-var-file=rehearsal.tfvars", "-out=rotation.tfplan")
    plan = terraform(stack_dir, env, "show", "-json", "rotation.tfplan").stdout
    changed = sorted(c["address"] for c in json.loads(plan)["resource_changes"] if c["change"]["actions"] != ["no-op"])
    check(changed == [f"aws_secretsmanager_secret_version.{name}"], f"rotation changes more than the secret version: {changed}")
    terraform(stack_dir, env, "apply", "-input=false", "rotation.tfplan")
    after = json.loads(secrets.get_secret_value(SecretId=out["basic_auth_secret_arn"])["SecretString"])
    check(after["username"] == before["username"] and after["password"] != before["password"] and len(after["password"]) == len(before["password"]),
          "the rotation did not write a fresh password of the same length")
    state = terraform(stack_dir, env, "show", "-json").stdout
    for password in (before["password"], after["password"]):
        check(json.dumps(password)[1:-1] not in plan and json.dumps(password)[1:-1] not in state, "a password is in the plan or the state")
    # Seconds after the rotation (its cache still holds the old secret for most of a minute): the new password
    # is let in at once, the old one for the grace window after the rotation, then refused.
    cache[0] = settings.refresh_seconds + 1.0
    check(decide(after["password"]) == "Allow", "the warm authorizer does not take the new password at once")
    check(decide(before["password"]) == "Allow", "the old password is refused within the grace window")
    offset[0] = settings.previous_grace_seconds + 1.0
    check((decide(before["password"]), decide(after["password"])) == ("Deny", "Allow"), "after the grace window the authorizer does not take exactly the new password")
    _replan(stack_dir, env)
    return (f"only the secret version replaced; warm authorizer: new password Allow at once, old Allow for the {settings.previous_grace_seconds} s grace, "
            "then Deny; neither in plan or state; replan empty")


def _fanout_readers(config: dict[str, Any]) -> dict[str, str]:
    """Consumer name -> account id, from the synthesized functions (`<name>-function/...`)."""
    accounts = {**consumer_accounts(config), "producer": PRODUCER}
    readers = {}
    for body in config["resource"]["aws_lambda_function"].values():
        name = body["//"]["metadata"]["path"].split("/")[1].removesuffix("-function")
        readers[name] = accounts[body["provider"].removeprefix("aws.")]
    return readers


def verify_fanout(endpoint: str, out: dict[str, Any], config: dict[str, Any]) -> None:
    from xacct_streaming.blocks.policy import STREAM_CONSUMER_READ_ACTIONS, STREAM_READ_ACTIONS

    readers = _fanout_readers(config)
    producer = session(endpoint, PRODUCER)
    kinesis = producer.client("kinesis", endpoint_url=endpoint)
    summary = kinesis.describe_stream_summary(StreamName=out["stream_name"])["StreamDescriptionSummary"]
    check(summary["StreamARN"] == out["stream_arn"] and summary["KeyId"] == out["kms_key_arn"], f"stream: {summary}")
    efo = {c["ConsumerARN"] for c in kinesis.list_stream_consumers(StreamARN=out["stream_arn"])["Consumers"]}
    roles, sources = out["consumer_role_arns"], out["consumer_event_source_arns"]
    cross = sorted(n for n, account in readers.items() if account != PRODUCER)
    check(efo == {sources[n] for n in readers if sources[n] != out["stream_arn"]}, f"EFO consumers {efo} vs {sources}")
    # the stream's one policy: a statement per cross-account reader, read actions only
    statements = json.loads(kinesis.get_resource_policy(ResourceARN=out["stream_arn"])["Policy"])["Statement"]
    check(sorted(s["Principal"]["AWS"] for s in statements) == sorted(roles[n] for n in cross), f"stream policy principals: {statements}")
    check(all(sorted(s["Action"]) == sorted(STREAM_READ_ACTIONS) for s in statements), "stream policy actions")
    for name in (n for n in cross if sources[n] != out["stream_arn"]):  # a polling reader has no EFO consumer
        (statement,) = json.loads(kinesis.get_resource_policy(ResourceARN=sources[name])["Policy"])["Statement"]
        check(statement["Principal"] == {"AWS": roles[name]} and sorted(statement["Action"]) == sorted(STREAM_CONSUMER_READ_ACTIONS), f"{name}'s EFO consumer policy: {statement}")
    for name, account in readers.items():
        check(f":{account}:role/" in roles[name], f"{name}'s role is not in account {account}: {roles[name]}")
        lambda_ = session(endpoint, account).client("lambda", endpoint_url=endpoint)
        function = lambda_.get_function(FunctionName=out["consumer_function_arns"][name])["Configuration"]
        mappings = [m for m in lambda_.list_event_source_mappings()["EventSourceMappings"] if m["FunctionArn"] == function["FunctionArn"]]
        check([m["EventSourceArn"] for m in mappings] == [sources[name]], f"{name}'s mapping: {mappings}")
        tables = session(endpoint, account).client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"]
        check(out["consumer_sink_table_names"][name] in tables, f"{name}'s table is not in account {account}")


def exercise_fanout(endpoint: str, out: dict[str, Any], config: dict[str, Any], count: int = 120) -> str:
    """Puts `count` records (two poison) and runs every reader's runtime on them: each reader's table
    gets every good record and its dead-letter queue the poison, in the reader's own account."""
    from xacct_consumer.config import Settings

    readers = _fanout_readers(config)
    kinesis = session(endpoint, PRODUCER).client("kinesis", endpoint_url=endpoint)
    poison = {13, 77}
    entries = [
        {"Data": b"not json %d" % i if i in poison else json.dumps({"n": i, "kind": "fanout"}).encode(), "PartitionKey": f"pk-{i % 7}"}
        for i in range(count)
    ]
    _put_all(kinesis, out["stream_name"], entries)
    read = _read_kinesis(kinesis, out["stream_name"])
    check(len(read) == count, f"read back {len(read)} of {count} records")
    for name, account in sorted(readers.items()):
        consumer = session(endpoint, account)
        dynamodb, sqs = consumer.client("dynamodb", endpoint_url=endpoint), consumer.client("sqs", endpoint_url=endpoint)
        env = consumer.client("lambda", endpoint_url=endpoint).get_function(FunctionName=out["consumer_function_arns"][name])["Configuration"]["Environment"]["Variables"]
        records = [from_get_records(record, shard, out["consumer_event_source_arns"][name]) for shard, record in read]
        settings = Settings(table_name=env["TABLE_NAME"], dead_letter_queue_url=env["DEAD_LETTER_QUEUE_URL"], region=REGION, sink_region=REGION,
                            function_name=out["consumer_function_arns"][name].rsplit(":", 1)[-1])
        check(_run_consumer(settings, dynamodb, sqs, records) == {"batchItemFailures": []}, f"{name} reported failures")
        written = dynamodb.scan(TableName=env["TABLE_NAME"], Select="COUNT")["Count"]
        parked = int(sqs.get_queue_attributes(QueueUrl=env["DEAD_LETTER_QUEUE_URL"], AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
        check((written, parked) == (count - len(poison), len(poison)), f"{name}: table {written} / queue {parked}")
    return f"{len(readers)} readers in {len(set(readers.values()))} accounts each got {count - len(poison)} records, {len(poison)} parked"


def subscriber_queues(endpoint: str, config: dict[str, Any]) -> None:
    """The SQS queues the stack's alarm topics are subscribed to: an operator's, there before the apply."""
    for body in config["resource"].get("aws_sns_topic_subscription", {}).values():
        if body["protocol"] == "sqs":
            _, _, _, region, account, name = body["endpoint"].split(":")
            session(endpoint, account).client("sqs", endpoint_url=endpoint).create_queue(QueueName=name)


def falling_behind_reaches_the_subscriber(endpoint: str, out: dict[str, Any], config: dict[str, Any]) -> str:
    """A reader stops while records wait: its iterator-age alarm fires and the notification reaches the
    operator's queue through the account's encrypted alarm topic, then OK when it is back. moto evaluates
    no metric: the alarm's state is set as the lag would set it (SetAlarmState performs the actions, as on
    AWS); that CloudWatch may publish to the topic and use its key is make policy-check's."""
    (subscription,) = [b for b in config["resource"]["aws_sns_topic_subscription"].values() if b["protocol"] == "sqs"]
    account_name = next(a for a, arn in out["alarm_topic_arns"].items() if f":{subscription['endpoint'].split(':')[4]}:" in arn)
    account = subscription["endpoint"].split(":")[4]
    kinesis = session(endpoint, PRODUCER).client("kinesis", endpoint_url=endpoint)
    _put_all(kinesis, out["stream_name"], [{"Data": json.dumps({"n": i, "kind": "waiting"}).encode(), "PartitionKey": f"w-{i}"} for i in range(10)])
    (alarm,) = [n for n in out["alarm_names"][account_name] if n.endswith("-iterator-age")]
    cloudwatch = session(endpoint, account).client("cloudwatch", endpoint_url=endpoint)
    (described,) = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
    topic = out["alarm_topic_arns"][account_name]
    check(described["AlarmActions"] == [topic] and described["OKActions"] == [topic], f"{alarm}'s actions: {described}")
    sqs = session(endpoint, account).client("sqs", endpoint_url=endpoint)
    queue = sqs.get_queue_url(QueueName=subscription["endpoint"].split(":")[5])["QueueUrl"]
    states = []
    for state in ("ALARM", "OK"):
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue=state, StateReason=f"rehearsal: {account_name}'s reader {'stopped' if state == 'ALARM' else 'caught up'}")
        (message,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        envelope = json.loads(message["Body"])
        notification = json.loads(envelope["Message"])
        check((envelope["TopicArn"], notification["AlarmName"], notification["NewStateValue"]) == (topic, alarm, state), f"notification: {envelope}")
        states.append(state)
    return f"{alarm}: {' then '.join(states)} reached {subscription['endpoint'].split(':')[5]} through {topic.rsplit(':', 1)[1]}"


def verify_fanout_empty(endpoint: str, out: dict[str, Any], config: dict[str, Any]) -> None:
    kinesis = session(endpoint, PRODUCER).client("kinesis", endpoint_url=endpoint)
    check(out["stream_name"] not in kinesis.list_streams()["StreamNames"], "the stream is left")
    for account in {PRODUCER, *consumer_accounts(config).values()}:
        check(session(endpoint, account).client("lambda", endpoint_url=endpoint).list_functions()["Functions"] == [], f"a function left in {account}")
        check(session(endpoint, account).client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"] == [], f"a table left in {account}")


# What someone adds by hand between two applies (the console's "data stream sharing" editor replaces the
# stream's whole policy with the one it shows, plus this).
HAND_PRINCIPAL = "arn:aws:iam::{account}:role/analyst-by-hand"


def hand_made_grant_is_reported(stack_dir: Path, env: dict[str, str], endpoint: str, out: dict[str, Any], smaller: Path) -> str:
    """A statement added by hand to the live stream policy between two applies is reported by the live
    access review of the configuration about to be applied (`access_review --live`, with the tfvars'
    deploy roles), as access that apply removes, before it runs."""
    consumer_account = next(a for a in consumer_accounts(json.loads((stack_dir / "cdk.tf.json").read_text())).values())
    principal = HAND_PRINCIPAL.format(account=consumer_account)
    kinesis = session(endpoint, PRODUCER).client("kinesis", endpoint_url=endpoint)
    policy = json.loads(kinesis.get_resource_policy(ResourceARN=out["stream_arn"])["Policy"])
    policy["Statement"].append({"Sid": "AddedByHand", "Effect": "Allow", "Principal": {"AWS": principal},
                                "Action": ["kinesis:DescribeStreamSummary", "kinesis:GetRecords"], "Resource": out["stream_arn"]})
    kinesis.put_resource_policy(ResourceARN=out["stream_arn"], Policy=json.dumps(policy))
    review_env = {**env, "PYTHONPATH": str(ROOT / "constructs"), "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": REGION}
    result = subprocess.run([sys.executable, "-m", "xacct_ops.access_review", "--live", "--stack-dir", str(smaller), "--tfvars",
                             str(stack_dir / "rehearsal.tfvars"), "--endpoint-url", endpoint, "--format", "json"],
                            cwd=ROOT, env=review_env, capture_output=True, text=True, timeout=300)
    check(result.returncode == 0, f"live access review exited {result.returncode}: {result.stderr[-3000:]}{result.stdout[-2000:]}")
    report = json.loads(result.stdout)
    by_hand = sorted(row["action"] for row in report["removed"] if row["principal"] == principal)
    check(by_hand == ["kinesis:DescribeStreamSummary", "kinesis:GetRecords"] and all(
        row["resource"] == out["stream_arn"] for row in report["removed"] if row["principal"] == principal), f"hand-made grant: {report['removed']}")
    check(report["added"] == [] and report["findings"] == [], f"the live review adds access: {report['added']} {report['findings']}")
    others = {row["principal"].rsplit("/", 1)[-1] for row in report["removed"] if row["principal"] != principal}
    read = sum(line.startswith("read: ") for line in report["live_policies"])
    return (f"{read} live policies read; the apply removes the 2 hand-made grants and "
            f"{sum(row['principal'] != principal for row in report['removed'])} of {', '.join(sorted(others))}")


def remove_one_consumer(stack_dir: Path, env: dict[str, str], config: dict[str, Any], smaller: Path) -> str:
    """Plans the configuration without one consumer against the applied state: the plan must touch
    that consumer's resources (destroyed) and the shared policies (updated in place), nothing else;
    then applies it."""
    removed = config["resource"]
    kept = json.loads((smaller / "cdk.tf.json").read_text())["resource"]
    gone = {f"{t}.{n}" for t, bodies in removed.items() for n in bodies} - {f"{t}.{n}" for t, bodies in kept.items() for n in bodies}
    # A protected table must be unprotected first, in an apply of its own (docs: removing a consumer);
    # the rehearsal's removed consumer had that done in its settings already.
    tables = [a.split(".", 1)[1] for a in gone if a.startswith("aws_dynamodb_table.") and removed["aws_dynamodb_table"][a.split(".", 1)[1]].get("deletion_protection_enabled")]
    if tables:
        disable_deletion_protection(stack_dir, {"resource": {"aws_dynamodb_table": {name: {} for name in tables}}})
        terraform(stack_dir, env, "apply", "-input=false", "-auto-approve", "-refresh=false", "-var-file=rehearsal.tfvars",
                  *(f"-target=aws_dynamodb_table.{name}" for name in tables))
        (stack_dir / "teardown_override.tf.json").unlink()
    shutil.copy(smaller / "cdk.tf.json", stack_dir / "cdk.tf.json")
    terraform(stack_dir, env, "plan", "-input=false", "-var-file=rehearsal.tfvars", "-out=smaller.tfplan")
    plan = json.loads(terraform(stack_dir, env, "show", "-json", "smaller.tfplan").stdout)
    changes = {c["address"]: c["change"]["actions"] for c in plan.get("resource_changes", []) if c["change"]["actions"] != ["no-op"]}
    deleted = {a for a, actions in changes.items() if actions == ["delete"]}
    updated = {a for a, actions in changes.items() if actions == ["update"]}
    check(deleted == gone, f"destroyed {sorted(deleted ^ gone)} differ from the removed consumer's resources")
    check(all(a.startswith(("aws_kinesis_resource_policy.shared-stream_stream-policy", "aws_kms_key_policy.shared-stream_key_policy")) for a in updated) and len(updated) == 2,
          f"updated: {sorted(updated)}")
    check(set(changes) == deleted | updated, f"other changes: {sorted(set(changes) - deleted - updated)}")
    terraform(stack_dir, env, "apply", "-input=false", "smaller.tfplan")
    return f"{len(deleted)} destroyed, 2 shared policies updated, nothing else"


def policy_check_on_applied_arns(stack_dir: Path, env: dict[str, str], config: dict[str, Any], stack: str) -> str:
    """make policy-check's calls with the ARNs the apply produced (`terraform show -json`), not stand-ins."""
    import policy_check

    # The local state file itself: `terraform show -json` would start every account's provider for it.
    rows = policy_check.check_stack(policy_check.Stack(stack, config, policy_check.load_state(stack_dir / "rehearsal.tfstate")))
    wrong = [f"{r['caller']} {r['action']} {r['resource']}: expected {r['expected']}, got {r['engine']}" for r in rows if not r["ok"]]
    check(not wrong, "policy check on the applied ARNs:\n" + "\n".join(wrong[:20]))
    counts = policy_check.summarize(rows)[stack]
    return f"{counts['allowed']} allowed and {counts['denied']} denied as expected"


@dataclass(frozen=True)
class Scenario:
    """A stack kind's checks and traffic: verify both accounts, put records through, verify nothing is
    left after the destroy; `rotates`: the API's password rotation and redeploy replace the plain replan."""

    verify: Callable[..., Any]
    exercise: Callable[..., Any]
    empty: Callable[..., Any]
    rotates: bool = False


# By name, as a stack kind names its own (catalog.StackKind.rehearsal, recorded in manifest.json).
# The fan-out's (every account, the alarm to a queue, a consumer removed) is `rehearse`'s own branch.
FANOUT = "fanout"
SCENARIOS: dict[str, Scenario | None] = {
    "kinesis_consumer": Scenario(verify_deployment, exercise_handler, verify_empty),
    "dynamodb_streams": Scenario(verify_dynamodb_streams, exercise_dynamodb_streams, verify_dynamodb_streams_empty),
    "replication": Scenario(verify_replication, exercise_replication, verify_replication_empty),
    "ses_notifications": Scenario(verify_ses_notifications, exercise_ses_notifications, verify_ses_notifications_empty),
    "api_ingest": Scenario(verify_api_ingest, exercise_api_ingest, verify_api_ingest_empty, rotates=True),
    FANOUT: None,
}


def scenario_of(stack_dir: Path) -> tuple[str, str]:
    """(the stack's kind, its rehearsal scenario), as the output's manifest records them."""
    entry = manifest.kind_entry(stack_dir)
    if entry["rehearsal"] not in SCENARIOS:
        raise manifest.NoKindError(f"{stack_dir}: stack kind {entry['kind']!r} names rehearsal scenario {entry['rehearsal']!r}; "
                                   f"tests/harness/rehearse.py has {', '.join(SCENARIOS)}")
    return entry["kind"], entry["rehearsal"]


def _stepper(timings: list[tuple[str, float, str]]) -> Callable[[str, Callable[[], str | None]], None]:
    """step(name, action): runs the action, records (name, seconds, detail) in `timings`, prints a line."""

    def step(name: str, action: Callable[[], str | None]) -> None:
        started = time.perf_counter()
        detail = action() or ""
        timings.append((name, time.perf_counter() - started, detail))
        print(f"  {name:<34s} {timings[-1][1]:6.1f} s  {detail}", flush=True)

    return step


def hcl_plans_the_same(stack_dir: Path, env: dict[str, str], config: dict[str, Any], endpoint: str, hcl_src: Path, found: dict[str, Any]) -> str:
    """The stack's HCL export (`main.py --hcl`) planned against the same moto before anything is applied,
    its changes compared with the JSON plan the rehearsal is about to apply (plan_compare)."""
    from collections import Counter

    import plan_compare

    hcl_dir = stack_dir.parent / "hcl"
    shutil.copytree(hcl_src, hcl_dir, ignore=shutil.ignore_patterns(".terraform", "tfplan", "*.tfstate*"))
    write_override(hcl_dir, endpoint, config)
    terraform(hcl_dir, env, "init", "-input=false")
    terraform(hcl_dir, env, "plan", "-input=false", "-var-file=rehearsal.tfvars", "-out=tfplan")
    json_plan, hcl_plan = (json.loads(terraform(d, env, "show", "-json", "tfplan").stdout) for d in (stack_dir, hcl_dir))
    changes = json_plan.get("resource_changes", [])
    found.update({
        "resources": len(changes),
        "actions": dict(Counter("-".join(c["change"]["actions"]) for c in changes)),
        "differences": plan_compare.compare(json_plan, hcl_plan),
    })
    check(not found["differences"], "the HCL plan differs from the JSON plan:\n" + "\n".join(found["differences"][:20]))
    return f"{len(changes)} resource changes and the outputs identical in both"


def rehearse(stack_src: Path, keep: bool = False, then: Path | None = None, hcl_twin: Path | None = None,
             found: dict[str, Any] | None = None) -> list[tuple[str, float, str]]:
    """`then` (fan-out): the same stack synthesized without one consumer, planned and applied after
    the first replan. `hcl_twin`: the stack's HCL export, planned and compared with the first plan
    (what it found goes into `found["hcl"]`)."""
    timings: list[tuple[str, float, str]] = []
    step = _stepper(timings)
    found = found if found is not None else {}

    _, scenario_name = scenario_of(stack_src)
    scratch = Path(tempfile.mkdtemp(prefix="rehearsal-"))
    try:
        stack_dir = scratch / "stack"
        shutil.copytree(stack_src, stack_dir, ignore=shutil.ignore_patterns(".terraform", "tfplan"))
        config = json.loads((stack_dir / "cdk.tf.json").read_text())
        env = mirror_config(scratch)
        with moto_server() as endpoint:
            print(f"moto on {endpoint}; scratch {scratch}", flush=True)
            step("override + init", lambda: (write_override(stack_dir, endpoint), subscriber_queues(endpoint, config),
                                             terraform(stack_dir, env, "init", "-input=false"))[2] and None)
            step("plan -out", lambda: _plan_line(terraform(stack_dir, env, "plan", "-input=false", "-var-file=rehearsal.tfvars", "-out=tfplan").stdout))
            if hcl_twin is not None:
                step("HCL export plans the same", lambda: hcl_plans_the_same(stack_dir, env, config, endpoint, hcl_twin, found.setdefault("hcl", {})))
            step("apply", lambda: [l for l in terraform(stack_dir, env, "apply", "-input=false", "tfplan").stdout.splitlines() if l.startswith("Apply complete")][0])
            out = outputs(stack_dir, env)
            if scenario_name == FANOUT:
                step("verify every account", lambda: verify_fanout(endpoint, out, config))
                step("policy check on applied ARNs", lambda: policy_check_on_applied_arns(stack_dir, env, config, stack_src.name))
                step("records through every reader", lambda: exercise_fanout(endpoint, out, config))
                step("a reader falls behind: alarm to queue", lambda: falling_behind_reaches_the_subscriber(endpoint, out, config))
                step("replan: no changes", lambda: _replan(stack_dir, env))
                if then is not None:
                    step("a hand-made grant: live review", lambda: hand_made_grant_is_reported(stack_dir, env, endpoint, out, then))
                    step("remove a consumer", lambda: remove_one_consumer(stack_dir, env, config, then))
                    config = json.loads((stack_dir / "cdk.tf.json").read_text())
                    step("replan after the removal: no changes", lambda: _replan(stack_dir, env))
                step("teardown: unprotect + destroy", lambda: _destroy(stack_dir, env, config))
                step("verify nothing left", lambda: verify_fanout_empty(endpoint, out, config))
                return timings
            scenario = SCENARIOS[scenario_name]
            assert scenario is not None
            step("verify both accounts", lambda: scenario.verify(endpoint, out))
            step("policy check on applied ARNs", lambda: policy_check_on_applied_arns(stack_dir, env, config, stack_src.name))
            step("records through the handler", lambda: scenario.exercise(endpoint, out))
            if scenario.rotates:
                # Its plan is this stack's replan: nothing but the secret version may change.
                step("rotate the password + replan", lambda: rotate_the_password(stack_dir, env, config, endpoint, out))
                step("edit redeploys", lambda: edit_redeploys_the_api(stack_dir, env, config))
            else:
                step("replan: no changes", lambda: _replan(stack_dir, env))
            step("teardown: unprotect + destroy", lambda: _destroy(stack_dir, env, config))
            step("verify nothing left", lambda: scenario.empty(endpoint, out))
    finally:
        if keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return timings


def split_tfvars(stack_dir: Path, account_id: str | None) -> None:
    """A split fan-out plan's tfvars: the producer plan's (account_id None) or one account plan's."""
    side = (f'producer_account_id = "{PRODUCER}"\nproducer_deploy_role_arn = "arn:aws:iam::{PRODUCER}:role/deploy"\n' if account_id is None
            else f'consumer_account_id = "{account_id}"\nconsumer_deploy_role_arn = "arn:aws:iam::{account_id}:role/deploy"\n')
    (stack_dir / "rehearsal.tfvars").write_text(f'region = "{REGION}"\n{side}tags = {{ project = "xacct-streaming", rehearsal = "true" }}\n')


def _apply(stack_dir: Path, env: dict[str, str]) -> str:
    """An apply that plans in the same run (no saved plan: what is tested here is the order of the split
    plans, and `plan -out` + `apply` would start every provider once more); returns the plan's summary."""
    stdout = terraform(stack_dir, env, "apply", "-input=false", "-auto-approve", "-var-file=rehearsal.tfvars").stdout
    if "No changes." in stdout and "Plan:" not in stdout:
        return "Plan: 0 to add, 0 to change, 0 to destroy."
    return _plan_line(stdout)


def _side_by_side(action: Callable[[Path], str], dirs: list[Path]) -> list[str]:
    """The account plans are independent of each other: their Terraform runs overlap."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(dirs)) as pool:
        return list(pool.map(action, dirs))


def rehearse_split(producer_src: Path, account_srcs: list[Path], keep: bool = False) -> list[tuple[str, float, str]]:
    """A split fan-out end to end: account plans (roles, no mappings), handoff of the readers, the
    producer plan, handoff of each account's share, account plans again (read policies, mappings);
    then records through every reader, every plan replans empty, destroy accounts then producer."""
    from xacct_ops import handoff

    timings: list[tuple[str, float, str]] = []
    step = _stepper(timings)

    scratch = Path(tempfile.mkdtemp(prefix="rehearsal-split-"))
    try:
        for src in (producer_src, *account_srcs):
            shutil.copytree(src, scratch / src.name, ignore=shutil.ignore_patterns(".terraform", "tfplan", handoff.HANDOFF_FILE))
        producer, *accounts = (scratch / src.name for src in (producer_src, *account_srcs))
        configs = {d: json.loads((d / "cdk.tf.json").read_text()) for d in [producer, *accounts]}
        # Each account plan's one provider alias, and its moto account id (in the order given).
        aliases = [configs[d]["provider"]["aws"][0]["alias"] for d in accounts]
        ids = {d: stable_account_id(alias) for d, alias in zip(accounts, aliases)}
        env = mirror_config(scratch)

        def output(stack_dir: Path, name: str) -> Any:
            return json.loads(terraform(stack_dir, env, "output", "-json", name).stdout)

        def summed(lines: list[str]) -> str:
            totals = [sum(int(re.search(rf"(\d+) to {what}", line).group(1)) for line in lines) for what in ("add", "change", "destroy")]  # type: ignore[union-attr]
            return f"{len(lines)} plans: {totals[0]} to add, {totals[1]} to change, {totals[2]} to destroy"

        with moto_server() as endpoint:
            print(f"moto on {endpoint}; scratch {scratch}", flush=True)

            def prepare(stack_dir: Path) -> str:
                write_override(stack_dir, endpoint)
                split_tfvars(stack_dir, ids.get(stack_dir))
                terraform(stack_dir, env, "init", "-input=false")
                return ""

            step("override + init", lambda: (_side_by_side(prepare, [producer, *accounts]), None)[1])
            step("accounts: roles, functions", lambda: summed(_side_by_side(lambda d: _apply(d, env), accounts)))
            step("handoff: readers", lambda: f"{len(handoff.readers(producer, accounts, output=output))} reader roles to the producer plan")
            step("producer: stream, policies", lambda: summed([_apply(producer, env)]))
            step("handoff: share", lambda: f"stream_share to {', '.join(sorted(handoff.share(producer, accounts, output=output)))}")
            step("accounts: read policies, mappings", lambda: summed(_side_by_side(lambda d: _apply(d, env), accounts)))
            out = _split_outputs(producer, accounts, env)
            merged = {
                "variable": {"consumer_accounts": {}},
                "provider": {"aws": [{"alias": "producer"}, *({"alias": a} for a in aliases)]},
                "resource": {"aws_lambda_function": {n: b for d in configs for n, b in configs[d]["resource"].get("aws_lambda_function", {}).items()}},
            }
            step("verify every account", lambda: verify_fanout(endpoint, out, merged))
            step("records through every reader", lambda: exercise_fanout(endpoint, out, merged))
            step("replan every plan: no changes", lambda: (_side_by_side(lambda d: _replan(d, env), [producer, *accounts]), "No changes.")[1])

            def destroy_all() -> str:
                # Mappings stop reading before the stream and its policies go.
                lines = _side_by_side(lambda d: _destroy(d, env, configs[d]), accounts) + [_destroy(producer, env, configs[producer])]
                destroyed = sum(int(re.search(r"(\d+) destroyed", line).group(1)) for line in lines)  # type: ignore[union-attr]
                return f"{destroyed} destroyed in {len(lines)} plans"

            step("destroy: accounts, then producer", destroy_all)
            step("verify nothing left", lambda: verify_fanout_empty(endpoint, out, merged))
    finally:
        if keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return timings


def _split_outputs(producer: Path, accounts: list[Path], env: dict[str, str]) -> dict[str, Any]:
    """The single plan's outputs, from the split plans' (what verify_fanout and exercise_fanout read)."""
    out = outputs(producer, env)
    for account_dir in accounts:
        theirs = outputs(account_dir, env)
        out["consumer_role_arns"] = {**out["consumer_role_arns"], **theirs["reader_role_arns"]}
        for name in ("consumer_function_arns", "consumer_sink_table_names", "consumer_event_source_mapping_uuids"):
            out[name] = {**out[name], **theirs[name]}
    return out


def _plan_line(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith("Plan:"))


def _replan(stack_dir: Path, env: dict[str, str]) -> str:
    result = terraform(stack_dir, env, "plan", "-input=false", "-var-file=rehearsal.tfvars", "-detailed-exitcode", ok=(0, 2))
    check(result.returncode == 0, f"the second plan is not empty:\n{result.stdout[-6000:]}")
    return "No changes."


def _destroy(stack_dir: Path, env: dict[str, str], config: dict[str, Any]) -> str:
    # Exactly what the product's teardown override changes is applied first (synthesis/teardown.py).
    targets = [f"-target={address}" for address in disable_deletion_protection(stack_dir, config)]
    # The replan just refreshed every resource and found no drift: refreshing twice more here would
    # only repeat those reads (a third of a rehearsal's CPU time goes to provider work like it).
    if targets:
        terraform(stack_dir, env, "apply", "-input=false", "-auto-approve", "-refresh=false", "-var-file=rehearsal.tfvars", *targets)
    result = terraform(stack_dir, env, "destroy", "-input=false", "-auto-approve", "-refresh=false", "-var-file=rehearsal.tfvars")
    return [l for l in result.stdout.splitlines() if l.startswith("Destroy complete")][0]


def _rehearse_one(stack_dir: Path, keep: bool, json_out: Path | None, then: Path | None = None, hcl_twin: Path | None = None) -> int:
    started = time.perf_counter()
    print(f"== {stack_dir.name}", flush=True)
    found: dict[str, Any] = {}
    try:
        timings = rehearse(stack_dir, keep=keep, then=then, hcl_twin=hcl_twin, found=found)
    except RehearsalFailed as failure:
        print(f"REHEARSAL FAILED ({stack_dir.name}): {failure}", file=sys.stderr)
        return 1
    if json_out is not None:
        steps = [{"step": name, "seconds": round(seconds, 1), "detail": detail} for name, seconds, detail in timings]
        json_out.write_text(json.dumps({"stack": stack_dir.name, "steps": steps, **found}, indent=2))
    print(f"rehearsal of {stack_dir.name} passed in {time.perf_counter() - started:.0f} s", flush=True)
    return 0


def _rehearse_split(stack_dirs: list[Path], keep: bool, json_out: Path | None) -> int:
    started = time.perf_counter()
    print(f"== split fan-out: {', '.join(d.name for d in stack_dirs)}", flush=True)
    try:
        timings = rehearse_split(stack_dirs[0], stack_dirs[1:], keep=keep)
    except RehearsalFailed as failure:
        print(f"REHEARSAL FAILED (split fan-out): {failure}", file=sys.stderr)
        return 1
    if json_out is not None:
        steps = [{"step": name, "seconds": round(seconds, 1), "detail": detail} for name, seconds, detail in timings]
        json_out.write_text(json.dumps({"stacks": [d.name for d in stack_dirs], "steps": steps}, indent=2))
    print(f"rehearsal of the split fan-out passed in {time.perf_counter() - started:.0f} s", flush=True)
    return 0


def _rehearse_concurrently(stack_dirs: list[Path], keep: bool) -> int:
    """One child process per stack (each has its own moto server: moto's state is per process); they
    mostly wait on Terraform's waiters and moto, so running them side by side costs little more than
    the longest. Each child's output is printed whole when it ends, so the lines do not interleave."""
    children = [
        (stack_dir, subprocess.Popen(
            [sys.executable, __file__, str(stack_dir), *(["--keep"] if keep else [])],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        ))
        for stack_dir in stack_dirs
    ]
    failed = []
    for stack_dir, child in children:
        output, _ = child.communicate()
        print(output, end="", flush=True)
        if child.returncode != 0:
            failed.append(stack_dir.name)
    if failed:
        print(f"REHEARSAL FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack_dirs", type=Path, nargs="*", default=[ROOT / "cdktf.out" / "stacks" / STACK], help="synthesized stacks to rehearse (several run side by side, one process each)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory for inspection")
    parser.add_argument("--json-out", type=Path, help="with one stack: write its steps, durations and details to this JSON file")
    parser.add_argument("--split", action="store_true", help="the stack directories are one split fan-out's plans, the producer's first: rehearse them together, in the handoff order")
    parser.add_argument("--then", type=Path, help="with one fan-out stack: the same stack without one consumer, planned (only its resources and the shared policies may change) and applied after the replan")
    parser.add_argument("--hcl-twin", type=Path, help="with one stack: its HCL export (main.py --hcl), planned against the same moto before the apply; the two plans must make the same changes")
    parser.add_argument("--list", action="store_true", help="name each stack's kind and rehearsal scenario (from manifest.json); run nothing")
    args = parser.parse_args()
    if args.json_out is not None and len(args.stack_dirs) != 1 and not args.split:
        print("--json-out takes one stack directory", file=sys.stderr)
        return 2
    for stack_dir in args.stack_dirs:
        if not (stack_dir / "cdk.tf.json").is_file():
            print(f"no cdk.tf.json in {stack_dir}: run 'make synth' first", file=sys.stderr)
            return 2
    try:
        scenarios = [(stack_dir, *scenario_of(stack_dir)) for stack_dir in args.stack_dirs]
    except manifest.NoKindError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.list:
        for stack_dir, kind, scenario in scenarios:
            print(f"{stack_dir.name}: kind {kind}, scenario {scenario}")
        return 0
    if shutil.which("terraform") is None:
        print("terraform is not on PATH", file=sys.stderr)
        return 2
    if args.split:
        return _rehearse_split(args.stack_dirs, args.keep, args.json_out)
    if len(args.stack_dirs) == 1:
        return _rehearse_one(args.stack_dirs[0], args.keep, args.json_out, args.then, args.hcl_twin)
    return _rehearse_concurrently(args.stack_dirs, args.keep)


if __name__ == "__main__":
    sys.exit(main())
