"""The IAM model of a synthesized stack: its policies, the calls its running system makes (with the
request context AWS sends, from `request_context`), and an independent engine to decide them.

Used by `make policy-check` (tests/harness/policy_check.py: every call allowed, its variants denied) and
by `make access-review` (`access_review.py`: who can do what, before and after a change).

The engine is @cloud-copilot/iam-simulate (npm, pinned in package.json; AGPL-3.0, a development tool
here, never shipped), run by `iam_evaluate.cjs` next to this file.

References (`${aws_x.y.arn}`) are resolved with deterministic stand-ins (producer 111111111111,
consumer 222222222222, eu-west-1), or with real values (`state`: address -> attributes, from
`terraform show -json` of a state or a plan).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from xacct_ops.request_context import NotInTable, context_for
from xacct_streaming.settings.runtime_contracts import settings_for

ROOT = Path(__file__).resolve().parents[2]
EVALUATOR = Path(__file__).with_name("iam_evaluate.cjs")
REGION, OTHER_REGION = "eu-west-1", "us-east-1"
ACCOUNTS = {"aws.producer": "111111111111", "aws.consumer": "222222222222"}
# Not 333333333333: the test settings put a sink there.
THIRD_ACCOUNT = "444455556666"
VARIABLES = {"region": REGION, "producer_account_id": ACCOUNTS["aws.producer"], "consumer_account_id": ACCOUNTS["aws.consumer"]}
# Ids for a fan-out stack's consumer accounts, in the order its providers are declared.
FANOUT_ACCOUNT_IDS = tuple(f"{n}" * 12 for n in (3, 5, 6, 7, 8, 9)) + tuple(f"10000000{n:04d}" for n in range(20))
REFERENCE = re.compile(r"\$\{([^{}]+)\}")
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Sid": "RootUser", "Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True)
class Call:
    stack: str
    caller: str
    action: str
    resource: str
    expected: str  # "Allowed" or "Denied"
    what: str
    context: dict[str, str] = field(default_factory=dict)
    identity: tuple[str, ...] = ()  # whose identity policies apply (a role ARN); empty for a service or root
    # The context keys the policies are meant to check for this call (the variants change only these:
    # a role using its own account's key for anything is allowed by design, a grant to a service or
    # to another account must hold only for what the service sends).
    scoped: tuple[str, ...] = ()
    # The resource is one made-up instance of many the system writes (a log stream, an object): the
    # access review lists the grant as its policy writes it instead.
    example: bool = False

    @property
    def account(self) -> str:
        arn = self.resource.split(":")
        return arn[4] if len(arn) > 4 and arn[4] else ""


class PolicyError(ValueError):
    """A policy document that is not one (not JSON, no statement list): named, never guessed at."""


def policy_document(text: Any) -> dict[str, Any]:
    """A policy document as IAM reads it: JSON text or an object; `Statement` one statement or a list."""
    try:
        document = json.loads(text) if isinstance(text, str) else text
    except ValueError as error:
        raise PolicyError(f"a policy is not JSON ({error}): {str(text)[:120]}") from None
    if not isinstance(document, dict):
        raise PolicyError(f"a policy is not a JSON object: {str(text)[:120]}")
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise PolicyError(f"a policy's Statement is not a list of statements: {str(text)[:120]}")
    return {**document, "Statement": statements}


# ---- resolving references -------------------------------------------------------------------

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
        self.accounts = dict(ACCOUNTS)
        aliases = [p["alias"] for p in config.get("provider", {}).get("aws", []) if "alias" in p]
        for index, alias in enumerate(a for a in aliases if f"aws.{a}" not in ACCOUNTS):
            self.accounts[f"aws.{alias}"] = FANOUT_ACCOUNT_IDS[index]
        self.accounts.update(accounts or {})

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
            return {"arn": f"{arg('stream_arn')}/consumer/{name}:1767225600", "name": name}.get(attribute)
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


# ---- the policies of a stack ----------------------------------------------------------------

# Resource policies that are resources of their own: type -> the argument naming what it protects.
RESOURCE_POLICIES = {
    "aws_kinesis_resource_policy": "resource_arn",  # a stream or an EFO consumer
    "aws_dynamodb_resource_policy": "resource_arn",  # a table or its stream
    "aws_sns_topic_policy": "arn",
    "aws_sqs_queue_policy": "queue_url",
    "aws_secretsmanager_secret_policy": "secret_arn",
    "aws_s3_bucket_policy": "bucket",
}
# The output holding the statements an existing stream's owner adds to its policy (accounts_stack).
OWNER_STATEMENTS_OUTPUT = "stream_policy_statements_for_owner"
SQS_URL = re.compile(r"https://sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(\d{12})/([^/]+)")


class Stack:
    def __init__(self, name: str, config: dict[str, Any], state: Optional[dict[str, dict[str, Any]]] = None,
                 resolver: Optional[Resolver] = None) -> None:
        self.name = name
        self.r = resolver or Resolver(config, state)
        self.config = config
        # Lookups asked again and again (every call's policies): the configuration is read-only
        # once a stack is built, and its references resolve the same way each time.
        self._values: dict[tuple[str, str], Any] = {}
        self._identity: dict[str, list[dict[str, Any]]] = {}
        self._resource: dict[tuple[str, str], Optional[dict[str, Any]]] = {}

    def each(self, type_: str) -> Iterable[tuple[str, dict[str, Any]]]:
        for name, body in self.config.get("resource", {}).get(type_, {}).items():
            yield f"{type_}.{name}", body

    def value(self, address: str, attribute: str) -> Any:
        key = (address, attribute)
        if key not in self._values:
            self._values[key] = self.r.expression(f"{address}.{attribute}")
        return self._values[key]

    def function(self, name_or_arn: str) -> Optional[tuple[str, dict[str, Any]]]:
        return self.find("aws_lambda_function", function_name=name_or_arn) or self.find("aws_lambda_function", arn=name_or_arn)

    def find(self, type_: str, **wanted: Any) -> Optional[tuple[str, dict[str, Any]]]:
        for address, body in self.each(type_):
            if all(self.value(address, k) == v for k, v in wanted.items()):
                return address, body
        return None

    @staticmethod
    def document(text: Any) -> dict[str, Any]:
        return policy_document(text)

    def identity_policies(self, role_arn: str) -> list[dict[str, Any]]:
        """The inline policies this configuration gives a role: matched by the role's name and
        account, so a policy the plan attaches to a role it does not create counts too."""
        if role_arn not in self._identity:
            role_name = role_arn.rsplit("/", 1)[-1]
            self._identity[role_arn] = [
                {"name": self.r(body["name"]), "policy": self.document(self.r(body["policy"]))}
                for _, body in self.each("aws_iam_role_policy")
                if self.r(body["role"]) == role_name and self.account_of_role(role_arn) == self.r.account_of(body)
            ]
        return self._identity[role_arn]

    def declares(self, principal: str) -> bool:
        """Whether the configuration holds the principal's identity side: a role it creates or
        gives a policy to. Another principal's identity policies are its own account's."""
        if not principal.startswith("arn:") or ":role/" not in principal:
            return False
        return self.find("aws_iam_role", arn=principal) is not None or bool(self.identity_policies(principal))

    def grants_as_policy(self, key_arn: str) -> Optional[dict[str, Any]]:
        """The KMS grants of this configuration on a key it does not manage (an existing stream's),
        as the key-policy statements they amount to: the grantee may call the granted operations
        when the request's encryption context is exactly the grant's (EncryptionContextEquals).
        The key's own policy is not in the configuration, so only what the grants allow is known."""
        statements = []
        for _, body in self.each("aws_kms_grant"):
            if self.r(body["key_id"]) != key_arn:
                continue
            statement: dict[str, Any] = {
                "Sid": self.r(body["name"]), "Effect": "Allow", "Principal": {"AWS": self.r(body["grantee_principal"])},
                "Action": [f"kms:{operation}" for operation in self.r(body["operations"])], "Resource": "*",
            }
            for constraint in self.r(body.get("constraints") or []):
                equals = constraint.get("encryption_context_equals") or {}
                if equals:
                    statement["Condition"] = {"StringEquals": {f"kms:EncryptionContext:{k}": v for k, v in equals.items()}}
            statements.append(statement)
        return {"Version": "2012-10-17", "Statement": statements} if statements else None

    def grant_key_for(self, encryption_context: dict[str, str]) -> Optional[str]:
        """The key a grant of this configuration names for exactly this encryption context."""
        for _, body in self.each("aws_kms_grant"):
            for constraint in self.r(body.get("constraints") or []):
                if constraint.get("encryption_context_equals") == encryption_context:
                    return self.r(body["key_id"])
        return None

    @staticmethod
    def account_of_role(role_arn: str) -> str:
        return role_arn.split(":")[4]

    def key_arn(self, key_id: Any) -> Any:
        """A key policy's key as an ARN: from its reference (a configuration) or its id (a state)."""
        reference = REFERENCE.fullmatch(key_id) if isinstance(key_id, str) else None
        if reference:
            return self.value(reference.group(1).rsplit(".", 1)[0], "arn")
        key_id = self.r(key_id)
        if isinstance(key_id, str) and not key_id.startswith("arn:"):
            found = self.find("aws_kms_key", key_id=key_id)
            return self.value(found[0], "arn") if found else key_id
        return key_id

    def permission_statement(self, body: dict[str, Any], function_arn: str) -> dict[str, Any]:
        """A Lambda permission (aws_lambda_permission) as the statement Lambda adds to the function's
        policy (Lambda API AddPermission: a service, an account or ARN, or `*`; SourceArn as
        ArnLike, SourceAccount and PrincipalOrgID as StringEquals)."""
        principal = self.r(body["principal"])
        if principal == "*":
            written: Any = "*"
        elif isinstance(principal, str) and (principal.startswith("arn:") or re.fullmatch(r"\d{12}", principal)):
            written = {"AWS": principal}
        else:
            written = {"Service": principal}
        statement: dict[str, Any] = {"Sid": self.r(body.get("statement_id", "")), "Effect": "Allow", "Principal": written,
                                     "Action": self.r(body["action"]), "Resource": function_arn}
        conditions: dict[str, dict[str, Any]] = {}
        if body.get("source_arn"):
            conditions.setdefault("ArnLike", {})["AWS:SourceArn"] = self.r(body["source_arn"])
        if body.get("source_account"):
            conditions.setdefault("StringEquals", {})["AWS:SourceAccount"] = self.r(body["source_account"])
        if body.get("principal_org_id"):
            conditions.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = self.r(body["principal_org_id"])
        if conditions:
            statement["Condition"] = conditions
        return statement

    def resource_policies(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(the ARN of the resource it protects, the document) for each resource policy of the
        configuration that is a resource of its own (RESOURCE_POLICIES)."""
        for type_ in RESOURCE_POLICIES:
            for _, body in self.each(type_):
                yield self.protected_by(type_, body), self.document(self.r(body["policy"]))
        # An existing stream's policy is its owner's: the statements the stack hands them (and make
        # preflight checks they added) are what AWS will evaluate, on the stream the stack reads.
        owner = self.config.get("output", {}).get(OWNER_STATEMENTS_OUTPUT)
        if owner:
            document = self.document(self.r(owner["value"]))
            for stream in self.streams_read_not_created():
                yield stream, document

    def streams_read_not_created(self) -> list[str]:
        """The streams this configuration's EFO consumers and mappings read that it does not create."""
        created = {self.value(address, "arn") for address, _ in self.each("aws_kinesis_stream")}
        read = [self.r(body.get("stream_arn")) for _, body in self.each("aws_kinesis_stream_consumer")]
        read += [str(self.r(body.get("event_source_arn"))).split("/consumer/")[0] for _, body in self.each("aws_lambda_event_source_mapping")]
        return [arn for arn in dict.fromkeys(read) if isinstance(arn, str) and ":kinesis:" in arn and arn not in created]

    def protected_by(self, type_: str, body: dict[str, Any]) -> Any:
        """The ARN of the resource a resource policy (RESOURCE_POLICIES) protects."""
        target = self.r(body[RESOURCE_POLICIES[type_]])
        url = SQS_URL.fullmatch(target) if isinstance(target, str) else None
        if url:
            return f"arn:aws:sqs:{url.group(1)}:{url.group(2)}:{url.group(3)}"
        if type_ == "aws_s3_bucket_policy" and isinstance(target, str) and not target.startswith("arn:"):
            return f"arn:aws:s3:::{target}"
        return target

    def resource_policy(self, call: Call) -> Optional[dict[str, Any]]:
        """The resource-side policy AWS evaluates for the call: a key's policy (or the grants on a
        key the configuration does not manage), a resource policy, a role's trust, a function's
        permissions."""
        key = (call.action.split(":")[0].lower(), call.resource)
        if key not in self._resource:
            self._resource[key] = self._resource_policy(call)
        return self._resource[key]

    def _resource_policy(self, call: Call) -> Optional[dict[str, Any]]:
        service = call.action.split(":")[0].lower()
        if service == "kms":
            for _, body in self.each("aws_kms_key_policy"):
                if self.key_arn(body["key_id"]) == call.resource:
                    return self.document(self.r(body["policy"]))
            return self.grants_as_policy(call.resource)

        for protected, document in self.resource_policies():
            if call.resource == protected or (protected.startswith("arn:aws:s3:::") and call.resource.startswith(protected + "/")):
                return document
        if service == "sts" and ":role/" in call.resource:
            found = self.find("aws_iam_role", arn=call.resource)
            if found is None:
                return None
            trust = self.document(self.r(found[1]["assume_role_policy"]))
            # A trust policy has no Resource: the role is the resource.
            return {**trust, "Statement": [{**s, "Resource": call.resource} for s in trust["Statement"]]}
        if service == "lambda":
            statements = []
            for _, body in self.each("aws_lambda_permission"):
                function = self.function(self.r(body["function_name"]))
                if function is None or self.value(function[0], "arn") != call.resource:
                    continue
                statements.append(self.permission_statement(body, call.resource))
            return {"Version": "2012-10-17", "Statement": statements} if statements else None
        return None


# ---- the calls the running system makes ----------------------------------------------------

def _kms_key_of(stack: Stack, address: str, argument: str) -> Optional[str]:
    body = stack.r.resources[address]
    value = stack.r(body.get(argument)) if body.get(argument) else None
    return value if isinstance(value, str) and value.startswith("arn:aws:kms:") else None


def expected_calls(stack: Stack, strict: bool = True) -> list[Call]:
    """The calls the running system makes. `strict` (make policy-check): a call request_context.TABLE
    has no row for is an error; otherwise (the access review) it is left out here, and the policy
    statement that grants it is reviewed as written."""
    calls: list[Call] = []
    s = stack.name

    def add(caller: str, action: str, resource: str, what: str, context: Optional[dict[str, str]] = None, as_role: bool = True,
            scoped: Iterable[str] = (), example: bool = False) -> None:
        # The context comes only from what request_context.TABLE says the call carries (with its source);
        # a role's call with no context keys is an ordinary API call of its own.
        context = dict(context or {})
        if context or not as_role:
            via = context.get("kms:ViaService", "").split(".")[0]
            try:
                context = context_for("role" if as_role else caller, action, context, via)
            except NotInTable:
                if strict:
                    raise
                return
        calls.append(Call(s, caller, action, resource, "Allowed", what, context, (caller,) if as_role else (), tuple(scoped), example))

    def queue_send(role: str, queue_arn: str, what: str) -> None:
        add(role, "sqs:SendMessage", queue_arn, what)
        found = stack.find("aws_sqs_queue", arn=queue_arn)
        key = _kms_key_of(stack, found[0], "kms_master_key_id") if found else None
        if key:
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                add(role, action, key, f"{what}: the queue's key via SQS",
                    {"kms:ViaService": f"sqs.{REGION}.amazonaws.com", "kms:CallerAccount": Stack.account_of_role(role)})

    for address, fn in stack.each("aws_lambda_function"):
        role = stack.r(fn["role"])
        label = stack.value(address, "function_name")
        env = stack.r(fn.get("environment", {}).get("variables", {}))
        group_name = stack.r(fn.get("logging_config", {}).get("log_group", ""))
        group = stack.find("aws_cloudwatch_log_group", name=group_name)
        if group:
            group_arn = stack.value(group[0], "arn")
            for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
                add(role, action, f"{group_arn}:log-stream:2026/01/01/[$LATEST]0123", f"{label} writes its logs", example=True)
            key = _kms_key_of(stack, group[0], "kms_key_id")
            if key:
                add(f"logs.{REGION}.amazonaws.com", "kms:GenerateDataKey", key, f"CloudWatch Logs encrypts {group_name}",
                    {"kms:EncryptionContext:aws:logs:arn": group_arn}, as_role=False, scoped=("kms:EncryptionContext:aws:logs:arn",))
        env_key = stack.r(fn.get("kms_key_arn")) if fn.get("kms_key_arn") else None
        if env_key:
            add(role, "kms:Decrypt", env_key, f"{label}'s environment is decrypted with its role",
                {"kms:ViaService": f"lambda.{REGION}.amazonaws.com", "kms:EncryptionContext:aws:lambda:FunctionArn": stack.value(address, "arn")})
        dlq = stack.r(fn.get("dead_letter_config", {}).get("target_arn")) if fn.get("dead_letter_config") else None
        if dlq:
            queue_send(role, dlq, f"{label} parks a record in its dead-letter queue")
        # What the runtime calls, as its contract declares (lambda_src/xacct_contracts.py).
        runtime_calls(stack, add, role, label, settings_for(stack.r(fn.get("handler", ""))).from_env(env, check=False).calls())

    for _, mapping in stack.each("aws_lambda_event_source_mapping"):
        function = stack.function(stack.r(mapping["function_name"]))
        if function is None:
            continue
        role, label = stack.r(function[1]["role"]), stack.value(function[0], "function_name")
        source = stack.r(mapping["event_source_arn"])
        source_stack_stream = source.split("/consumer/")[0]
        if ":kinesis:" in source:
            if "/consumer/" in source:
                for action in ("kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"):
                    add(role, action, source, f"Lambda reads the EFO consumer for {label}")
            for action in ("kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:GetShardIterator", "kinesis:GetRecords"):
                add(role, action, source_stack_stream, f"Lambda reads the stream for {label}")
            stream = stack.find("aws_kinesis_stream", arn=source_stack_stream)
            key = _kms_key_of(stack, stream[0], "kms_key_id") if stream else None
            # An existing stream's key is not managed here: a grant bound to the stream shares it.
            granted = None if stream else stack.grant_key_for({"aws:kinesis:arn": source_stack_stream})
            if key or granted:
                add(role, "kms:Decrypt", key or granted, f"Lambda decrypts the stream's records for {label}",
                    {"kms:ViaService": f"kinesis.{REGION}.amazonaws.com", "kms:EncryptionContext:aws:kinesis:arn": source_stack_stream},
                    scoped=("kms:ViaService",) if key else ("kms:ViaService", "kms:EncryptionContext:aws:kinesis:arn"))
        elif ":dynamodb:" in source:
            for action in ("dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"):
                add(role, action, source, f"Lambda reads the table stream for {label}")
            table = stack.find("aws_dynamodb_table", stream_arn=source)
            sse = stack.r(table[1].get("server_side_encryption", {})) if table else {}
            if isinstance(sse, dict) and sse.get("kms_key_arn"):
                add(role, "kms:Decrypt", sse["kms_key_arn"], f"Lambda decrypts the table stream for {label}",
                    {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com", "kms:CallerAccount": Stack.account_of_role(role)},
                    scoped=("kms:ViaService",))
        destination = stack.r(mapping.get("destination_config", {}).get("on_failure", {}).get("destination_arn")) if mapping.get("destination_config") else None
        if destination:
            queue_send(role, destination, f"Lambda sends {label}'s failed batch metadata to the on-failure queue")

    for _, invoke_config in stack.each("aws_lambda_function_event_invoke_config"):
        function = stack.function(stack.r(invoke_config["function_name"]))
        destination = stack.r(invoke_config.get("destination_config", {}).get("on_failure", {}).get("destination"))
        if function and destination:
            queue_send(stack.r(function[1]["role"]), destination, f"Lambda sends {stack.r(invoke_config['function_name'])}'s failed invocations to its queue")

    for _, permission in stack.each("aws_lambda_permission"):
        function = stack.function(stack.r(permission["function_name"]))
        if function is None:
            continue
        function_arn = stack.value(function[0], "arn")
        source_arn = stack.r(permission.get("source_arn", ""))
        add(stack.r(permission["principal"]), "lambda:InvokeFunction", function_arn, f"{stack.r(permission['principal'])} invokes {stack.r(permission['function_name'])}",
            {"aws:SourceArn": source_arn, "aws:SourceAccount": function_arn.split(":")[4]}, as_role=False, scoped=("aws:SourceArn",))

    for _, destination in stack.each("aws_ses_event_destination"):
        topic_arn = stack.r(destination.get("sns_destination", {}).get("topic_arn"))
        config_set = stack.find("aws_ses_configuration_set", name=stack.r(destination["configuration_set_name"]))
        if not topic_arn or config_set is None:
            continue
        context = {"aws:SourceAccount": topic_arn.split(":")[4], "aws:SourceArn": stack.value(config_set[0], "arn")}
        add("ses.amazonaws.com", "sns:Publish", topic_arn, "SES publishes a notification", context, as_role=False, scoped=tuple(context))
        topic = stack.find("aws_sns_topic", arn=topic_arn)
        key = _kms_key_of(stack, topic[0], "kms_master_key_id") if topic else None
        if key:
            # SNS calls KMS for SES with the topic as encryption context (request_context.TABLE)
            sns_context = {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                add("ses.amazonaws.com", action, key, "SES publishes to the encrypted topic", sns_context, as_role=False, scoped=tuple(sns_context))

    for _, delivery in stack.each("aws_kinesis_firehose_delivery_stream"):
        s3 = stack.r(delivery["extended_s3_configuration"])
        role, bucket = s3["role_arn"], s3["bucket_arn"]
        add("firehose.amazonaws.com", "sts:AssumeRole", role, "Firehose assumes its delivery role",
            {"sts:ExternalId": Stack.account_of_role(role)}, as_role=False, scoped=("sts:ExternalId",))
        for action in ("s3:PutObject", "s3:AbortMultipartUpload"):
            add(role, action, f"{bucket}/{s3['prefix']}2026/01/01/00/part-0001.gz", "Firehose writes an object", example=True)
        for action in ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"):
            add(role, action, bucket, "Firehose checks the bucket")
        key = s3.get("kms_key_arn")
        if key:
            # With an S3 Bucket Key the encryption context S3 sends is the bucket ARN, not the object's.
            add(role, "kms:GenerateDataKey", key, "S3 encrypts Firehose's objects (Bucket Key)",
                {"kms:ViaService": f"s3.{REGION}.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": bucket},
                scoped=("kms:ViaService", "kms:EncryptionContext:aws:s3:arn"))
        logging = s3.get("cloudwatch_logging_options", {})
        group = stack.find("aws_cloudwatch_log_group", name=logging.get("log_group_name"))
        if group:
            add(role, "logs:PutLogEvents", f"{stack.value(group[0], 'arn')}:log-stream:{logging.get('log_stream_name')}", "Firehose logs a delivery error")

    for address, alarm in stack.each("aws_cloudwatch_metric_alarm"):
        name = stack.r(alarm["alarm_name"])
        for topic_arn in dict.fromkeys(stack.r([*(alarm.get("alarm_actions") or []), *(alarm.get("ok_actions") or [])])):
            # CloudWatch publishes as itself, with the alarm as source (request_context.TABLE). Every alarm of
            # the account may use its topic: the variant that must fail is another account's.
            context = {"aws:SourceArn": stack.value(address, "arn"), "aws:SourceAccount": stack.r.account_of(alarm)}
            add("cloudwatch.amazonaws.com", "sns:Publish", topic_arn, f"CloudWatch publishes alarm {name}'s state changes", context,
                as_role=False, scoped=("aws:SourceAccount",))
            topic = stack.find("aws_sns_topic", arn=topic_arn)
            key = _kms_key_of(stack, topic[0], "kms_master_key_id") if topic else None
            if not key:
                continue
            context = {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                add("cloudwatch.amazonaws.com", action, key, f"CloudWatch publishes alarm {name} to the encrypted topic",
                    context, as_role=False, scoped=tuple(context))

    for _, integration in stack.each("aws_api_gateway_integration"):
        role = stack.r(integration.get("credentials"))
        template = stack.r(integration.get("request_templates", {}).get("application/json", ""))
        stream = re.search(r'"StreamARN":"([^"]+)"', template)
        if not role or stream is None:
            continue
        # API Gateway sends no aws:SourceAccount/SourceArn when it assumes an integration's credentials
        # role (live report: aws-solutions-library-samples/accelerated-intelligent-document-processing-on-aws
        # PR #479); supplying one here once hid a trust that denied every request.
        add("apigateway.amazonaws.com", "sts:AssumeRole", role, "API Gateway assumes the integration role", {}, as_role=False)
        stream_writes(stack, add, role, stream.group(1), "API Gateway puts a request into the stream", actions=("kinesis:PutRecord",))
    return calls


def runtime_calls(stack: Stack, add: Any, role: str, label: str, calls: list[Any]) -> None:
    """A function's runtime calls (RuntimeCall) as the requests AWS sees, with the KMS calls each
    service makes for it. A call made as a role this configuration does not create is left out: that
    role's policies are another account's, not here to evaluate (an assume of it too)."""
    unmanaged = {c.target for c in calls if c.kind == "role" and stack.find("aws_iam_role", arn=c.target) is None}
    for call in calls:
        caller = call.as_role or role
        what = f"{label} {call.what}"
        if caller in unmanaged or (call.kind == "role" and call.target in unmanaged):
            continue
        if call.kind == "role":
            add(role, "sts:AssumeRole", call.target, what, dict(call.context), scoped=tuple(call.context))
        elif call.kind == "table":
            table_write(stack, add, caller, call.target, what)
        elif call.kind == "stream":
            stream_writes(stack, add, caller, call.target, what, call.actions)
        elif call.kind == "delivery_stream":
            for action in call.actions:
                add(caller, action, f"arn:aws:firehose:{REGION}:{Stack.account_of_role(caller)}:deliverystream/{call.target}", what)
        elif call.kind == "secret":
            secret_read(stack, add, caller, call.target, call.actions, what, label)
        else:
            raise ValueError(f"{label}: a runtime call of kind {call.kind!r} the IAM model does not know (xacct_contracts.RuntimeCall)")


def table_write(stack: Stack, add: Any, role: str, table_name: str, what: str) -> None:
    table_arn = f"arn:aws:dynamodb:{REGION}:{Stack.account_of_role(role)}:table/{table_name}"
    add(role, "dynamodb:BatchWriteItem", table_arn, what)
    found = stack.find("aws_dynamodb_table", arn=table_arn)
    sse = stack.r(found[1].get("server_side_encryption", {})) if found else {}
    key = sse.get("kms_key_arn") if isinstance(sse, dict) else None
    if key:
        add(role, "kms:GenerateDataKey", key, f"{what}: the table's key via DynamoDB",
            {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com", "kms:CallerAccount": Stack.account_of_role(role),
             "kms:EncryptionContext:aws:dynamodb:tableName": table_name},
            scoped=() if key.split(":")[4] == Stack.account_of_role(role) and not role.endswith("writer") else ("kms:ViaService",))


def secret_read(stack: Stack, add: Any, role: str, secret_id: str, actions: tuple[str, ...], what: str, label: str) -> None:
    secret = stack.find("aws_secretsmanager_secret", name=secret_id)
    if not secret:
        return
    secret_arn = stack.value(secret[0], "arn")
    for action in actions:
        add(role, action, secret_arn, what)
    key = _kms_key_of(stack, secret[0], "kms_key_id")
    if key:
        add(role, "kms:Decrypt", key, f"{label} decrypts the secret via Secrets Manager",
            {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com", "kms:EncryptionContext:SecretARN": secret_arn},
            scoped=("kms:ViaService",))


def stream_writes(stack: Stack, add: Any, role: str, stream_arn: str, what: str, actions: tuple[str, ...] = ("kinesis:PutRecord", "kinesis:PutRecords")) -> None:
    for action in actions:
        add(role, action, stream_arn, what)
    stream = stack.find("aws_kinesis_stream", arn=stream_arn)
    key = _kms_key_of(stack, stream[0], "kms_key_id") if stream else None
    if key:
        add(role, "kms:GenerateDataKey", key, f"{what}: the stream's key via Kinesis",
            {"kms:ViaService": f"kinesis.{REGION}.amazonaws.com", "kms:EncryptionContext:aws:kinesis:arn": stream_arn}, scoped=("kms:ViaService",))


# ---- evaluation and report -----------------------------------------------------------------

def request_of(call: Call, stack: Stack) -> dict[str, Any]:
    identity: list[dict[str, Any]] = []
    if call.caller.endswith(":root"):
        identity = [{"name": "root user", "policy": ALLOW_ALL}]
    elif call.identity:
        identity = stack.identity_policies(call.identity[0])
    return {
        "principal": call.caller, "action": call.action, "resource": call.resource, "resourceAccount": call.account or ACCOUNTS["aws.consumer"],
        "context": call.context, "identityPolicies": identity, "resourcePolicy": stack.resource_policy(call),
    }


class EngineError(RuntimeError):
    """The engine could not run (no Node.js, the evaluator failed): nothing was decided."""


def evaluate(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        raise EngineError("node is not on PATH: the IAM engine (make policy-check, make access-review) needs Node.js")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(requests, handle)
    try:
        result = subprocess.run([node, str(EVALUATOR), handle.name], capture_output=True, text=True, cwd=ROOT, timeout=600)
    finally:
        Path(handle.name).unlink()
    if result.returncode != 0:
        raise EngineError(f"the IAM engine failed: {result.stderr[-3000:]}")
    return json.loads(result.stdout)


# moto's EFO consumer ARNs end at the consumer name; AWS's carry the creation time (":<epoch>"), and
# the engine validates ARNs against AWS's formats. Given one everywhere in the state, they stay equal.
# The name is taken whole (not a shorter prefix of it before a timestamp): an ARN that has one is left as it is.
MOTO_CONSUMER_ARN = re.compile(r'(arn:aws:kinesis:[a-z0-9-]+:\d{12}:stream/[^/"\\]+/consumer/[^:/"\\]+)(?![^:/"\\]|:\d)')


def load_state(path: Path) -> dict[str, dict[str, Any]]:
    """Address -> attributes, from `terraform show -json` output or from a local state file itself
    (no Terraform run, no provider processes: what the rehearsal reads)."""
    state = json.loads(MOTO_CONSUMER_ARN.sub(r"\1:1767225600", path.read_text()))
    if "values" in state:
        resources = state["values"].get("root_module", {}).get("resources", [])
        return {r["address"]: r["values"] for r in resources if r.get("mode") == "managed"}
    return {
        f"{r['type']}.{r['name']}": r["instances"][0]["attributes"]
        for r in state.get("resources", []) if r.get("mode") == "managed" and r.get("instances") and "module" not in r
    }
