"""The calls the running system of a stack makes, per resource type, each with the request context AWS
sends (`request_context.TABLE`, with its sources): what `make policy-check` proves allowed (and its
variants denied) and what the access review lists first.

A function's own calls come from its runtime's contract (lambda_src/xacct_contracts.py); the calls
AWS makes for it (Lambda reading a stream, a service publishing to a topic, KMS for each of them)
from the resources that wire it.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Optional

from xacct_ops.iam.policy import Call
from xacct_ops.iam.request_context import NotInTable, context_for
from xacct_ops.iam.resolver import REGION
from xacct_ops.iam.stack import Stack
from xacct_streaming.settings.runtime_contracts import RuntimeCall, settings_for


class Calls:
    """The calls found so far in one stack. `strict` (make policy-check): a call request_context.TABLE
    has no row for is an error; otherwise (the access review) it is left out here, and the policy
    statement that grants it is reviewed as written."""

    def __init__(self, stack: Stack, strict: bool) -> None:
        self.stack, self.strict = stack, strict
        self.found: list[Call] = []

    def add(self, caller: str, action: str, resource: str, what: str, context: Optional[dict[str, str]] = None, as_role: bool = True,
            scoped: Iterable[str] = (), example: bool = False) -> None:
        # The context comes only from what request_context.TABLE says the call carries (with its source);
        # a role's call with no context keys is an ordinary API call of its own.
        context = dict(context or {})
        if context or not as_role:
            via = context.get("kms:ViaService", "").split(".")[0]
            try:
                context = context_for("role" if as_role else caller, action, context, via)
            except NotInTable:
                if self.strict:
                    raise
                return
        self.found.append(Call(self.stack.name, caller, action, resource, "Allowed", what, context, (caller,) if as_role else (), tuple(scoped), example))

    def key_of(self, address: str, argument: str) -> Optional[str]:
        """The KMS key ARN a resource's argument names, if it is one."""
        body = self.stack.r.resources[address]
        value = self.stack.r(body.get(argument)) if body.get(argument) else None
        return value if isinstance(value, str) and value.startswith("arn:aws:kms:") else None

    def queue_send(self, role: str, queue_arn: str, what: str) -> None:
        self.add(role, "sqs:SendMessage", queue_arn, what)
        found = self.stack.find("aws_sqs_queue", arn=queue_arn)
        key = self.key_of(found[0], "kms_master_key_id") if found else None
        if key:
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                self.add(role, action, key, f"{what}: the queue's key via SQS",
                         {"kms:ViaService": f"sqs.{REGION}.amazonaws.com", "kms:CallerAccount": Stack.account_of_role(role)})

    def table_write(self, role: str, table_name: str, what: str) -> None:
        table_arn = f"arn:aws:dynamodb:{REGION}:{Stack.account_of_role(role)}:table/{table_name}"
        self.add(role, "dynamodb:BatchWriteItem", table_arn, what)
        found = self.stack.find("aws_dynamodb_table", arn=table_arn)
        sse = self.stack.r(found[1].get("server_side_encryption", {})) if found else {}
        key = sse.get("kms_key_arn") if isinstance(sse, dict) else None
        if key:
            own = key.split(":")[4] == Stack.account_of_role(role) and not role.endswith("writer")
            self.add(role, "kms:GenerateDataKey", key, f"{what}: the table's key via DynamoDB",
                     {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com", "kms:CallerAccount": Stack.account_of_role(role),
                      "kms:EncryptionContext:aws:dynamodb:tableName": table_name},
                     scoped=() if own else ("kms:ViaService",))

    def stream_writes(self, role: str, stream_arn: str, what: str, actions: Iterable[str]) -> None:
        for action in actions:
            self.add(role, action, stream_arn, what)
        stream = self.stack.find("aws_kinesis_stream", arn=stream_arn)
        key = self.key_of(stream[0], "kms_key_id") if stream else None
        if key:
            self.add(role, "kms:GenerateDataKey", key, f"{what}: the stream's key via Kinesis",
                     {"kms:ViaService": f"kinesis.{REGION}.amazonaws.com", "kms:EncryptionContext:aws:kinesis:arn": stream_arn}, scoped=("kms:ViaService",))

    def secret_read(self, role: str, secret_id: str, actions: Iterable[str], what: str, label: str) -> None:
        secret = self.stack.find("aws_secretsmanager_secret", name=secret_id)
        if not secret:
            return
        secret_arn = self.stack.value(secret[0], "arn")
        for action in actions:
            self.add(role, action, secret_arn, what)
        key = self.key_of(secret[0], "kms_key_id")
        if key:
            self.add(role, "kms:Decrypt", key, f"{label} decrypts the secret via Secrets Manager",
                     {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com", "kms:EncryptionContext:SecretARN": secret_arn},
                     scoped=("kms:ViaService",))

    def runtime(self, role: str, label: str, calls: list[RuntimeCall]) -> None:
        """A function's runtime calls (its contract's) as the requests AWS sees. A call made as a role
        this configuration does not create is left out: that role's policies are another account's,
        not here to evaluate (an assume of it too)."""
        unmanaged = {c.target for c in calls if c.kind == "role" and self.stack.find("aws_iam_role", arn=c.target) is None}
        for call in calls:
            caller, what = call.as_role or role, f"{label} {call.what}"
            if caller in unmanaged or (call.kind == "role" and call.target in unmanaged):
                continue
            if call.kind == "role":
                for action in call.actions:
                    self.add(role, action, call.target, what, dict(call.context), scoped=tuple(call.context))
            elif call.kind == "table":
                self.table_write(caller, call.target, what)
            elif call.kind == "stream":
                self.stream_writes(caller, call.target, what, call.actions)
            elif call.kind == "delivery_stream":
                for action in call.actions:
                    self.add(caller, action, f"arn:aws:firehose:{REGION}:{Stack.account_of_role(caller)}:deliverystream/{call.target}", what)
            elif call.kind == "secret":
                self.secret_read(caller, call.target, call.actions, what, label)
            else:
                raise ValueError(f"{label}: a runtime call of kind {call.kind!r} the IAM model does not know (xacct_contracts.RuntimeCall)")


# ---- per resource type ----------------------------------------------------------------------

def function_calls(c: Calls, address: str, fn: dict[str, Any]) -> None:
    stack = c.stack
    role = stack.r(fn["role"])
    label = stack.value(address, "function_name")
    group_name = stack.r(fn.get("logging_config", {}).get("log_group", ""))
    group = stack.find("aws_cloudwatch_log_group", name=group_name)
    if group:
        group_arn = stack.value(group[0], "arn")
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            c.add(role, action, f"{group_arn}:log-stream:2026/01/01/[$LATEST]0123", f"{label} writes its logs", example=True)
        key = c.key_of(group[0], "kms_key_id")
        if key:
            c.add(f"logs.{REGION}.amazonaws.com", "kms:GenerateDataKey", key, f"CloudWatch Logs encrypts {group_name}",
                  {"kms:EncryptionContext:aws:logs:arn": group_arn}, as_role=False, scoped=("kms:EncryptionContext:aws:logs:arn",))
    env_key = stack.r(fn.get("kms_key_arn")) if fn.get("kms_key_arn") else None
    if env_key:
        c.add(role, "kms:Decrypt", env_key, f"{label}'s environment is decrypted with its role",
              {"kms:ViaService": f"lambda.{REGION}.amazonaws.com", "kms:EncryptionContext:aws:lambda:FunctionArn": stack.value(address, "arn")})
    dlq = stack.r(fn.get("dead_letter_config", {}).get("target_arn")) if fn.get("dead_letter_config") else None
    if dlq:
        c.queue_send(role, dlq, f"{label} parks a record in its dead-letter queue")
    env = stack.r(fn.get("environment", {}).get("variables", {}))
    c.runtime(role, label, settings_for(stack.r(fn.get("handler", ""))).from_env(env, check=False).calls())


def mapping_calls(c: Calls, _: str, mapping: dict[str, Any]) -> None:
    stack = c.stack
    function = stack.function(stack.r(mapping["function_name"]))
    if function is None:
        return
    role, label = stack.r(function[1]["role"]), stack.value(function[0], "function_name")
    source = stack.r(mapping["event_source_arn"])
    source_stream = source.split("/consumer/")[0]
    if ":kinesis:" in source:
        if "/consumer/" in source:
            for action in ("kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"):
                c.add(role, action, source, f"Lambda reads the EFO consumer for {label}")
        for action in ("kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:GetShardIterator", "kinesis:GetRecords"):
            c.add(role, action, source_stream, f"Lambda reads the stream for {label}")
        stream = stack.find("aws_kinesis_stream", arn=source_stream)
        key = c.key_of(stream[0], "kms_key_id") if stream else None
        # An existing stream's key is not managed here: a grant bound to the stream shares it.
        granted = None if stream else stack.grant_key_for({"aws:kinesis:arn": source_stream})
        if key or granted:
            c.add(role, "kms:Decrypt", key or granted, f"Lambda decrypts the stream's records for {label}",
                  {"kms:ViaService": f"kinesis.{REGION}.amazonaws.com", "kms:EncryptionContext:aws:kinesis:arn": source_stream},
                  scoped=("kms:ViaService",) if key else ("kms:ViaService", "kms:EncryptionContext:aws:kinesis:arn"))
    elif ":dynamodb:" in source:
        for action in ("dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"):
            c.add(role, action, source, f"Lambda reads the table stream for {label}")
        table = stack.find("aws_dynamodb_table", stream_arn=source)
        sse = stack.r(table[1].get("server_side_encryption", {})) if table else {}
        if isinstance(sse, dict) and sse.get("kms_key_arn"):
            c.add(role, "kms:Decrypt", sse["kms_key_arn"], f"Lambda decrypts the table stream for {label}",
                  {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com", "kms:CallerAccount": Stack.account_of_role(role)},
                  scoped=("kms:ViaService",))
    destination = stack.r(mapping.get("destination_config", {}).get("on_failure", {}).get("destination_arn")) if mapping.get("destination_config") else None
    if destination:
        c.queue_send(role, destination, f"Lambda sends {label}'s failed batch metadata to the on-failure queue")


def invoke_config_calls(c: Calls, _: str, invoke_config: dict[str, Any]) -> None:
    stack = c.stack
    function = stack.function(stack.r(invoke_config["function_name"]))
    destination = stack.r(invoke_config.get("destination_config", {}).get("on_failure", {}).get("destination"))
    if function and destination:
        c.queue_send(stack.r(function[1]["role"]), destination, f"Lambda sends {stack.r(invoke_config['function_name'])}'s failed invocations to its queue")


def permission_calls(c: Calls, _: str, permission: dict[str, Any]) -> None:
    stack = c.stack
    function = stack.function(stack.r(permission["function_name"]))
    if function is None:
        return
    function_arn = stack.value(function[0], "arn")
    source_arn = stack.r(permission.get("source_arn", ""))
    c.add(stack.r(permission["principal"]), "lambda:InvokeFunction", function_arn, f"{stack.r(permission['principal'])} invokes {stack.r(permission['function_name'])}",
          {"aws:SourceArn": source_arn, "aws:SourceAccount": function_arn.split(":")[4]}, as_role=False, scoped=("aws:SourceArn",))


def topic_key_calls(c: Calls, service: str, topic_arn: str, what: str) -> None:
    """A service publishing to an encrypted topic: SNS calls KMS for it with the topic as encryption
    context (request_context.TABLE)."""
    topic = c.stack.find("aws_sns_topic", arn=topic_arn)
    key = c.key_of(topic[0], "kms_master_key_id") if topic else None
    if key:
        context = {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            c.add(service, action, key, what, context, as_role=False, scoped=tuple(context))


def ses_destination_calls(c: Calls, _: str, destination: dict[str, Any]) -> None:
    stack = c.stack
    topic_arn = stack.r(destination.get("sns_destination", {}).get("topic_arn"))
    config_set = stack.find("aws_ses_configuration_set", name=stack.r(destination["configuration_set_name"]))
    if not topic_arn or config_set is None:
        return
    context = {"aws:SourceAccount": topic_arn.split(":")[4], "aws:SourceArn": stack.value(config_set[0], "arn")}
    c.add("ses.amazonaws.com", "sns:Publish", topic_arn, "SES publishes a notification", context, as_role=False, scoped=tuple(context))
    topic_key_calls(c, "ses.amazonaws.com", topic_arn, "SES publishes to the encrypted topic")


def delivery_stream_calls(c: Calls, _: str, delivery: dict[str, Any]) -> None:
    stack = c.stack
    s3 = stack.r(delivery["extended_s3_configuration"])
    role, bucket = s3["role_arn"], s3["bucket_arn"]
    c.add("firehose.amazonaws.com", "sts:AssumeRole", role, "Firehose assumes its delivery role",
          {"sts:ExternalId": Stack.account_of_role(role)}, as_role=False, scoped=("sts:ExternalId",))
    for action in ("s3:PutObject", "s3:AbortMultipartUpload"):
        c.add(role, action, f"{bucket}/{s3['prefix']}2026/01/01/00/part-0001.gz", "Firehose writes an object", example=True)
    for action in ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"):
        c.add(role, action, bucket, "Firehose checks the bucket")
    key = s3.get("kms_key_arn")
    if key:
        # With an S3 Bucket Key the encryption context S3 sends is the bucket ARN, not the object's.
        c.add(role, "kms:GenerateDataKey", key, "S3 encrypts Firehose's objects (Bucket Key)",
              {"kms:ViaService": f"s3.{REGION}.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": bucket},
              scoped=("kms:ViaService", "kms:EncryptionContext:aws:s3:arn"))
    logging = s3.get("cloudwatch_logging_options", {})
    group = stack.find("aws_cloudwatch_log_group", name=logging.get("log_group_name"))
    if group:
        c.add(role, "logs:PutLogEvents", f"{stack.value(group[0], 'arn')}:log-stream:{logging.get('log_stream_name')}", "Firehose logs a delivery error")


def alarm_calls(c: Calls, address: str, alarm: dict[str, Any]) -> None:
    stack = c.stack
    name = stack.r(alarm["alarm_name"])
    for topic_arn in dict.fromkeys(stack.r([*(alarm.get("alarm_actions") or []), *(alarm.get("ok_actions") or [])])):
        # CloudWatch publishes as itself, with the alarm as source (request_context.TABLE). Every alarm of
        # the account may use its topic: the variant that must fail is another account's.
        context = {"aws:SourceArn": stack.value(address, "arn"), "aws:SourceAccount": stack.r.account_of(alarm)}
        c.add("cloudwatch.amazonaws.com", "sns:Publish", topic_arn, f"CloudWatch publishes alarm {name}'s state changes", context,
              as_role=False, scoped=("aws:SourceAccount",))
        topic_key_calls(c, "cloudwatch.amazonaws.com", topic_arn, f"CloudWatch publishes alarm {name} to the encrypted topic")


def integration_calls(c: Calls, _: str, integration: dict[str, Any]) -> None:
    stack = c.stack
    role = stack.r(integration.get("credentials"))
    template = stack.r(integration.get("request_templates", {}).get("application/json", ""))
    stream = re.search(r'"StreamARN":"([^"]+)"', template)
    if not role or stream is None:
        return
    # API Gateway sends no aws:SourceAccount/SourceArn when it assumes an integration's credentials
    # role (live report: aws-solutions-library-samples/accelerated-intelligent-document-processing-on-aws
    # PR #479); supplying one here once hid a trust that denied every request.
    c.add("apigateway.amazonaws.com", "sts:AssumeRole", role, "API Gateway assumes the integration role", {}, as_role=False)
    c.stream_writes(role, stream.group(1), "API Gateway puts a request into the stream", ("kinesis:PutRecord",))


# The resource types whose resources make or wire calls, in the order the calls are listed.
BY_TYPE: dict[str, Callable[[Calls, str, dict[str, Any]], None]] = {
    "aws_lambda_function": function_calls,
    "aws_lambda_event_source_mapping": mapping_calls,
    "aws_lambda_function_event_invoke_config": invoke_config_calls,
    "aws_lambda_permission": permission_calls,
    "aws_ses_event_destination": ses_destination_calls,
    "aws_kinesis_firehose_delivery_stream": delivery_stream_calls,
    "aws_cloudwatch_metric_alarm": alarm_calls,
    "aws_api_gateway_integration": integration_calls,
}


def calls_by_type(stack: Stack, strict: bool = True) -> dict[str, list[Call]]:
    """The calls the running system makes, by the resource type that makes or wires them (Calls says
    what `strict` does)."""
    found = {}
    for type_, calls_of in BY_TYPE.items():
        calls = Calls(stack, strict)
        for address, body in stack.each(type_):
            calls_of(calls, address, body)
        found[type_] = calls.found
    return found


def expected_calls(stack: Stack, strict: bool = True) -> list[Call]:
    """The calls the running system makes, in BY_TYPE's order."""
    return [call for calls in calls_by_type(stack, strict).values() for call in calls]
