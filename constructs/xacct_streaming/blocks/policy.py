"""IAM policy documents as JSON strings that may carry Terraform references.

cdktf resolves tokens (e.g. `role.arn`) inside a plain string to `${aws_iam_role.x.arn}`, so a
policy rendered here is a literal JSON template in the output: reviewers read the exact actions
and principals in `terraform plan`, tests `json.loads` it, and checkov's custom checks parse it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

from xacct_streaming.settings.errors import ConstructError

# What Lambda needs on the stream to read it through a registered consumer (AWS Lambda and
# Kinesis docs on cross-account access); nothing that writes, nothing with a wildcard.
STREAM_READ_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
# What it needs on the enhanced fan-out consumer itself.
STREAM_CONSUMER_READ_ACTIONS = (
    "kinesis:DescribeStreamConsumer",
    "kinesis:SubscribeToShard",
)

# What a producer in another account needs on the stream (Kinesis docs: cross-account data producers).
STREAM_WRITE_ACTIONS = ("kinesis:PutRecord", "kinesis:PutRecords")

# What Lambda needs on a DynamoDB stream, in the function role's policy and in the stream's
# resource policy (DynamoDB and Lambda docs on cross-account stream access).
TABLE_STREAM_READ_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
)
# What a writer needs on a table encrypted with a customer-managed key, through DynamoDB.
TABLE_KEY_USE_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey")

# The one wildcard action in the project: a key policy's statement for the key's own account root.
# It delegates the key to that account's IAM policies (AWS' default key policy does the same), and
# an enumerated list locks the owner out of every action KMS adds later (kms:RotateKeyOnDemand and
# kms:ListKeyRotations came in 2024): a key nobody can administer cannot be repaired, only replaced.
KEY_OWNER_ACTIONS = ("kms:*",)


@dataclass(frozen=True)
class Statement:
    """One Allow statement. `principals` is {"AWS": [...]} or {"Service": [...]} for resource policies.

    A trust policy's statements have no resources (the role is the resource): `resources=()`,
    rendered with `trust_policy`."""

    sid: str
    actions: Sequence[str]
    resources: Sequence[str]
    principals: Optional[Mapping[str, Sequence[str]]] = None
    conditions: Optional[Mapping[str, Mapping[str, Any]]] = field(default=None)

    def __post_init__(self) -> None:
        owner_of_key = tuple(self.actions) == KEY_OWNER_ACTIONS and bool(self.principals) and set(self.principals) == {"AWS"} and all(
            str(principal).endswith(":root") for principal in self.principals["AWS"]
        )
        for action in self.actions:
            if "*" in action and not owner_of_key:
                raise ConstructError(f"policy statement {self.sid}: action {action!r} has a '*'; a statement names exact actions")
        if not self.actions:
            raise ConstructError(f"policy statement {self.sid}: no action; a statement names at least one")

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Sid": self.sid, "Effect": "Allow"}
        if self.principals is not None:
            out["Principal"] = {kind: _one_or_many(values) for kind, values in self.principals.items()}
        out["Action"] = _one_or_many(self.actions)
        if self.resources:
            out["Resource"] = _one_or_many(self.resources)
        if self.conditions:
            out["Condition"] = {op: dict(values) for op, values in self.conditions.items()}
        return out


def _one_or_many(values: Sequence[str]) -> Any:
    # AWS stores a single value as a string; writing it the same way keeps replans empty.
    return values[0] if len(values) == 1 else list(values)


# Actions CloudWatch Logs needs on a key that encrypts a log group. Not kms:DescribeKey: the grant is
# conditioned on the log group's encryption context, which DescribeKey never carries (KMS Developer
# Guide, "AWS KMS condition keys"), so it was never allowed by it.
LOGS_KEY_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)


def logs_key_grant(sid: str, region: str, log_group_arn: str) -> Statement:
    """Key-policy statement letting CloudWatch Logs use the key for exactly one log group."""
    return Statement(
        sid=sid,
        principals={"Service": [f"logs.{region}.amazonaws.com"]},
        actions=LOGS_KEY_ACTIONS,
        resources=["*"],
        conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
    )


def dynamodb_service(region: str) -> str:
    return f"dynamodb.{region}.amazonaws.com"


def policy_document(statements: Sequence[Statement]) -> str:
    """A compact, deterministic JSON policy document."""
    for statement in statements:
        if not statement.resources:
            raise ConstructError(f"policy statement {statement.sid}: no resource; an identity or resource policy's statement names at least one")
    return _encode({"Version": "2012-10-17", "Statement": [s.render() for s in statements]})


def hcl_output() -> bool:
    return os.environ.get("SYNTH_HCL_OUTPUT") in ("true", "1")


def _encode(document: dict[str, Any]) -> str:
    if hcl_output():
        # cdktf's HCL renderer does not escape quotes in a string that holds a reference, so in
        # HCL the document is written as `jsonencode({...})`, the way people write it by hand.
        from xacct_streaming.framework import Fn

        return Fn.jsonencode(document)
    return json.dumps(document, separators=(",", ":"))


def trust_policy(statements: Sequence[Statement]) -> str:
    """A role's trust policy: statements with principals and no resources."""
    for statement in statements:
        if statement.resources or not statement.principals:
            raise ConstructError(f"trust statement {statement.sid}: a trust policy's statement has a principal and no resources")
    return _encode({"Version": "2012-10-17", "Statement": [s.render() for s in statements]})
