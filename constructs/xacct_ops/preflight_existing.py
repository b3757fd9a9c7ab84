"""Preflight of an existing stream a stack shares (settings `[existing_stream]`): there, encrypted with
the key the settings name, and, since the plan does not write the owner's stream policy (unless
`take_over_policy`), holding the statements this stack's readers need; those are written, with exact
ARNs, to `<stack dir>/owner-stream-policy.json` for the stream's owner."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from xacct_ops.iam.stack import OWNER_STATEMENTS_OUTPUT
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.props import AWS_MANAGED_KINESIS_KEY, ExistingStreamProps

from xacct_ops.deploy_accounts import Result, accounts, alias_of, partition_of, stack_aliases


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
        return f"arn:{partition_of(region)}:iam::{found[alias_of(body)][1]}:role{body.get('path', '/')}{body['name']}"

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
