"""Values of `${...}` references in a synthesized stack, with one stand-in scheme for what the
configuration does not say: the producer 111111111111, the consumer 222222222222, each other account
(a fan-out's) an id derived from its name alone (`stable_account_id`: adding an account changes no
other's), eu-west-1, and each resource's attributes made from its own arguments. `state` (address ->
attributes, from `terraform show -json` of a state or a plan) gives real values instead.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any, Optional

REGION, OTHER_REGION = "eu-west-1", "us-east-1"
ACCOUNTS = {"aws.producer": "111111111111", "aws.consumer": "222222222222"}
# A principal in no account the stacks declare (not 333333333333: the test settings put a sink there).
THIRD_ACCOUNT = "444455556666"
VARIABLES = {"region": REGION, "producer_account_id": ACCOUNTS["aws.producer"], "consumer_account_id": ACCOUNTS["aws.consumer"]}
REFERENCE = re.compile(r"\$\{([^{}]+)\}")
# An EFO consumer's creation time as AWS writes it at the end of its ARN (moto leaves it out).
CONSUMER_CREATED = "1767225600"


def stable_account_id(alias: str) -> str:
    """A fan-out account's stand-in id from its name, so adding an account changes no other's id."""
    return f"{int(hashlib.sha256(alias.encode()).hexdigest(), 16) % 10**11 + 10**11:012d}"


def stand_in_accounts(config: dict[str, Any]) -> dict[str, str]:
    """Provider alias (aws.<name>) -> stand-in id, for every account but the producer and consumer."""
    aliases = [p["alias"] for p in config.get("provider", {}).get("aws", []) if "alias" in p]
    return {f"aws.{a}": stable_account_id(a) for a in aliases if f"aws.{a}" not in ACCOUNTS}


class Resolver:
    """Values of `${...}` in a synthesized stack: stand-ins made from each resource's own arguments."""

    def __init__(self, config: dict[str, Any], state: Optional[dict[str, dict[str, Any]]] = None,
                 accounts: Optional[dict[str, str]] = None, variables: Optional[dict[str, Any]] = None) -> None:
        self.config = config
        self.state = state or {}
        self.variables = {**VARIABLES, **(variables or {})}
        self.resources = {f"{t}.{n}": body for t, group in config.get("resource", {}).items() for n, body in group.items()}
        # A fan-out stack's other accounts (aws.<name>, var.consumer_accounts.<name>) get ids of their own
        # (`accounts`: given ones, alias -> id).
        self.accounts = {**ACCOUNTS, **stand_in_accounts(config), **(accounts or {})}
        # A split fan-out's account plan: its one account is the consumer account.
        if "consumer_account_id" in config.get("variable", {}) and "consumer_account_id" not in (variables or {}):
            own = [a for a in self.accounts if a not in ACCOUNTS]
            if len(own) == 1:
                self.variables["consumer_account_id"] = self.accounts[own[0]]

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            if REFERENCE.fullmatch(value):
                return self.expression(REFERENCE.fullmatch(value).group(1))  # type: ignore[union-attr]
            return REFERENCE.sub(lambda m: str(self.expression(m.group(1))), value)
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items() if k != "//"}
        return value

    def expression(self, text: str) -> Any:
        accounts = re.fullmatch(r"var\.consumer_accounts\.([a-z0-9_]+)\.(account_id|deploy_role_arn)", text)
        if accounts:
            account = self.accounts[f"aws.{accounts.group(1)}"]
            return account if accounts.group(2) == "account_id" else f"arn:aws:iam::{account}:role/terraform-deploy"
        if text.startswith("var."):
            value: Any = self.variables
            for part in text[4:].split("."):  # var.stream_share.event_source_arns.analytics
                if not isinstance(value, dict) or part not in value:
                    return f"<{text}>"  # a variable with no value given: unresolved, never guessed
                value = value[part]
            return value
        if text == "data.aws_partition.partition.partition":
            return "aws"
        match = re.fullmatch(r"(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)", text)
        if match is None:
            return f"<{text}>"
        address, attribute = f"{match.group(1)}.{match.group(2)}", match.group(3)
        if address in self.state and attribute in self.state[address]:
            return self.state[address][attribute]
        return self.attribute(match.group(1), self.resources.get(address, {}), attribute, address)

    def account_of(self, body: dict[str, Any]) -> str:
        return self.accounts.get(body.get("provider", ""), "000000000000")

    def attribute(self, type_: str, body: dict[str, Any], attribute: str, address: str) -> Any:
        acct, arg = self.account_of(body), (lambda key: self(body.get(key, "")))
        name = arg("name")
        if type_ == "aws_iam_role":
            return {"arn": f"arn:aws:iam::{acct}:role/{name}", "id": name, "name": name}.get(attribute)
        if type_ == "aws_kinesis_stream":
            arn = f"arn:aws:kinesis:{REGION}:{acct}:stream/{name}"
            return {"arn": arn, "id": arn, "name": name}.get(attribute)
        if type_ == "aws_kinesis_stream_consumer":
            return {"arn": f"{arg('stream_arn')}/consumer/{name}:{CONSUMER_CREATED}", "name": name}.get(attribute)
        if type_ == "aws_kms_key":
            key_id = str(uuid.uuid5(uuid.NAMESPACE_URL, address))
            return {"arn": f"arn:aws:kms:{REGION}:{acct}:key/{key_id}", "key_id": key_id, "id": key_id}.get(attribute)
        if type_ == "aws_sqs_queue":
            return {"arn": f"arn:aws:sqs:{REGION}:{acct}:{name}", "url": f"https://sqs.{REGION}.amazonaws.com/{acct}/{name}", "name": name}.get(attribute)
        if type_ == "aws_dynamodb_table":
            arn = f"arn:aws:dynamodb:{REGION}:{acct}:table/{name}"
            return {"arn": arn, "stream_arn": f"{arn}/stream/2026-01-01T00:00:00.000", "name": name, "id": name}.get(attribute)
        if type_ == "aws_s3_bucket":
            bucket = arg("bucket")
            return {"arn": f"arn:aws:s3:::{bucket}", "id": bucket, "bucket": bucket}.get(attribute)
        if type_ == "aws_cloudwatch_log_group":
            return {"arn": f"arn:aws:logs:{REGION}:{acct}:log-group:{name}", "name": name}.get(attribute)
        if type_ == "aws_lambda_function":
            function = arg("function_name")
            arn = f"arn:aws:lambda:{REGION}:{acct}:function:{function}"
            invoke = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"
            return {"arn": arn, "function_name": function, "invoke_arn": invoke}.get(attribute)
        if type_ == "aws_sns_topic":
            arn = f"arn:aws:sns:{REGION}:{acct}:{name}"
            return {"arn": arn, "id": arn}.get(attribute)
        if type_ == "aws_secretsmanager_secret":
            arn = f"arn:aws:secretsmanager:{REGION}:{acct}:secret:{name}-AbCdEf"
            return {"arn": arn, "id": arn, "name": name}.get(attribute)
        if type_ == "aws_kinesis_firehose_delivery_stream":
            return {"arn": f"arn:aws:firehose:{REGION}:{acct}:deliverystream/{name}", "name": name}.get(attribute)
        if type_ == "aws_api_gateway_rest_api":
            return {"id": "a1b2c3d4e5", "execution_arn": f"arn:aws:execute-api:{REGION}:{acct}:a1b2c3d4e5", "root_resource_id": "r00t"}.get(attribute)
        if type_ == "aws_cloudwatch_metric_alarm":
            alarm = arg("alarm_name")
            return {"arn": f"arn:aws:cloudwatch:{REGION}:{acct}:alarm:{alarm}", "alarm_name": alarm, "id": alarm}.get(attribute)
        if type_ == "aws_ses_configuration_set":
            return {"arn": f"arn:aws:ses:{REGION}:{acct}:configuration-set/{name}", "name": name, "id": name}.get(attribute)
        if attribute == "name" and name:
            return name
        return f"{address}.{attribute}"


# Attributes Terraform computes at apply that no name determines (a key's id, an EFO consumer's
# creation time, a secret's suffix, a table stream's label, an API's id): in a plan, an entry naming
# the resolver's stand-in for one is unknown until apply. (A role's ARN follows from its name.)
NOT_DERIVABLE = {
    "aws_kms_key": ("arn", "key_id", "id"),
    "aws_kinesis_stream_consumer": ("arn", "id"),
    "aws_secretsmanager_secret": ("arn", "id"),
    "aws_dynamodb_table": ("stream_arn", "stream_label"),
    "aws_api_gateway_rest_api": ("id", "execution_arn", "root_resource_id"),
}


class PlanResolver(Resolver):
    """Known values from the plan; for a value computed at apply, the stand-in, remembered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stand_ins: dict[str, str] = {}  # stand-in -> what it stands for, as the report names it

    def attribute(self, type_: str, body: dict[str, Any], attribute: str, address: str) -> Any:
        value = super().attribute(type_, body, attribute, address)
        if attribute in NOT_DERIVABLE.get(type_, ()) and isinstance(value, str):
            self.stand_ins[value] = f"{address}.{attribute} (known after apply)"
        return value


class StateResolver(Resolver):
    """Values are literal; a role policy's account is its role's (a state has no provider aliases)."""

    def account_of(self, body: dict[str, Any]) -> str:
        role = body.get("role")
        for attributes in self.state.values():
            if attributes.get("name") == role and str(attributes.get("arn", "")).startswith("arn:aws:iam::"):
                return attributes["arn"].split(":")[4]
        return super().account_of(body)
