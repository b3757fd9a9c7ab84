"""StackVariables: the Terraform variables a user fills in (terraform.tfvars), each validated."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

from xacct_streaming.framework import TerraformVariable, Token, TerraformVariableValidationConfig
from constructs import Construct

from xacct_streaming.settings import patterns

ACCOUNT_ID_REGEX = patterns.anchored(patterns.ACCOUNT_ID)
REGION_REGEX = patterns.anchored(patterns.REGION)
ROLE_ARN_REGEX = patterns.anchored(patterns.ROLE_ARN)


@dataclass(frozen=True)
class VariableSpec:
    name: str
    type: str
    description: str
    validations: tuple[tuple[str, str], ...]
    default: object = None


def _role_arn_rules(side: str) -> tuple[tuple[str, str], ...]:
    var = f"var.{side}_deploy_role_arn"
    return (
        (
            f'${{can(regex("{ROLE_ARN_REGEX}", {var}))}}',
            f"{side}_deploy_role_arn must be an IAM role ARN such as arn:aws:iam::111111111111:role/deploy.",
        ),
        (
            f'${{try(split(":", {var})[4], "") == var.{side}_account_id}}',
            f"{side}_deploy_role_arn must be a role in {side}_account_id (the account id inside the ARN differs).",
        ),
        (
            # A role ARN's partition follows from the region: aws-cn for cn-*, aws-us-gov for us-gov-*.
            f'${{try(split(":", {var})[1], "") == (startswith(var.region, "cn-") ? "aws-cn" : '
            f'startswith(var.region, "us-gov-") ? "aws-us-gov" : "aws")}}',
            f"{side}_deploy_role_arn must be in the partition of region (arn:aws-cn for cn-*, arn:aws-us-gov for us-gov-*, arn:aws otherwise).",
        ),
    )


SPECS: tuple[VariableSpec, ...] = (
    VariableSpec(
        "region",
        "string",
        "AWS region of both accounts' resources; the event source mapping must be in the stream's region.",
        ((f'${{can(regex("{REGION_REGEX}", var.region))}}', "region must be an AWS region name such as eu-west-1."),),
    ),
    VariableSpec(
        "producer_account_id",
        "string",
        "12-digit id of the producer account: the shared stream (or, in xacct-dynamodb-streams, table) and its KMS key.",
        (
            (
                f'${{can(regex("{ACCOUNT_ID_REGEX}", var.producer_account_id))}}',
                "producer_account_id must be exactly 12 digits.",
            ),
        ),
    ),
    VariableSpec(
        "consumer_account_id",
        "string",
        "12-digit id of the consumer account: the other side of the stack (README: the stack's section); must differ from producer_account_id.",
        (
            (
                f'${{can(regex("{ACCOUNT_ID_REGEX}", var.consumer_account_id))}}',
                "consumer_account_id must be exactly 12 digits.",
            ),
            (
                "${var.consumer_account_id != var.producer_account_id}",
                "consumer_account_id must differ from producer_account_id: this stack shares a stream across two accounts.",
            ),
        ),
    ),
    VariableSpec(
        "producer_deploy_role_arn",
        "string",
        "Role Terraform assumes to deploy into the producer account.",
        _role_arn_rules("producer"),
    ),
    VariableSpec(
        "consumer_deploy_role_arn",
        "string",
        "Role Terraform assumes to deploy into the consumer account.",
        _role_arn_rules("consumer"),
    ),
    VariableSpec(
        "tags",
        "map(string)",
        "Tags applied to every resource in both accounts (provider default_tags).",
        (
            (
                '${length(var.tags) <= 40 && alltrue([for k, v in var.tags : '
                'length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])}',
                "tags must be at most 40 entries, keys 1-128 and values up to 256 characters, no key starting with aws:.",
            ),
        ),
        default={},
    ),
)


_BY_NAME = {spec.name: spec for spec in SPECS}
_ACCOUNTS = "var.consumer_accounts"
ACCOUNT_NAME_REGEX = "^[a-z][a-z0-9_]{0,30}$"

# The fan-out stack's accounts: the producer's as above, every consumer account in one map.
FANOUT_SPECS: tuple[VariableSpec, ...] = (
    _BY_NAME["region"],
    _BY_NAME["producer_account_id"],
    _BY_NAME["producer_deploy_role_arn"],
    VariableSpec(
        "consumer_accounts",
        "map(object({account_id = string, deploy_role_arn = string}))",
        "The consumer accounts, by the logical names the settings' [[consumers]] use: each account's 12-digit id and the role Terraform assumes to deploy there.",
        (
            (
                f'${{alltrue([for name in keys({_ACCOUNTS}) : can(regex("{ACCOUNT_NAME_REGEX}", name)) && name != "producer"])}}',
                'consumer_accounts keys must be logical account names (a-z 0-9 _, starting with a letter), not "producer" (the producer account is producer_account_id).',
            ),
            (
                f'${{alltrue([for a in values({_ACCOUNTS}) : can(regex("{ACCOUNT_ID_REGEX}", a.account_id))])}}',
                "consumer_accounts: every account_id must be exactly 12 digits.",
            ),
            (
                f"${{length(distinct([for a in values({_ACCOUNTS}) : a.account_id])) == length({_ACCOUNTS})}}",
                "consumer_accounts: two names have the same account_id; give each account one name.",
            ),
            (
                f"${{!contains([for a in values({_ACCOUNTS}) : a.account_id], var.producer_account_id)}}",
                'consumer_accounts: an account_id is producer_account_id; consumers in the producer account use account = "producer" in the settings.',
            ),
            (
                f'${{alltrue([for a in values({_ACCOUNTS}) : can(regex("{ROLE_ARN_REGEX}", a.deploy_role_arn)) && try(split(":", a.deploy_role_arn)[4], "") == a.account_id])}}',
                "consumer_accounts: every deploy_role_arn must be an IAM role ARN in its own account_id.",
            ),
            (
                f'${{alltrue([for a in values({_ACCOUNTS}) : try(split(":", a.deploy_role_arn)[1], "") == (startswith(var.region, "cn-") ? "aws-cn" : '
                f'startswith(var.region, "us-gov-") ? "aws-us-gov" : "aws")])}}',
                "consumer_accounts: every deploy_role_arn must be in the partition of region (arn:aws-cn for cn-*, arn:aws-us-gov for us-gov-*, arn:aws otherwise).",
            ),
        ),
    ),
    _BY_NAME["tags"],
)


_PARTITION_OF_REGION = '(startswith(var.region, "cn-") ? "aws-cn" : startswith(var.region, "us-gov-") ? "aws-us-gov" : "aws")'
_READERS = "var.reader_role_arns"
_SHARE = "var.stream_share"
STREAM_ARN_REGEX = patterns.anchored(patterns.STREAM_ARN.replace("?P<partition>", "").replace("?P<region>", "").replace("?P<account>", "").replace("?P<name>", ""))

# A split fan-out's producer plan: the producer account alone, and the readers' role ARNs that the
# consumer account plans output (`python -m xacct_ops.handoff readers`).
FANOUT_PRODUCER_SPECS: tuple[VariableSpec, ...] = (
    _BY_NAME["region"],
    _BY_NAME["producer_account_id"],
    _BY_NAME["producer_deploy_role_arn"],
    VariableSpec(
        "reader_role_arns",
        "map(string)",
        "Execution role ARN of each cross-account consumer, by consumer name: the reader_role_arns outputs of the consumer account plans (python -m xacct_ops.handoff readers).",
        (
            (
                f'${{alltrue([for arn in values({_READERS}) : can(regex("{ROLE_ARN_REGEX}", arn))])}}',
                "reader_role_arns: every value must be an IAM role ARN such as arn:aws:iam::111111111111:role/reader.",
            ),
            (
                f'${{alltrue([for arn in values({_READERS}) : try(split(":", arn)[1], "") == {_PARTITION_OF_REGION}])}}',
                "reader_role_arns: every role must be in the partition of region (arn:aws-cn for cn-*, arn:aws-us-gov for us-gov-*, arn:aws otherwise).",
            ),
            (
                f'${{alltrue([for arn in values({_READERS}) : try(split(":", arn)[4], "") != var.producer_account_id])}}',
                "reader_role_arns: a role is in producer_account_id; consumers in the producer account are in this plan and need no entry.",
            ),
        ),
    ),
    _BY_NAME["tags"],
)

# A split fan-out's consumer account plan: that account alone, and its share of the stream once
# the producer plan has been applied (`python -m xacct_ops.handoff share`).
FANOUT_ACCOUNT_SPECS: tuple[VariableSpec, ...] = (
    _BY_NAME["region"],
    VariableSpec(
        "consumer_account_id",
        "string",
        "12-digit id of this plan's consumer account.",
        ((f'${{can(regex("{ACCOUNT_ID_REGEX}", var.consumer_account_id))}}', "consumer_account_id must be exactly 12 digits."),),
    ),
    VariableSpec(
        "consumer_deploy_role_arn",
        "string",
        "Role Terraform assumes to deploy into this plan's consumer account.",
        _role_arn_rules("consumer"),
    ),
    VariableSpec(
        "stream_share",
        "object({stream_arn = string, key_arn = optional(string), event_source_arns = map(string)})",
        "This account's entry of the producer plan's stream_shares output (python -m xacct_ops.handoff share). "
        "Left out (stream_arn empty), the plan creates the readers' roles and functions but no read policy and no mapping.",
        (
            (
                f'${{{_SHARE}.stream_arn == "" || can(regex("{STREAM_ARN_REGEX}", {_SHARE}.stream_arn))}}',
                "stream_share.stream_arn must be empty or a Kinesis stream ARN such as arn:aws:kinesis:eu-west-1:111111111111:stream/orders.",
            ),
            (
                f'${{{_SHARE}.stream_arn == "" || try(split(":", {_SHARE}.stream_arn)[3], "") == var.region}}',
                "stream_share.stream_arn must be in region: a mapping reads a stream of its own region.",
            ),
            (
                f'${{{_SHARE}.stream_arn == "" || try(split(":", {_SHARE}.stream_arn)[4], "") != var.consumer_account_id}}',
                "stream_share.stream_arn is in consumer_account_id: the stream is the producer's; consumers in the producer account belong to the producer plan.",
            ),
        ),
        default={"stream_arn": "", "event_source_arns": {}},
    ),
    _BY_NAME["tags"],
)


class StackVariables:
    """Creates one TerraformVariable per spec directly on the stack.

    Not a construct of its own: a variable directly under the stack keeps exactly its name in
    the output, which is what users write in terraform.tfvars.
    """

    def __init__(self, stack: Construct, specs: Sequence[VariableSpec] = ()) -> None:
        self.by_name: dict[str, TerraformVariable] = {}
        self._values: dict[str, str] = {}
        for spec in specs or SPECS:
            variable = TerraformVariable(
                stack,
                spec.name,
                type=spec.type,
                description=spec.description,
                default=spec.default,
                nullable=False,
                validation=[
                    TerraformVariableValidationConfig(condition=condition, error_message=message)
                    for condition, message in spec.validations
                ],
            )
            self.by_name[spec.name] = variable

    def require(self, name: str, condition: str, error_message: str) -> None:
        """One more rule on variable `name`, for what this stack's settings fix (an existing
        stream's account and region): a bad tfvars value fails at plan, before any AWS call."""
        self.by_name[name].add_validation(condition=condition, error_message=error_message)

    def __getitem__(self, name: str) -> str:
        # Fixed tokens, read once each: every read is a round trip to the jsii kernel.
        if name not in self._values:
            self._values[name] = self.by_name[name].string_value
        return self._values[name]

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._tags)  # a copy: callers merge their own tags into it

    @functools.cached_property
    def _tags(self) -> dict[str, str]:
        return Token.as_string_map(self.by_name["tags"].value)
