"""The live policies of a deployed stack, read with the deploy roles, as a side of the access review.

Terraform replaces every policy document it manages (a stream's or consumer's resource policy, a key
policy, a table or table-stream policy, a topic, queue, secret or bucket policy, a role's trust and
inline policies) with the one in the configuration; AWS's console "data stream sharing" editor and
`put-resource-policy` replace the whole stream policy too. So a statement added by hand is removed by
the next apply, and a review of the state against the plan cannot see it: the state holds what
Terraform last wrote. Reviewing the live documents against the plan says, before the apply, which
access it would remove.

What is computed at apply (a key's id, an EFO consumer's ARN, a table's stream, a secret's suffix) is
looked up by name: a key by its alias, a consumer by its stream and name, a table's latest stream, a
secret by name. A resource not there yet has no live policy; any other error reading one stops the
review (LiveError), naming the resource: a review that skipped a policy would be silent about it.

Permissions the deploy roles need (read-only): kinesis:DescribeStreamConsumer, kinesis:GetResourcePolicy,
kms:DescribeKey, kms:GetKeyPolicy, dynamodb:DescribeTable, dynamodb:GetResourcePolicy,
secretsmanager:DescribeSecret, secretsmanager:GetResourcePolicy, sns:GetTopicAttributes,
sqs:GetQueueAttributes, s3:GetBucketPolicy, iam:GetRole, iam:GetRolePolicy; Terraform's refresh reads
the same.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from botocore.exceptions import BotoCoreError, ClientError

from xacct_ops.iam.resolver import CONSUMER_CREATED, PlanResolver
from xacct_ops.iam.sources import MOTO_CONSUMER_ARN
from xacct_ops.iam.stack import RESOURCE_POLICIES, Stack
from xacct_ops.review.decide import snapshots
from xacct_ops.review.diff import Review, review


class LiveError(Exception):
    """A live policy that could not be read (not a missing resource): the review would be incomplete."""


@dataclass
class LiveSide:
    """What was read: the live configuration and the plan's, resolved the same way."""

    live: Stack
    planned: Stack
    read: list[str] = field(default_factory=list)  # "<address>: <ARN>" of each live policy found
    absent: list[str] = field(default_factory=list)  # "<address>: <ARN>" of each not there (yet)


Client = Callable[[str, str], Any]  # (provider alias, service) -> a boto3 client in that account

# Errors that mean "not there": the resource (or its policy) does not exist yet.
MISSING = {"ResourceNotFoundException", "NotFoundException", "NoSuchEntity", "NotFound", "PolicyNotFoundException",
           "NoSuchBucketPolicy", "NoSuchBucket", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}


def _code(error: Exception) -> str:
    return error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""


def _alias(body: dict[str, Any]) -> str:
    return str(body.get("provider", "aws.producer")).removeprefix("aws.")


def _reference(value: Any) -> Optional[str]:
    match = re.fullmatch(r"\$\{(aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)\.[a-z_]+\}", value) if isinstance(value, str) else None
    return match.group(1) if match else None


# ---- the values computed at apply, looked up by name --------------------------------------------

def known_values(config: dict[str, Any], plan: Stack, client: Client) -> dict[str, dict[str, Any]]:
    """address -> the attributes AWS computed, for what exists: keys (by alias), EFO consumers,
    tables' streams, secrets."""
    known: dict[str, dict[str, Any]] = {}
    resources = config.get("resource", {})

    def lookup(address: str, alias: str, call: Callable[[], dict[str, Any]]) -> None:
        try:
            known[address] = call()
        except ClientError as error:
            if _code(error) not in MISSING:
                raise LiveError(f"{address}: cannot look it up in account {alias}: {error}") from None
        except BotoCoreError as error:
            raise LiveError(f"{address}: cannot look it up in account {alias}: {error}") from None

    for body in resources.get("aws_kms_alias", {}).values():
        key = _reference(body.get("target_key_id"))
        if key and key in {f"aws_kms_key.{n}" for n in resources.get("aws_kms_key", {})}:
            def key_of(name: str = plan.r(body["name"]), alias: str = _alias(body)) -> dict[str, Any]:
                metadata = client(alias, "kms").describe_key(KeyId=name)["KeyMetadata"]
                return {"arn": metadata["Arn"], "key_id": metadata["KeyId"], "id": metadata["KeyId"]}
            lookup(key, _alias(body), key_of)
    for name, body in resources.get("aws_kinesis_stream_consumer", {}).items():
        def consumer_of(body: dict[str, Any] = body) -> dict[str, Any]:
            found = client(_alias(body), "kinesis").describe_stream_consumer(StreamARN=plan.r(body["stream_arn"]), ConsumerName=plan.r(body["name"]))
            arn = MOTO_CONSUMER_ARN.sub(rf"\1:{CONSUMER_CREATED}", found["ConsumerDescription"]["ConsumerARN"])
            return {"arn": arn, "id": arn}
        lookup(f"aws_kinesis_stream_consumer.{name}", _alias(body), consumer_of)
    for name, body in resources.get("aws_dynamodb_table", {}).items():
        def table_of(body: dict[str, Any] = body) -> dict[str, Any]:
            table = client(_alias(body), "dynamodb").describe_table(TableName=plan.r(body["name"]))["Table"]
            return {"arn": table["TableArn"], "stream_arn": table.get("LatestStreamArn", ""), "stream_label": table.get("LatestStreamLabel", "")}
        lookup(f"aws_dynamodb_table.{name}", _alias(body), table_of)
    for name, body in resources.get("aws_secretsmanager_secret", {}).items():
        def secret_of(body: dict[str, Any] = body) -> dict[str, Any]:
            arn = client(_alias(body), "secretsmanager").describe_secret(SecretId=plan.r(body["name"]))["ARN"]
            return {"arn": arn, "id": arn}
        lookup(f"aws_secretsmanager_secret.{name}", _alias(body), secret_of)
    return known


# ---- the live documents ---------------------------------------------------------------------------

def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _target(type_: str, body: dict[str, Any], plan: Stack, address: str) -> str:
    """The ARN of what a policy protects (a role's inline policy: `<role>/<policy name>`)."""
    if type_ == "aws_kms_key_policy":
        return str(plan.key_arn(body["key_id"]))
    if type_ == "aws_iam_role":
        return str(plan.value(address, "arn"))
    if type_ == "aws_iam_role_policy":
        return f"{plan.r(body['role'])}/{plan.r(body['name'])}"
    return str(plan.protected_by(type_, body))


def _read(type_: str, body: dict[str, Any], plan: Stack, client: Client, target: str) -> Optional[str]:
    """The live document of a policy, or None where there is none."""
    alias = _alias(body)
    if type_ == "aws_kms_key_policy":
        return client(alias, "kms").get_key_policy(KeyId=target, PolicyName="default")["Policy"]
    if type_ == "aws_iam_role":
        return _text(client(alias, "iam").get_role(RoleName=plan.r(body["name"]))["Role"]["AssumeRolePolicyDocument"])
    if type_ == "aws_iam_role_policy":
        return _text(client(alias, "iam").get_role_policy(RoleName=plan.r(body["role"]), PolicyName=plan.r(body["name"]))["PolicyDocument"])
    if type_ == "aws_kinesis_resource_policy":
        policy = client(alias, "kinesis").get_resource_policy(ResourceARN=target).get("Policy")
    elif type_ == "aws_dynamodb_resource_policy":
        policy = client(alias, "dynamodb").get_resource_policy(ResourceArn=target).get("Policy")
    elif type_ == "aws_sns_topic_policy":
        policy = client(alias, "sns").get_topic_attributes(TopicArn=target)["Attributes"].get("Policy")
    elif type_ == "aws_sqs_queue_policy":
        policy = client(alias, "sqs").get_queue_attributes(QueueUrl=plan.r(body["queue_url"]), AttributeNames=["Policy"]).get("Attributes", {}).get("Policy")
    elif type_ == "aws_secretsmanager_secret_policy":
        policy = client(alias, "secretsmanager").get_resource_policy(SecretId=target).get("ResourcePolicy")
    else:  # aws_s3_bucket_policy
        policy = client(alias, "s3").get_bucket_policy(Bucket=plan.r(body["bucket"]))["Policy"]
    return policy if policy and policy.strip() not in ("{}", "") else None


# type -> the argument holding the document the plan writes
DOCUMENTS = {**{type_: "policy" for type_ in RESOURCE_POLICIES}, "aws_kms_key_policy": "policy",
             "aws_iam_role": "assume_role_policy", "aws_iam_role_policy": "policy"}


def read_live(name: str, config: dict[str, Any], accounts: dict[str, str], variables: dict[str, Any], client: Client) -> LiveSide:
    """The stack's configuration twice, resolved with the accounts' live values: as planned, and
    with every policy document it manages as it is live now (a policy not there: its resource left
    out of the live side)."""
    aliases = {f"aws.{alias}": account for alias, account in accounts.items()}
    bare = Stack(name, config, resolver=PlanResolver(config, {}, accounts=aliases, variables=variables))
    known = known_values(config, bare, client)
    planned = Stack(name, config, resolver=PlanResolver(config, known, accounts=aliases, variables=variables))
    live_config = copy.deepcopy(config)
    read, absent = [], []
    for type_, argument in DOCUMENTS.items():
        for resource_name, body in config.get("resource", {}).get(type_, {}).items():
            address = f"{type_}.{resource_name}"
            target = _target(type_, body, planned, address)
            try:
                document = _read(type_, body, planned, client, target)
            except ClientError as error:
                if _code(error) not in MISSING:
                    raise LiveError(f"{address}: cannot read its live policy in account {_alias(body)}: {error}") from None
                document = None
            except BotoCoreError as error:
                raise LiveError(f"{address}: cannot read its live policy in account {_alias(body)}: {error}") from None
            if document is None:
                absent.append(f"{address}: {target}")
                if type_ == "aws_iam_role":
                    live_config["resource"][type_][resource_name][argument] = json.dumps({"Version": "2012-10-17", "Statement": []})
                else:
                    del live_config["resource"][type_][resource_name]
                continue
            read.append(f"{address}: {target}")
            live_config["resource"][type_][resource_name][argument] = MOTO_CONSUMER_ARN.sub(rf"\1:{CONSUMER_CREATED}", document)
    live = Stack(name, live_config, resolver=PlanResolver(live_config, known, accounts=aliases, variables=variables))
    return LiveSide(live, planned, read, absent)


def review_live(side: LiveSide) -> Review:
    """The live policies against the plan: `removed` is what the apply would take away."""
    live, planned = snapshots([[side.live], [side.planned]])
    return review(live, planned)


def session_client(sessions: dict[str, Any], endpoint: Optional[str] = None) -> Client:
    clients: dict[tuple[str, str], Any] = {}

    def client(alias: str, service: str) -> Any:
        if (alias, service) not in clients:
            if alias not in sessions:
                raise LiveError(f"no deploy role for account {alias} in the tfvars")
            clients[(alias, service)] = sessions[alias].client(service, endpoint_url=endpoint)
        return clients[(alias, service)]

    return client
