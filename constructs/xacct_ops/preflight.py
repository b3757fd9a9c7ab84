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
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from xacct_ops.iam.data import NoIamData
from xacct_ops.iam.engine import EngineError
from xacct_ops.iam.stack import OWNER_STATEMENTS_OUTPUT
from xacct_ops.review import live as live_policies
from xacct_streaming.settings.catalog import select
from xacct_streaming.settings.config import load_stacks
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.patterns import PARTITION_REGION_PREFIXES
from xacct_streaming.settings.props import AWS_MANAGED_KINESIS_KEY, ExistingStreamProps

SIDES = ("producer", "consumer")


@dataclass
class Result:
    name: str
    ok: bool
    detail: str


def read_tfvars(path: Path, aliases: list[str]) -> dict[str, Any]:
    import hcl2  # bc-python-hcl2, installed with checkov

    raw = hcl2.loads(path.read_text(encoding="utf-8"))
    values = {key: value[0] if isinstance(value, list) and len(value) == 1 else value for key, value in raw.items()}
    required = ["region"]
    for alias in aliases:
        if alias in SIDES:
            required += [f"{alias}_account_id", f"{alias}_deploy_role_arn"]
        elif "consumer_accounts" not in required:
            required.append("consumer_accounts")
    missing = [name for name in required if not values.get(name)]
    if missing:
        raise ConfigError(str(path), ", ".join(missing), "values for every required variable (see terraform.tfvars.example)")
    return values


def assumed(base: boto3.Session, role_arn: str, region: str, endpoint: Optional[str], session_name: str) -> boto3.Session:
    """A session on `role_arn`, assumed with `base`'s credentials (preflight, smoke)."""
    creds = base.client("sts", region_name=region, endpoint_url=endpoint).assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], region_name=region,
    )


def verified_identities(ses: Any) -> list[str]:
    """The SES identities (addresses and domains) verified in the client's account, sorted."""
    identities = ses.list_identities()["Identities"]
    status = ses.get_identity_verification_attributes(Identities=identities)["VerificationAttributes"] if identities else {}
    return sorted(i for i, attributes in status.items() if attributes.get("VerificationStatus") == "Success")


def stack_aliases(config: dict[str, Any]) -> list[str]:
    """The stack's accounts: its provider aliases, in the order the configuration declares them."""
    providers = config.get("provider", {}).get("aws", [])
    return [provider["alias"] for provider in (providers if isinstance(providers, list) else [providers])]


def accounts(tfvars: dict[str, Any], aliases: list[str]) -> dict[str, tuple[str, str]]:
    """Each account the stack deploys to: alias -> (deploy role ARN, account id)."""
    found = {}
    for alias in aliases:
        if alias in SIDES:
            found[alias] = (tfvars[f"{alias}_deploy_role_arn"], tfvars[f"{alias}_account_id"])
            continue
        mapping = tfvars["consumer_accounts"]
        if alias not in mapping:
            named = ", ".join(a for a in aliases if a not in SIDES)
            raise ConfigError("consumer_accounts", alias, f"an entry for every account the settings name ({named})")
        found[alias] = (mapping[alias]["deploy_role_arn"], mapping[alias]["account_id"])
    return found


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


def _alias_of(body: dict[str, Any]) -> str:
    return str(body.get("provider", "aws.producer")).removeprefix("aws.")


def name_checks(config: dict[str, Any], sessions: dict[str, boto3.Session], identities: dict[str, str], region: str, endpoint: Optional[str]) -> list[Result]:
    """Every name the stack creates is free in the account it creates it in (literal names only)."""
    results = []
    for type_, lookup in NAME_LOOKUPS.items():
        for body in config.get("resource", {}).get(type_, {}).values():
            name = body.get(lookup.argument)
            alias = _alias_of(body)
            if not isinstance(name, str) or "${" in name or alias not in sessions:
                continue
            if type_ == "aws_kinesis_stream_consumer" and "${" in str(body.get("stream_arn", "${")):
                continue  # a consumer of a stream this stack creates: the stream's name is checked
            if type_ == "aws_sns_topic":
                body = {**body, "__arn__": f"arn:{_partition(region)}:sns:{region}:{identities[alias]}:{name}"}
            session = sessions[alias]
            ok, detail = _absent(lambda: lookup.call(lambda service: session.client(service, endpoint_url=endpoint), name, body), lookup.missing)
            results.append(Result(f"name free: {alias}: {lookup.label} {name}", ok, detail))
    return results


def _partition(region: str) -> str:
    return next((p for p, prefixes in PARTITION_REGION_PREFIXES.items() if region.startswith(prefixes)), "aws")


# AWS keeps this many concurrent executions unreserved in every account and region.
MINIMUM_UNRESERVED = 100


def concurrency_checks(config: dict[str, Any], sessions: dict[str, boto3.Session], endpoint: Optional[str]) -> list[Result]:
    """In each account, what the stack's functions reserve leaves AWS's 100 unreserved executions."""
    reserved: dict[str, int] = {}
    for body in config.get("resource", {}).get("aws_lambda_function", {}).values():
        amount = body.get("reserved_concurrent_executions")
        if isinstance(amount, int) and amount > 0:
            reserved[_alias_of(body)] = reserved.get(_alias_of(body), 0) + amount
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
        alias = _alias_of(body)
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
OWNER_STATEMENTS_FILE = "owner-stream-policy.json"
_ROLE_ARN_REFERENCE = re.compile(r"\$\{aws_iam_role\.([A-Za-z0-9_-]+)\.arn\}")


def owner_statements(config: dict[str, Any], tfvars: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements the stream's owner must add, with exact ARNs: the configuration's output with
    each role reference replaced by the ARN the role will have (its name, in its account)."""
    value = config.get("output", {}).get(OWNER_STATEMENTS_OUTPUT, {}).get("value")
    if not value:
        return []
    region, found = tfvars["region"], accounts(tfvars, stack_aliases(config))

    def role_arn(match: re.Match[str]) -> str:
        body = config["resource"]["aws_iam_role"][match.group(1)]
        return f"arn:{_partition(region)}:iam::{found[_alias_of(body)][1]}:role{body.get('path', '/')}{body['name']}"

    text = _ROLE_ARN_REFERENCE.sub(role_arn, value)
    if "${" in text:
        raise ConfigError(f"output.{OWNER_STATEMENTS_OUTPUT}", value, "statements whose only references are role ARNs")
    return json.loads(text)["Statement"]


def _as_set(value: Any) -> set[str]:
    return set(value) if isinstance(value, list) else {value} if isinstance(value, str) else set()


def _covers(live: dict[str, Any], needed: dict[str, Any]) -> bool:
    principals = _as_set((live.get("Principal") or {}).get("AWS")) if isinstance(live.get("Principal"), dict) else set()
    return (
        live.get("Effect") == "Allow" and not live.get("Condition")
        and _as_set(needed["Principal"]["AWS"]) <= principals
        and {a.lower() for a in _as_set(needed["Action"])} <= {a.lower() for a in _as_set(live.get("Action"))}
        and _as_set(needed["Resource"]) <= _as_set(live.get("Resource"))
    )


def existing_stream_checks(
    existing: ExistingStreamProps, producer: boto3.Session, endpoint: Optional[str], needed: Optional[list[dict[str, Any]]] = None,
    needed_file: Optional[Path] = None,
) -> list[Result]:
    """The stream is there, encrypted as the settings say, and its resource policy lets this stack's
    readers in (`needed`: the owner's statements), or may be replaced (take_over_policy)."""
    kinesis = producer.client("kinesis", endpoint_url=endpoint)
    name = f"producer: existing stream {existing.stream_name}"
    try:
        summary = kinesis.describe_stream_summary(StreamARN=existing.stream_arn)["StreamDescriptionSummary"]
    except (ClientError, BotoCoreError) as error:
        return [Result(name, False, f"cannot read it: {error}")]
    results = [Result(name, True, summary.get("StreamStatus", "found"))]
    results.append(_encryption_check(existing, summary, producer, endpoint))
    results.append(_owner_policy_check(existing, kinesis, needed, needed_file) if needed else _policy_check(existing, kinesis))
    return results


def _live_statements(existing: ExistingStreamProps, kinesis: Any) -> tuple[str, list[dict[str, Any]]]:
    policy = kinesis.get_resource_policy(ResourceARN=existing.stream_arn).get("Policy") or ""
    return policy, (json.loads(policy).get("Statement", []) if policy.strip() not in ("", "{}") else [])


def _owner_policy_check(existing: ExistingStreamProps, kinesis: Any, needed: list[dict[str, Any]], needed_file: Optional[Path]) -> Result:
    name = "producer: existing stream's resource policy lets this stack's readers in"
    try:
        _, live = _live_statements(existing, kinesis)
    except (ClientError, BotoCoreError) as error:
        return Result(name, False, f"cannot read it: {error}")
    missing = [n for n in needed if not any(_covers(l, n) for l in live)]
    if not missing:
        return Result(name, True, f"the owner's policy has the {len(needed)} statement(s) (this plan does not write it)")
    where = f" (written to {needed_file})" if needed_file else ""
    return Result(
        name, False,
        f"missing {len(missing)} of {len(needed)} statement(s) ({', '.join(str(m.get('Sid')) for m in missing)}){where}: the stream's owner "
        f"(account {existing.account_id}) adds them to its policy; or set existing_stream.take_over_policy = true to let this stack write the "
        "whole policy",
    )


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
        policy, statements = _live_statements(existing, kinesis)
    except (ClientError, BotoCoreError) as error:
        return Result(name, False, f"cannot read it: {error}")
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


def api_account_checks(config: dict[str, Any], sessions: dict[str, boto3.Session], endpoint: Optional[str]) -> list[Result]:
    """API Gateway's CloudWatch role is set in the account of the stack's API (access logs need it)."""
    resources = config.get("resource", {})
    results = []
    for body in resources.get("aws_api_gateway_rest_api", {}).values():
        alias = _alias_of(body)
        name = f"{alias}: API Gateway account has a CloudWatch logging role"
        if any(_alias_of(b) == alias for b in resources.get("aws_api_gateway_account", {}).values()):
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
