"""`make preflight`: checks, before a plan, that a stack's deployment can work, for every stack kind.

Reads the synthesized stack (`--stack-dir`, its cdk.tf.json: which accounts, which named resources,
which functions reserve concurrency) and the tfvars. For each account of the stack (producer,
consumer, or a fan-out's consumer accounts): the deploy role from the tfvars can be assumed with the
caller's credentials, the credentials land in the account the tfvars name, and STS answers in the
configured region. Then, in each account:
- every name the stack will create there is still free (streams, tables, roles, functions, queues,
  key aliases, log groups, alarms, topics, secrets, buckets, delivery streams, configuration sets);
- Lambda concurrency: what the stack's functions reserve leaves the 100 unreserved executions AWS
  requires (a new account's quota can be 10, where reserving anything fails);
- API Gateway's CloudWatch role is set where the stack has an API and does not manage that
  account-wide setting; SES has a verified identity where the stack has a configuration set (SES
  sends nothing, and so notifies nothing, from an unverified one);
- sharing an existing stream (settings, `--config`): that the stream is there, encrypted with the key
  the settings name, and carries no resource policy this stack would replace unless allowed.
One PASS/FAIL line per check; exit status 1 if any check failed, 2 for unusable input.

    python -m xacct_ops.preflight --tfvars terraform.tfvars --stack-dir cdktf.out/stacks/<stack> [--config settings.toml]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from xacct_streaming.settings.config import load_props
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.fanout_props import FanoutStackProps
from xacct_streaming.settings.props import AWS_MANAGED_KINESIS_KEY, ExistingStreamProps, StackProps
from xacct_streaming.settings.stack_props import ApiIngestStackProps

SIDES = ("producer", "consumer")


@dataclass
class Result:
    name: str
    ok: bool
    detail: str


def read_tfvars(path: Path, fanout: bool = False) -> dict[str, Any]:
    import hcl2  # bc-python-hcl2, installed with checkov

    raw = hcl2.loads(path.read_text(encoding="utf-8"))
    values = {key: value[0] if isinstance(value, list) and len(value) == 1 else value for key, value in raw.items()}
    required = ("region", "producer_account_id", "producer_deploy_role_arn", *(("consumer_accounts",) if fanout else ("consumer_account_id", "consumer_deploy_role_arn")))
    missing = [name for name in required if not values.get(name)]
    if missing:
        raise ConfigError(str(path), ", ".join(missing), "values for every required variable (see terraform.tfvars.example)")
    return values


def accounts(tfvars: dict[str, Any], props: Any) -> dict[str, tuple[str, str]]:
    """Each account the stack deploys to: name -> (deploy role ARN, account id)."""
    found = {"producer": (tfvars["producer_deploy_role_arn"], tfvars["producer_account_id"])}
    if isinstance(props, FanoutStackProps):
        mapping = tfvars["consumer_accounts"]
        for name in props.accounts:
            if name not in mapping:
                raise ConfigError("consumer_accounts", name, f"an entry for every account the settings name ({', '.join(props.accounts)})")
            found[name] = (mapping[name]["deploy_role_arn"], mapping[name]["account_id"])
    else:
        found["consumer"] = (tfvars["consumer_deploy_role_arn"], tfvars["consumer_account_id"])
    return found


def fanout_checks(props: FanoutStackProps, sessions: dict[str, boto3.Session], endpoint: Optional[str]) -> list[Result]:
    """Every consumer's names are free in its account, the stream's and EFO consumers' in the producer's."""
    producer = sessions["producer"]
    results = []
    if props.existing_stream is not None:
        results.extend(existing_stream_checks(props.existing_stream, producer, endpoint))
    else:
        ok, detail = _absent(lambda: producer.client("kinesis", endpoint_url=endpoint).describe_stream_summary(StreamName=props.stream.stream_name), ("ResourceNotFoundException",))
        results.append(Result(f"name free: producer: stream {props.stream.stream_name}", ok, detail))
    for consumer in props.consumers:
        assert consumer.function is not None and consumer.sink is not None
        session = sessions[consumer.account]
        function = consumer.function
        for label, call, codes in (
            (f"function {function.function_name}", lambda: session.client("lambda", endpoint_url=endpoint).get_function(FunctionName=function.function_name), ("ResourceNotFoundException",)),
            (f"role {function.role_name}", lambda: session.client("iam", endpoint_url=endpoint).get_role(RoleName=function.role_name), ("NoSuchEntity",)),
            (f"table {consumer.sink.table_name}", lambda: session.client("dynamodb", endpoint_url=endpoint).describe_table(TableName=consumer.sink.table_name), ("ResourceNotFoundException",)),
        ):
            ok, detail = _absent(call, codes)
            results.append(Result(f"name free: {consumer.account}: {label}", ok, detail))
    return results


def _absent(call: Callable[[], Any], missing_codes: tuple[str, ...]) -> tuple[bool, str]:
    """(True, "free") when `call` fails with one of `missing_codes`, (False, why) otherwise."""
    try:
        call()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in missing_codes:
            return True, "free"
        return False, f"cannot tell: {code}"
    return False, "already exists"


def name_checks(props: StackProps, sessions: dict[str, boto3.Session], endpoint: Optional[str]) -> list[Result]:
    producer, consumer = sessions["producer"], sessions["consumer"]

    def client(session: boto3.Session, service: str) -> Any:
        return session.client(service, endpoint_url=endpoint)

    stream, function, sink, existing = props.stream, props.function, props.sink, props.existing_stream
    checks: list[tuple[str, Callable[[], Any], tuple[str, ...]]] = [
        (f"producer: stream {stream.stream_name}", lambda: client(producer, "kinesis").describe_stream_summary(StreamName=stream.stream_name), ("ResourceNotFoundException",)),
        (f"producer: key alias {stream.key_alias}", lambda: client(producer, "kms").describe_key(KeyId=stream.key_alias), ("NotFoundException",)),
    ] if existing is None else [
        (
            f"producer: stream consumer {existing.consumer_name}",
            lambda: client(producer, "kinesis").describe_stream_consumer(StreamARN=existing.stream_arn, ConsumerName=existing.consumer_name),
            ("ResourceNotFoundException",),
        ),
    ]
    checks += [
        (f"consumer: function {function.function_name}", lambda: client(consumer, "lambda").get_function(FunctionName=function.function_name), ("ResourceNotFoundException",)),
        (f"consumer: role {function.role_name}", lambda: client(consumer, "iam").get_role(RoleName=function.role_name), ("NoSuchEntity",)),
        (f"consumer: key alias {function.key_alias}", lambda: client(consumer, "kms").describe_key(KeyId=function.key_alias), ("NotFoundException",)),
        (f"consumer: queue {function.dead_letter_queue_name}", lambda: client(consumer, "sqs").get_queue_url(QueueName=function.dead_letter_queue_name), ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")),
        (f"consumer: queue {function.on_failure_queue_name}", lambda: client(consumer, "sqs").get_queue_url(QueueName=function.on_failure_queue_name), ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")),
    ]
    if sink.creates_table:
        checks.append((f"consumer: table {sink.table_name}", lambda: client(consumer, "dynamodb").describe_table(TableName=sink.table_name), ("ResourceNotFoundException",)))
    results = []
    for name, call, codes in checks:
        ok, detail = _absent(call, codes)
        results.append(Result(f"name free: {name}", ok, detail))
    groups = client(consumer, "logs").describe_log_groups(logGroupNamePrefix=function.log_group_name)["logGroups"]
    taken = any(g["logGroupName"] == function.log_group_name for g in groups)
    results.append(Result(f"name free: consumer: log group {function.log_group_name}", not taken, "already exists" if taken else "free"))
    return results


def existing_stream_checks(existing: ExistingStreamProps, producer: boto3.Session, endpoint: Optional[str]) -> list[Result]:
    """The stream is there, encrypted as the settings say, and its resource policy may be written."""
    kinesis = producer.client("kinesis", endpoint_url=endpoint)
    name = f"producer: existing stream {existing.stream_name}"
    try:
        summary = kinesis.describe_stream_summary(StreamARN=existing.stream_arn)["StreamDescriptionSummary"]
    except (ClientError, BotoCoreError) as error:
        return [Result(name, False, f"cannot read it: {error}")]
    results = [Result(name, True, summary.get("StreamStatus", "found"))]
    results.append(_encryption_check(existing, summary, producer, endpoint))
    results.append(_policy_check(existing, kinesis))
    return results


def _encryption_check(existing: ExistingStreamProps, summary: dict[str, Any], producer: boto3.Session, endpoint: Optional[str]) -> Result:
    name = "producer: existing stream's key"
    if summary.get("EncryptionType", "NONE") != "KMS":
        if existing.key_arn is not None:
            return Result(name, False, "the stream is not encrypted, but existing_stream.key_arn is set: leave it out or encrypt the stream with that key")
        return Result(name, True, "not encrypted (no key to share)")
    key_id = summary.get("KeyId", "")
    aws_managed = Result(
        name, False,
        "encrypted with the AWS-managed aws/kinesis key, which no other account can use: re-encrypt it with a "
        "customer-managed key (kinesis start-stream-encryption) and set existing_stream.key_arn",
    )
    if key_id.endswith(AWS_MANAGED_KINESIS_KEY):
        return aws_managed
    try:
        metadata = producer.client("kms", endpoint_url=endpoint).describe_key(KeyId=key_id)["KeyMetadata"]
    except (ClientError, BotoCoreError) as error:
        return Result(name, False, f"cannot read key {key_id}: {error}")
    if metadata.get("KeyManager") == "AWS":
        return aws_managed
    if metadata["Arn"] != existing.key_arn:
        return Result(name, False, f"encrypted with {metadata['Arn']}; existing_stream.key_arn says {existing.key_arn}")
    return Result(name, True, metadata["Arn"])


def _policy_check(existing: ExistingStreamProps, kinesis: Any) -> Result:
    name = "producer: existing stream's resource policy"
    try:
        policy = kinesis.get_resource_policy(ResourceARN=existing.stream_arn).get("Policy") or ""
    except (ClientError, BotoCoreError) as error:
        return Result(name, False, f"cannot read it: {error}")
    statements = json.loads(policy).get("Statement", []) if policy.strip() not in ("", "{}") else []
    if not statements:
        return Result(name, True, "none: this stack writes the only one")
    sids = ", ".join(str(s.get("Sid", "(no Sid)")) for s in statements)
    if existing.take_over_policy:
        return Result(name, True, f"replaced by this stack's (existing_stream.take_over_policy = true); it held: {policy}")
    return Result(
        name, False,
        f"it already has one ({len(statements)} statement(s): {sids}) and a stream has only one: applying would replace it. "
        "Move its statements into the stack that owns the stream, or set existing_stream.take_over_policy = true",
    )


def api_account_checks(props: ApiIngestStackProps, sessions: dict[str, boto3.Session], endpoint: Optional[str]) -> list[Result]:
    """API Gateway's CloudWatch role is set in the consumer account (access logs need it)."""
    name = "consumer: API Gateway account has a CloudWatch logging role"
    if props.api.manage_account_logging_role:
        return [Result(name, True, "managed by this stack (api.manage_account_logging_role = true)")]
    try:
        role = sessions["consumer"].client("apigateway", endpoint_url=endpoint).get_account().get("cloudwatchRoleArn")
    except (ClientError, BotoCoreError) as error:
        return [Result(name, False, f"cannot tell: {error}")]
    if role:
        return [Result(name, True, role)]
    return [Result(name, False, "none set: set it once for the account (aws apigateway update-account), or api.manage_account_logging_role = true")]


def run(tfvars: dict[str, Any], props: Any, base: Optional[boto3.Session] = None, endpoint: Optional[str] = None) -> list[Result]:
    region = tfvars["region"]
    base = base or boto3.Session(region_name=region)
    results: list[Result] = []
    sessions: dict[str, boto3.Session] = {}
    sides = accounts(tfvars, props)
    for side, (role, account) in sides.items():
        try:
            creds = base.client("sts", region_name=region, endpoint_url=endpoint).assume_role(
                RoleArn=role, RoleSessionName=f"xacct-preflight-{side}"
            )["Credentials"]
        except (ClientError, BotoCoreError) as error:
            results.append(Result(f"{side}: assume {role}", False, str(error)))
            continue
        results.append(Result(f"{side}: assume {role}", True, "assumed"))
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"], region_name=region,
        )
        try:
            identity = session.client("sts", endpoint_url=endpoint).get_caller_identity()
        except (ClientError, BotoCoreError) as error:
            results.append(Result(f"{side}: STS in {region}", False, str(error)))
            continue
        results.append(Result(f"{side}: STS in {region}", True, "answers"))
        lands = identity["Account"] == account
        where = f"{side}_account_id" if side in SIDES else f"consumer_accounts.{side}"
        results.append(Result(f"{side}: lands in {where} {account}", lands, "yes" if lands else f"lands in {identity['Account']}"))
        if lands:
            sessions[side] = session
    if len(sessions) == len(sides):
        if isinstance(props, FanoutStackProps):
            results.extend(fanout_checks(props, sessions, endpoint))
        elif isinstance(props, StackProps):
            if props.existing_stream is not None:
                results.extend(existing_stream_checks(props.existing_stream, sessions["producer"], endpoint))
            results.extend(name_checks(props, sessions, endpoint))
        elif isinstance(props, ApiIngestStackProps):
            results.extend(api_account_checks(props, sessions, endpoint))
    return results


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tfvars", type=Path, default=Path("terraform.tfvars"))
    parser.add_argument("--config", default=None, help="the settings file `make synth` uses (CONFIG)")
    parser.add_argument("--endpoint-url", default=None, help=argparse.SUPPRESS)  # tests: a local AWS
    args = parser.parse_args(argv)
    try:
        props = load_props(args.config)
        if not isinstance(props, (StackProps, ApiIngestStackProps, FanoutStackProps)):
            raise ConfigError("kind", type(props).__name__, "a settings file of the xacct-kinesis-efo, xacct-api-ingest or xacct-kinesis-fanout stack (what preflight checks)")
        tfvars = read_tfvars(args.tfvars, fanout=isinstance(props, FanoutStackProps))
        accounts(tfvars, props)  # every account the settings name is in the tfvars: a usage error otherwise
    except (ConfigError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    results = run(tfvars, props, endpoint=args.endpoint_url)
    for result in results:
        print(f"{'PASS' if result.ok else 'FAIL'}  {result.name}: {result.detail}")
    failed = sum(not r.ok for r in results)
    print(f"preflight checks: {len(results) - failed} ok, {failed} failing")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
