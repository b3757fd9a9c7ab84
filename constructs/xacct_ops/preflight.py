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
- the policies the plan writes, as they are live (read with the deploy roles), reviewed against the
  plan: access the apply would take away fails the check, listed (a statement added by hand since the
  last apply, which the apply removes: `make access-review LIVE=1` shows the whole review);
- sharing an existing stream (settings, `--config`): that the stream is there and encrypted with the
  key the settings name; and, since the plan does not write the owner's stream policy (unless
  `take_over_policy`), that the policy holds the statements this stack's readers need. Those are
  written, with exact ARNs, to `<stack dir>/owner-stream-policy.json` for the stream's owner.
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

from xacct_ops.iam.data import NoIamData
from xacct_ops.iam.engine import EngineError
from xacct_ops.review import live as live_policies
from xacct_streaming.settings.catalog import select
from xacct_streaming.settings.config import load_stacks
from xacct_streaming.settings.errors import ConfigError

from xacct_ops.deploy_accounts import SIDES, Result, accounts, alias_of, assumed, partition_of, read_tfvars, stack_aliases, verified_identities
from xacct_ops.preflight_existing import OWNER_STATEMENTS_FILE, existing_stream_checks, owner_statements


def _absent(call: Callable[[], Any], missing_codes: tuple[str, ...]) -> tuple[bool, str]:
    """(True, "free") when `call` fails with one of `missing_codes`, (False, why) otherwise."""
    try:
        call()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in missing_codes:
            return True, "free"
        if code in ("403", "AccessDenied", "Forbidden"):
            return False, "already exists (in another account)"
        return False, f"cannot tell: {code}"
    return False, "already exists"


@dataclass(frozen=True)
class NameLookup:
    """How to tell whether a named resource of one type exists in an account."""

    label: str
    argument: str  # the resource argument holding the name
    call: Callable[[Callable[[str], Any], str, dict[str, Any]], Any]  # (client of a service, name, arguments)
    missing: tuple[str, ...]


def _log_group(client: Callable[[str], Any], name: str, _: dict[str, Any]) -> Any:
    groups = client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    if not any(g["logGroupName"] == name for g in groups):
        raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "DescribeLogGroups")


def _alarm(client: Callable[[str], Any], name: str, _: dict[str, Any]) -> Any:
    if not client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]:
        raise ClientError({"Error": {"Code": "ResourceNotFound"}}, "DescribeAlarms")


NOT_FOUND = ("ResourceNotFoundException",)
# Every resource whose name must be free in its account (synth.UNIQUE_NAMES), and an EFO consumer
# of a stream that already exists.
NAME_LOOKUPS: dict[str, NameLookup] = {
    "aws_kinesis_stream": NameLookup("stream", "name", lambda c, n, _: c("kinesis").describe_stream_summary(StreamName=n), NOT_FOUND),
    "aws_kinesis_stream_consumer": NameLookup(
        "stream consumer", "name", lambda c, n, b: c("kinesis").describe_stream_consumer(StreamARN=b["stream_arn"], ConsumerName=n), NOT_FOUND
    ),
    "aws_kms_alias": NameLookup("key alias", "name", lambda c, n, _: c("kms").describe_key(KeyId=n), ("NotFoundException",)),
    "aws_lambda_function": NameLookup("function", "function_name", lambda c, n, _: c("lambda").get_function(FunctionName=n), NOT_FOUND),
    "aws_iam_role": NameLookup("role", "name", lambda c, n, _: c("iam").get_role(RoleName=n), ("NoSuchEntity",)),
    "aws_sqs_queue": NameLookup(
        "queue", "name", lambda c, n, _: c("sqs").get_queue_url(QueueName=n), ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
    ),
    "aws_dynamodb_table": NameLookup("table", "name", lambda c, n, _: c("dynamodb").describe_table(TableName=n), NOT_FOUND),
    "aws_cloudwatch_log_group": NameLookup("log group", "name", _log_group, NOT_FOUND),
    "aws_cloudwatch_metric_alarm": NameLookup("alarm", "alarm_name", _alarm, ("ResourceNotFound",)),
    "aws_kinesis_firehose_delivery_stream": NameLookup(
        "delivery stream", "name", lambda c, n, _: c("firehose").describe_delivery_stream(DeliveryStreamName=n), NOT_FOUND
    ),
    "aws_s3_bucket": NameLookup("bucket", "bucket", lambda c, n, _: c("s3").head_bucket(Bucket=n), ("404", "NoSuchBucket", "NotFound")),
    "aws_secretsmanager_secret": NameLookup("secret", "name", lambda c, n, _: c("secretsmanager").describe_secret(SecretId=n), NOT_FOUND),
    "aws_ses_configuration_set": NameLookup(
        "configuration set", "name", lambda c, n, _: c("ses").describe_configuration_set(ConfigurationSetName=n), ("ConfigurationSetDoesNotExist",)
    ),
    "aws_sns_topic": NameLookup("topic", "name", lambda c, n, b: c("sns").get_topic_attributes(TopicArn=b["__arn__"]), ("NotFound", "NotFoundException")),
}


def name_checks(config: dict[str, Any], sessions: dict[str, boto3.Session], identities: dict[str, str], region: str, endpoint: Optional[str]) -> list[Result]:
    """Every name the stack creates is free in the account it creates it in (literal names only)."""
    results = []
    for type_, lookup in NAME_LOOKUPS.items():
        for body in config.get("resource", {}).get(type_, {}).values():
            name = body.get(lookup.argument)
            alias = alias_of(body)
            if not isinstance(name, str) or "${" in name or alias not in sessions:
                continue
            if type_ == "aws_kinesis_stream_consumer" and "${" in str(body.get("stream_arn", "${")):
                continue  # a consumer of a stream this stack creates: the stream's name is checked
            if type_ == "aws_sns_topic":
                body = {**body, "__arn__": f"arn:{partition_of(region)}:sns:{region}:{identities[alias]}:{name}"}
            session = sessions[alias]
            ok, detail = _absent(lambda: lookup.call(lambda service: session.client(service, endpoint_url=endpoint), name, body), lookup.missing)
            results.append(Result(f"name free: {alias}: {lookup.label} {name}", ok, detail))
    return results


# AWS keeps this many concurrent executions unreserved in every account and region.
MINIMUM_UNRESERVED = 100


def concurrency_checks(config: dict[str, Any], sessions: dict[str, boto3.Session], endpoint: Optional[str]) -> list[Result]:
    """In each account, what the stack's functions reserve leaves AWS's 100 unreserved executions."""
    reserved: dict[str, int] = {}
    for body in config.get("resource", {}).get("aws_lambda_function", {}).values():
        amount = body.get("reserved_concurrent_executions")
        if isinstance(amount, int) and amount > 0:
            reserved[alias_of(body)] = reserved.get(alias_of(body), 0) + amount
    results = []
    for alias, amount in sorted(reserved.items()):
        if alias not in sessions:
            continue
        name = f"{alias}: Lambda concurrency leaves {MINIMUM_UNRESERVED} unreserved"
        try:
            limit = sessions[alias].client("lambda", endpoint_url=endpoint).get_account_settings()["AccountLimit"]
        except (ClientError, BotoCoreError) as error:
            results.append(Result(name, False, f"cannot tell: {error}"))
            continue
        left = limit["UnreservedConcurrentExecutions"] - amount
        detail = (f"the stack reserves {amount} of {limit['UnreservedConcurrentExecutions']} unreserved "
                  f"(account quota {limit['ConcurrentExecutions']}), leaving {left}")
        if left < MINIMUM_UNRESERVED:
            detail += (": the reservation would be refused; ask for a higher quota (Service Quotas: Lambda concurrent "
                       "executions), lower each function's reserved_concurrency, or set it to -1 (unreserved)")
        results.append(Result(name, left >= MINIMUM_UNRESERVED, detail))
    return results


def ses_identity_checks(config: dict[str, Any], sessions: dict[str, boto3.Session], endpoint: Optional[str]) -> list[Result]:
    """Where the stack has an SES configuration set, SES has a verified identity to send with."""
    results = []
    for body in config.get("resource", {}).get("aws_ses_configuration_set", {}).values():
        alias = alias_of(body)
        if alias not in sessions:
            continue
        name = f"{alias}: SES has a verified identity (for configuration set {body.get('name')})"
        ses = sessions[alias].client("ses", endpoint_url=endpoint)
        try:
            verified = verified_identities(ses)
        except (ClientError, BotoCoreError) as error:
            results.append(Result(name, False, f"cannot tell: {error}"))
            continue
        if verified:
            results.append(Result(name, True, ", ".join(verified)))
        else:
            results.append(Result(name, False, "none verified: SES sends nothing from an unverified identity, so nothing is "
                                               "notified; verify the sender (aws ses verify-domain-identity or verify-email-identity)"))
    return results


# The output a stack has when the stream's owner must add its readers' statements (accounts_stack.stream_outputs).
def api_account_checks(config: dict[str, Any], sessions: dict[str, boto3.Session], endpoint: Optional[str]) -> list[Result]:
    """API Gateway's CloudWatch role is set in the account of the stack's API (access logs need it)."""
    resources = config.get("resource", {})
    results = []
    for body in resources.get("aws_api_gateway_rest_api", {}).values():
        alias = alias_of(body)
        name = f"{alias}: API Gateway account has a CloudWatch logging role"
        if any(alias_of(b) == alias for b in resources.get("aws_api_gateway_account", {}).values()):
            results.append(Result(name, True, "managed by this stack (api.manage_account_logging_role = true)"))
            continue
        if alias not in sessions:
            continue
        try:
            role = sessions[alias].client("apigateway", endpoint_url=endpoint).get_account().get("cloudwatchRoleArn")
        except (ClientError, BotoCoreError) as error:
            results.append(Result(name, False, f"cannot tell: {error}"))
            continue
        results.append(Result(name, True, role) if role else Result(
            name, False, "none set: set it once for the account (aws apigateway update-account), or api.manage_account_logging_role = true"))
    return results


def live_policy_check(name: str, config: dict[str, Any], tfvars: dict[str, Any], sessions: dict[str, boto3.Session], identities: dict[str, str],
                      endpoint: Optional[str]) -> Result:
    """The policies the plan will write, as they are live now, reviewed against the plan: access the
    apply would take away (a statement added by hand since the last apply: the console's stream sharing
    editor, a put-resource-policy) fails the check, listed (xacct_ops/review/live.py)."""
    check = "live policies: the apply removes no access they grant"
    try:
        side = live_policies.read_live(name, config, identities, tfvars, live_policies.session_client(sessions, endpoint))
        result = live_policies.review_live(side)
    except (live_policies.LiveError, EngineError, NoIamData) as error:
        return Result(check, False, f"cannot review them: {error}")
    read = f"{len(side.read)} read, {len(side.absent)} not there yet"
    taken = [*result.removed, *result.identity_only_removed]
    if not taken:
        return Result(check, True, read)
    listed = "; ".join(f"{a.principal} {a.action} on {a.resource} ({a.granted_by})" for a in taken[:10]) + (" ..." if len(taken) > 10 else "")
    return Result(check, False, f"{read}; the apply would remove {len(taken)} grant(s) the live policies hold: {listed}. Added by hand? "
                                "Put them in the settings (or the stack's own policy) to keep them; removed on purpose by this change? "
                                "Then this is expected (make access-review LIVE=1 STACK=... shows the whole review)")


def run(tfvars: dict[str, Any], config: dict[str, Any], props: Any = None, base: Optional[boto3.Session] = None, endpoint: Optional[str] = None,
        stack_dir: Optional[Path] = None) -> list[Result]:
    """Every check of one stack: `config` its cdk.tf.json, `props` its settings (for an existing stream);
    `stack_dir`: where the owner's statements are written."""
    region = tfvars["region"]
    base = base or boto3.Session(region_name=region)
    results: list[Result] = []
    sessions: dict[str, boto3.Session] = {}
    identities: dict[str, str] = {}
    sides = accounts(tfvars, stack_aliases(config))
    for side, (role, account) in sides.items():
        try:
            session = assumed(base, role, region, endpoint, f"xacct-preflight-{side}")
        except (ClientError, BotoCoreError) as error:
            results.append(Result(f"{side}: assume {role}", False, str(error)))
            continue
        results.append(Result(f"{side}: assume {role}", True, "assumed"))
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
            identities[side] = account
    if len(sessions) == len(sides):
        existing = getattr(props, "existing_stream", None)
        if existing is not None and "producer" in sessions:
            needed = owner_statements(config, tfvars)
            needed_file = stack_dir / OWNER_STATEMENTS_FILE if stack_dir is not None and needed else None
            if needed_file is not None:
                needed_file.write_text(json.dumps({"Version": "2012-10-17", "Statement": needed}, indent=2) + "\n")
            results.extend(existing_stream_checks(existing, sessions["producer"], endpoint, needed, needed_file))
        results.extend(name_checks(config, sessions, identities, region, endpoint))
        results.extend(concurrency_checks(config, sessions, endpoint))
        results.extend(api_account_checks(config, sessions, endpoint))
        results.extend(ses_identity_checks(config, sessions, endpoint))
        results.append(live_policy_check(stack_dir.name if stack_dir is not None else "stack", config, tfvars, sessions, identities, endpoint))
    return results


def _settings_of(config_file: Optional[str], stack: str) -> Any:
    """The props of `stack` from the settings file, else from the defaults, for the settings-only checks."""
    stacks = [*select(load_stacks(config_file), []), *select([], [])] if config_file else select([], [])
    return next((props for props in stacks if props.stack_name == stack), None)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tfvars", type=Path, default=Path("terraform.tfvars"))
    parser.add_argument("--stack-dir", type=Path, required=True, help="the synthesized stack: cdktf.out/stacks/<stack> (make synth)")
    parser.add_argument("--config", default=None, help="the settings file `make synth` used (CONFIG), for an existing stream's checks")
    parser.add_argument("--endpoint-url", default=None, help=argparse.SUPPRESS)  # tests: a local AWS
    args = parser.parse_args(argv)
    try:
        config_file = args.stack_dir / "cdk.tf.json"
        if not config_file.is_file():
            raise ConfigError("--stack-dir", str(args.stack_dir), "a synthesized stack directory with cdk.tf.json (run make synth)")
        config = json.loads(config_file.read_text())
        props = _settings_of(args.config, args.stack_dir.name)
        tfvars = read_tfvars(args.tfvars, stack_aliases(config))
        accounts(tfvars, stack_aliases(config))  # every account the stack names is in the tfvars: a usage error otherwise
    except (ConfigError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    results = run(tfvars, config, props, endpoint=args.endpoint_url, stack_dir=args.stack_dir)
    for result in results:
        print(f"{'PASS' if result.ok else 'FAIL'}  {result.name}: {result.detail}")
    failed = sum(not r.ok for r in results)
    print(f"preflight checks: {len(results) - failed} ok, {failed} failing")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
