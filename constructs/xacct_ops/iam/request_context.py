"""What AWS sends: the request-context keys of every call a service makes for these stacks, with sources.

moto enforces no policy and the IAM engine of `make policy-check` decides only what its requests
say, so a guessed condition key passes every local check and fails on a real account (the API
stack's integration role once trusted API Gateway only with `aws:SourceAccount`, which API Gateway
never sends: every request was a 500). This table is the one place those facts live:

- `policy_check.py` builds each request's context from it (`context_for`): a key a row does not list
  is never supplied, so a policy that needs it is denied in the check as it would be on AWS;
- `tests/ops/test_request_context.py` reads every synthesized policy and fails when a statement
  conditions a call on a key the table says that call does not carry (`unsent_condition_keys`);
- `make docs` writes it into docs/security.md.

A row is a call as IAM sees it: `caller` is the principal (a service principal, or `role` for one of
our roles), `via` the service that makes the KMS call for a role (`kms:ViaService`), `actions` what
it calls, `sends` the context keys present. Global keys IAM always sets for a role (`aws:PrincipalArn`,
`aws:PrincipalAccount`, ...) are in ALWAYS. Each row cites an AWS page or a public report of a live
run; a key with no source is left out, and a policy must then not depend on it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

KMS_CONDITIONS = "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html"
# Keys IAM sets in every request by an IAM role (IAM User Guide, "AWS global condition context keys":
# "This key is always included in the request context"), and KMS in every KMS request.
ALWAYS_FOR_ROLES = ("aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalType")
ALWAYS_FOR_KMS = ("kms:CallerAccount",)


@dataclass(frozen=True)
class Source:
    url: str
    quote: str


@dataclass(frozen=True, kw_only=True)
class ServiceRequest:
    caller: str  # a service principal ("{region}" where it holds the region) or "role"
    actions: tuple[str, ...]
    what: str
    sends: tuple[str, ...]
    sources: tuple[Source, ...]
    via: str = ""  # for a role's KMS call made by a service: that service (kms:ViaService)
    never: tuple[str, ...] = ()  # keys reported absent: a policy must not condition on them
    note: str = ""

    def matches(self, caller: str, action: str, via: str = "") -> bool:
        return re.fullmatch(self.caller.replace(".", r"\.").replace("{region}", r"[a-z0-9-]+"), caller) is not None and (
            action in self.actions and self.via == via
        )


# kms:EncryptionContext:<key> applies to these operations only (KMS Developer Guide, "AWS KMS condition
# keys", kms:EncryptionContext: "API operations: CreateGrant Encrypt Decrypt GenerateDataKey ... ReEncrypt
# RetireGrant"): DescribeKey carries none, whoever calls it.
NO_ENCRYPTION_CONTEXT = Source(KMS_CONDITIONS, "kms:EncryptionContext ... API operations: CreateGrant Encrypt Decrypt GenerateDataKey "
                                               "GenerateDataKeyPair ... ReEncrypt RetireGrant (not DescribeKey)")


def _kms_via(service: str, what: str, context: tuple[str, ...], source: Source, note: str = "") -> tuple[ServiceRequest, ...]:
    via = Source(KMS_CONDITIONS, "kms:ViaService ... the request comes from a specified AWS service")
    return (
        ServiceRequest(
            caller="role", via=service, what=what, note=note,
            actions=("kms:Decrypt", "kms:GenerateDataKey"),
            sends=("kms:ViaService", *ALWAYS_FOR_KMS, *(f"kms:EncryptionContext:{key}" for key in context)),
            sources=(via, source),
        ),
        ServiceRequest(
            caller="role", via=service, what=f"{what} (the key's description: no encryption context)",
            actions=("kms:DescribeKey",), sends=("kms:ViaService", *ALWAYS_FOR_KMS), sources=(via, NO_ENCRYPTION_CONTEXT),
        ),
    )


SNS_TOPIC_CONTEXT = Source(
    "https://docs.aws.amazon.com/sns/latest/dg/sns-enable-encryption-for-topic.html",
    '"kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:{{your_region}}:{{customer-account-id}}:{{your_sns_topic_name}}"',
)


TABLE: tuple[ServiceRequest, ...] = (
    ServiceRequest(
        caller="apigateway.amazonaws.com", actions=("sts:AssumeRole",),
        what="API Gateway assumes an integration's credentials role", sends=(),
        never=("aws:SourceAccount", "aws:SourceArn"),
        sources=(Source(
            "https://github.com/aws-solutions-library-samples/accelerated-intelligent-document-processing-on-aws/pull/479",
            "When API Gateway assumes an integration credentials role ... it does not populate aws:SourceAccount",
        ),),
    ),
    ServiceRequest(
        caller="apigateway.amazonaws.com", actions=("lambda:InvokeFunction",),
        what="API Gateway invokes a Lambda authorizer (the function's permission)", sends=("aws:SourceArn", "aws:SourceAccount"),
        sources=(
            Source("https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway.html", "--source-arn ... Lambda configures the comparison using the StringLike operator"),
            Source("https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html", "SourceAccount ... SourceArn: the ARN of the AWS resource that invokes the function"),
        ),
    ),
    ServiceRequest(
        caller="sns.amazonaws.com", actions=("lambda:InvokeFunction",),
        what="SNS invokes a subscribed function (the function's permission)", sends=("aws:SourceArn", "aws:SourceAccount"),
        note="aws:SourceArn is the topic's ARN",
        sources=(
            Source("https://docs.aws.amazon.com/lambda/latest/dg/with-sns-example.html", "aws lambda add-permission ... --source-arn arn:aws:sns:us-east-1:<Account A ID>:sns-topic-for-lambda ... --principal sns.amazonaws.com"),
            Source("https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html", "SourceAccount ... SourceArn: the ARN of the AWS resource that invokes the function"),
        ),
    ),
    ServiceRequest(
        caller="firehose.amazonaws.com", actions=("sts:AssumeRole",),
        what="Firehose assumes its delivery role", sends=("sts:ExternalId",),
        note="the external id is the account id",
        sources=(Source(
            "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CreateFirehoseStream.html",
            '"Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId":"222222222222"}}',
        ),),
    ),
    ServiceRequest(
        caller="lambda.amazonaws.com", actions=("sts:AssumeRole",),
        what="Lambda assumes a function's execution role", sends=(),
        note="no AWS page lists source keys for it; reports conflict, so no trust policy here depends on one",
        sources=(Source("https://github.com/prowler-cloud/prowler/issues/2810", "There is no public documentation which lists all the services which supports the aws:SourceAccount and aws:SourceArn"),),
    ),
    ServiceRequest(
        caller="logs.{region}.amazonaws.com",
        actions=("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"),
        what="CloudWatch Logs encrypts and decrypts a log group's events", sends=("kms:EncryptionContext:aws:logs:arn",),
        sources=(Source(
            "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
            "using kms:EncryptionContext:aws:logs:arn as the key and the ARN of the log group as the value for that key",
        ),),
    ),
    ServiceRequest(
        caller="ses.amazonaws.com", actions=("SNS:Publish", "sns:Publish"),
        what="SES publishes a configuration set's events to an SNS topic", sends=("aws:SourceAccount", "aws:SourceArn"),
        note="aws:SourceArn is the configuration set's ARN",
        sources=(Source(
            "https://docs.aws.amazon.com/ses/latest/dg/event-publishing-add-event-destination-sns.html",
            '"AWS:SourceArn": "arn:aws:ses:topic_region:111122223333:configuration-set/configuration-set-name"',
        ),),
    ),
    ServiceRequest(
        caller="ses.amazonaws.com", actions=("kms:Decrypt", "kms:GenerateDataKey"),
        what="SES publishes to a topic encrypted with a customer-managed key (SNS calls KMS)", sends=("kms:EncryptionContext:aws:sns:topicArn",),
        note="SES's own page shows this statement with no condition; whether source keys reach KMS here is not documented",
        sources=(
            Source("https://docs.aws.amazon.com/ses/latest/dg/configure-sns-notifications.html", '"Sid": "AllowSESToUseKMSKey" ... "Principal": {"Service": "ses.amazonaws.com"} (no Condition)'),
            SNS_TOPIC_CONTEXT,
        ),
    ),
    ServiceRequest(
        caller="cloudwatch.amazonaws.com", actions=("kms:Decrypt", "kms:GenerateDataKey"),
        what="CloudWatch publishes an alarm to a topic encrypted with a customer-managed key (SNS calls KMS)",
        sends=("kms:EncryptionContext:aws:sns:topicArn",),
        note="AWS's statement for this has no condition; source keys on it are recommended by SNS but nowhere confirmed",
        sources=(
            Source("https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns", '"Sid": "Allow_CloudWatch_for_CMK", "Principal": {"Service": "cloudwatch.amazonaws.com"} (no Condition)'),
            SNS_TOPIC_CONTEXT,
        ),
    ),
    ServiceRequest(
        caller="cloudwatch.amazonaws.com", actions=("SNS:Publish", "sns:Publish"),
        what="CloudWatch publishes an alarm's state change to the topic of its alarm action", sends=("aws:SourceArn", "aws:SourceAccount"),
        note="aws:SourceArn is the alarm's ARN",
        sources=(Source(
            "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html",
            "The value of aws:SourceArn must be the ARN of the alarm that is sending notifications. ... "
            '"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-2:111122223333:alarm:*"}, "StringEquals": {"aws:SourceAccount": "111122223333"}',
        ),),
    ),
    *_kms_via("kinesis", "a role reads or writes a stream encrypted with a customer-managed key", ("aws:kinesis:arn",), Source(
        "https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html",
        "Kinesis Data Streams uses the stream ARN as the encryption context in all AWS KMS calls.",
    )),
    *_kms_via("dynamodb", "a role reads or writes a table or its stream encrypted with a customer-managed key", ("aws:dynamodb:tableName", "aws:dynamodb:subscriberId"), Source(
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html",
        "In its requests to AWS KMS, DynamoDB uses an encryption context with two key-value pairs.",
    )),
    *_kms_via("sqs", "a role sends to a queue encrypted with a customer-managed key (also Lambda's on-failure destinations, as the function's role)", (), Source(
        "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html",
        "Add a policy with the required permissions to your function's execution role",
    ), note="SQS documents no encryption context for its KMS calls (SQS Developer Guide, key management; checked 2026-12-06): "
            "no policy here conditions on one"),
    *_kms_via("lambda", "Lambda decrypts a function's environment with its customer-managed key", ("aws:lambda:FunctionArn",), Source(
        "https://docs.aws.amazon.com/lambda/latest/dg/encrypt-zip-package.html",
        '"kms:EncryptionContext:aws:lambda:FunctionArn"',
    )),
    *_kms_via("secretsmanager", "a role reads a secret encrypted with a customer-managed key", ("SecretARN", "SecretVersionId"), Source(
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html",
        "Secrets Manager uses an encryption context with two name-value pairs that identify the secret and its version",
    )),
    *_kms_via("s3", "S3 encrypts an object with a bucket's customer-managed key and an S3 Bucket Key", ("aws:s3:arn",), Source(
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/configuring-bucket-key.html",
        "the encryption context will be the bucket Amazon Resource Name (ARN) and not the object ARN",
    ), note="aws:s3:arn is the bucket's ARN"),
    ServiceRequest(
        caller="role", actions=("sts:AssumeRole",),
        what="our function assumes a role in another account with the external id the stack gives it", sends=("sts:ExternalId",),
        sources=(Source("lambda_src/xacct_consumer/credentials.py", "assume_role(..., ExternalId=external_id)"),),
    ),
)


class NotInTable(LookupError):
    """A call the table has no row for: its context is unknown, so nothing may be assumed."""


def row_for(caller: str, action: str, via: str = "") -> ServiceRequest:
    caller = re.sub(r"\$\{[^}]*\}", "region", caller)  # logs.${var.region}.amazonaws.com in a synthesized policy
    for row in TABLE:
        if row.matches(caller, action, via):
            return row
    raise NotInTable(f"no row for {caller} {action}" + (f" via {via}" if via else "") + ": add one, with its source, to request_context.TABLE")


def context_for(caller: str, action: str, values: dict[str, str], via: str = "") -> dict[str, str]:
    """The request context of this call: `values` for exactly the keys its row says are sent (a value
    for a key the row does not list is an error: the check would assume what AWS does not send)."""
    row = row_for(caller, action, via)
    extra = sorted(set(values) - set(row.sends))
    if extra:
        raise ValueError(f"{caller} {action}{' via ' + via if via else ''} does not send {extra} (request_context.TABLE: {row.what})")
    return dict(values)


# ---- checking synthesized policies against the table ------------------------------------------

SERVICE_OF_VIA = re.compile(r"^([a-z0-9-]+)\.(?:[a-z0-9-]+|\*)\.amazonaws\.com$")


def _statements(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, str) and '"Statement"' in value:
        try:
            value = json.loads(value)
        except ValueError:
            return
    if isinstance(value, dict):
        statements = value.get("Statement")
        if isinstance(statements, list) and "Version" in value:
            yield from (s for s in statements if isinstance(s, dict))
            return
        for item in value.values():
            yield from _statements(item)
    elif isinstance(value, list):
        for item in value:
            yield from _statements(item)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def condition_keys(statement: dict[str, Any]) -> dict[str, Any]:
    """Each condition key of a statement with its value, whatever the operator."""
    keys: dict[str, Any] = {}
    for operator_values in (statement.get("Condition") or {}).values():
        for key, value in operator_values.items():
            keys[key] = value
    return keys


def unsent_condition_keys(config: dict[str, Any]) -> list[str]:
    """Every condition in `config` (a synthesized stack) that the table says its call never carries:
    `"<caller> <action>: <key>"`. Service principals are matched by (service, action); a role's
    statement conditioned on kms:ViaService by the service named there; other role statements may
    use only the keys IAM always sets and the external id of our own assume-role calls."""
    problems: list[str] = []
    for statement in _statements(config.get("resource", {})):
        if statement.get("Effect") != "Allow":
            continue
        keys = condition_keys(statement)
        if not keys:
            continue
        actions = [a for a in _as_list(statement.get("Action", [])) if isinstance(a, str)]
        services = [s for s in _as_list((statement.get("Principal") or {}).get("Service", [])) if isinstance(s, str)] if isinstance(statement.get("Principal"), dict) else []
        via_values = [v for v in _as_list(keys.get("kms:ViaService", [])) if isinstance(v, str)]
        callers: list[tuple[str, str]] = [(service, "") for service in services]
        if not services:
            vias = [SERVICE_OF_VIA.match(v.replace("${var.region}", "region")) for v in via_values]
            callers = [("role", m.group(1)) for m in vias if m] or [("role", "")]
        for caller, via in callers:
            for action in actions:
                try:
                    row = row_for(caller, action, via)
                    allowed = set(row.sends) | (set(ALWAYS_FOR_ROLES) if caller == "role" else set())
                except NotInTable:
                    row, allowed = None, set(ALWAYS_FOR_ROLES) if caller == "role" else set()
                for key in sorted(keys):
                    if key.lower() not in {a.lower() for a in allowed}:
                        problems.append(f"{caller}{' via ' + via if via else ''} {action}: {key}" + ("" if row else " (no row for this call)"))
    return sorted(set(problems))


def markdown_table() -> str:
    """The table for docs/security.md (`make docs`)."""
    lines = ["| Caller | Calls | Context keys it sends | Source |", "|---|---|---|---|"]
    for row in TABLE:
        caller = f"a role, through {row.via}" if row.via else ("a role" if row.caller == "role" else f"`{row.caller}`")
        sends = ", ".join(f"`{key}`" for key in row.sends) or "none we rely on"
        if row.never:
            sends += "; **not** " + ", ".join(f"`{key}`" for key in row.never)
        if row.note:
            sends += f" ({row.note})"
        sources = "; ".join(f"[{_source_name(s.url)}]({s.url if s.url.startswith('http') else '../' + s.url}): `{s.quote}`" for s in row.sources)
        lines.append(f"| {caller} | {row.what}: {', '.join(f'`{a}`' for a in row.actions)} | {sends} | {sources} |")
    return "\n".join(lines)


def _source_name(url: str) -> str:
    github = re.match(r"https://github\.com/([^/]+/[^/]+)/(?:pull|issues)/(\d+)", url)
    if github:
        return f"{github.group(1)}#{github.group(2)}"
    return url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".html")

