"""Extensions of moto 5.2.5 for the rehearsal, each as close to AWS as AWS' docs describe.

Installed into the moto server the rehearsal runs in-process (`install()`), never into the product:

1. `GetResourcePolicy` / `DeleteResourcePolicy` on an enhanced fan-out consumer ARN
   (`.../stream/<stream>/consumer/<name>[:<timestamp>]`): moto looked the ARN's last segment
   up as a stream name and failed. Now the stream and consumer are resolved like any ARN, and a
   consumer's ARN as AWS writes it (with its creation time, which moto's lack) finds its policy.
2. `CreateEventSourceMapping` on an EFO consumer ARN, or on a stream in another account: moto
   only accepts a stream of the function's own account. Now it accepts both, and applies what
   AWS documents for cross-account access: the stream's resource policy must allow the
   function's execution role the stream-read actions and, for a consumer, the consumer's
   policy must allow `DescribeStreamConsumer` and `SubscribeToShard`; otherwise the call fails
   as AWS does (`InvalidParameterValueException`). The mapping is stored, not wired to the
   stream: moto would need Docker to invoke the function, so the rehearsal runs the handler itself.

3. `CreateStream` with `Tags`: moto dropped them, so every plan wanted to add the provider's
   default tags again. Now they are stored, as `AddTagsToStream` would.
4. `CreateFunction` / `UpdateFunctionConfiguration` with `DeadLetterConfig` and `LoggingConfig`:
   moto did not return them from `GetFunction`, so every plan wanted to set them again. Now they
   are kept and returned as AWS returns them.

5. DynamoDB `PutResourcePolicy` / `GetResourcePolicy` / `DeleteResourcePolicy` on a **stream**
   ARN (`.../table/<table>/stream/<label>`): moto read the ARN's last segment as the table name
   and failed. Now the table and its current stream label are resolved.
6. `CreateEventSourceMapping` on another account's DynamoDB stream (seed 003): accepted when the
   stream's resource policy allows the function's role `DescribeStream`, `GetRecords` and
   `GetShardIterator`, refused otherwise as AWS does.
7. Mappings moto does accept (a stream or table stream of the function's own account) are
   stored but not wired to the source: moto would invoke the function on every write, which
   needs Docker and fails the write. The rehearsal runs the handlers itself, as for 2.

8. SES (v1) `PutConfigurationSetDeliveryOptions` and `DeleteConfigurationSetEventDestination`,
   which moto did not implement (the provider waited forever for the first), and
   `DescribeConfigurationSet` returning the delivery options and no empty event destination.

9. Kinesis `PutRecord` / `PutRecords` by `StreamARN` into another account's stream (seed 002's
   API integration): moto looked the ARN up in the caller's account. Now the owner's stream is
   used when its resource policy grants the put action to a role of the caller's account, and
   refused otherwise (moto cannot tell which role called, so it checks the account).

Gaps that remain (listed in the README): moto does not enforce resource or key policies on data
calls, does not invoke functions without Docker, and does not deliver records through mappings.
10. Lambda `GetAccountSettings`, which moto did not implement (preflight reads it): the account's
    concurrency quota is moto's own model of it (`MOTO_LAMBDA_CONCURRENCY_QUOTA`, default 1000, as
    for a settled account; a new account can have 10), and what its functions reserve is taken from
    it, as AWS documents `UnreservedConcurrentExecutions`.
11. Kinesis `DescribeStreamConsumer` on a stream that does not exist: moto failed with an internal
    error; AWS answers `ResourceNotFoundException` (the live access review looks consumers up before
    the first apply).
12. CloudWatch `SetAlarmState` performs the alarm's actions for the new state, as AWS documents for
    testing notifications; moto only recorded the state. (moto evaluates no metric, so an alarm changes
    state here only when set; the rehearsal sets one as a reader's falling behind would.)
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from moto.awslambda import urls as lambda_urls
from moto.cloudwatch.models import CloudWatchBackend
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.awslambda.responses import LambdaResponse
from moto.core.exceptions import JsonRESTError as RESTError
from moto.dynamodb.exceptions import ResourceNotFoundException as TableNotFound
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.kinesis.exceptions import ResourceNotFoundError, StreamNotFoundError
from moto.kinesis.models import KinesisBackend, kinesis_backends
from moto.kinesis.responses import KinesisResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.ses.models import SESBackend
from moto.sns.models import sns_backends
from moto.ses.responses import EmailResponse

STREAM_READ_ACTIONS = {
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
}
CONSUMER_READ_ACTIONS = {"kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"}
TABLE_STREAM_READ_ACTIONS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}

_installed = False


def stream_name_of(resource_arn: str) -> str:
    """`stream/<name>` or `stream/<name>/consumer/<consumer>[:<ts>]` -> <name>."""
    resource = resource_arn.split(":", 5)[5] if resource_arn.count(":") >= 5 else resource_arn
    parts = resource.split("/")
    if len(parts) < 2 or parts[0] != "stream":
        raise StreamNotFoundError(resource_arn, "")
    return parts[1]


def _policy_grants(policy_text: str | None, role_arn: str, needed: set[str]) -> bool:
    if not policy_text:
        return False
    granted: set[str] = set()
    for statement in json.loads(policy_text).get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        principals = statement.get("Principal", {}).get("AWS", [])
        principals = [principals] if isinstance(principals, str) else principals
        if role_arn not in principals:
            continue
        actions = statement.get("Action", [])
        granted.update([actions] if isinstance(actions, str) else actions)
    return needed <= granted


def _get_resource_policy(self: KinesisBackend, resource_arn: str) -> str:
    if stream_name_of(resource_arn) not in self.streams:
        raise StreamNotFoundError(resource_arn, self.account_id)
    # moto's consumer ARNs lack AWS's creation time: the ARN as AWS writes it names the same consumer.
    return self.resource_policies.get(resource_arn) or self.resource_policies.get(re.sub(r"(/consumer/[^:/]+):\d+$", r"\1", resource_arn), "{}")


def _wrap_describe_stream_consumer(original: Any) -> Any:
    def describe_stream_consumer(self: KinesisBackend, stream_arn: str, consumer_name: str, consumer_arn: str) -> Any:
        if stream_arn and self._find_stream_by_arn(stream_arn) is None:
            raise StreamNotFoundError(stream_arn, self.account_id)
        return original(self, stream_arn, consumer_name, consumer_arn)

    return describe_stream_consumer


def _wrap_set_alarm_state(original: Any) -> Any:
    """SetAlarmState performs the actions of the state it sets, when it differs from the alarm's, as
    AWS documents: "When the updated state differs from the previous value, the action configured for
    the appropriate state is invoked" (CloudWatch API Reference, SetAlarmState). An SNS action gets the
    JSON CloudWatch publishes (AlarmName, NewStateValue, ...), in the alarm's own account and region."""
    def set_alarm_state(self: CloudWatchBackend, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
        alarm = self.alarms.get(alarm_name)
        old = alarm.state_value if alarm is not None else None
        original(self, alarm_name, reason, reason_data, state_value)
        if alarm is None or old == state_value or not alarm.actions_enabled:
            return
        actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions, "INSUFFICIENT_DATA": alarm.insufficient_data_actions}[state_value]
        message = json.dumps({
            "AlarmName": alarm.name, "AlarmDescription": alarm.description, "AWSAccountId": self.account_id,
            "NewStateValue": state_value, "NewStateReason": reason, "StateChangeTime": alarm.state_updated_timestamp.isoformat(),
            "Region": self.region_name, "AlarmArn": alarm.alarm_arn, "OldStateValue": old,
            "Trigger": {"MetricName": alarm.metric_name, "Namespace": alarm.namespace, "Threshold": alarm.threshold},
        })
        for action in actions:
            if action.startswith("arn:aws:sns:"):
                account, region = action.split(":")[4], action.split(":")[3]
                sns_backends[account][region].publish(message, arn=action, subject=f'{state_value}: "{alarm.name}" in {region}'[:100])

    return set_alarm_state


def _delete_resource_policy(self: KinesisBackend, resource_arn: str) -> None:
    if stream_name_of(resource_arn) not in self.streams:
        raise StreamNotFoundError(resource_arn, self.account_id)
    if resource_arn not in self.resource_policies:
        raise ResourceNotFoundError(message=f"No resource policy found for resource ARN {resource_arn}.")
    del self.resource_policies[resource_arn]


def _find_kinesis_source(arn: str, region: str) -> tuple[KinesisBackend, Any, Any] | None:
    """(owning backend, stream, consumer or None) for a stream or consumer ARN in any account."""
    try:
        account = arn.split(":")[4]
        name = stream_name_of(arn)
    except (IndexError, StreamNotFoundError):
        return None
    backend: KinesisBackend = kinesis_backends[account][region]
    stream = backend.streams.get(name)
    if stream is None:
        return None
    if "/consumer/" not in arn:
        return (backend, stream, None) if stream.arn == arn else None
    consumer = next((c for c in stream.consumers if c.consumer_arn == arn), None)
    return (backend, stream, consumer) if consumer is not None else None


def _table_of_stream(backend: DynamoDBBackend, stream_arn: str) -> Any:
    """The table whose current stream is `stream_arn`, or None."""
    if "/stream/" not in stream_arn:
        return None
    table_part, label = stream_arn.split("/stream/", 1)
    table = backend.tables.get(table_part.rsplit("/", 1)[-1])
    if table is None or table.latest_stream_label != label:
        return None
    return table


def _wrap_dynamodb_policy_call(original: Any) -> Any:
    """Resource-policy calls on a stream ARN: checked against the table's stream, stored by ARN."""

    def call(self: DynamoDBBackend, resource_arn: str, *args: Any, **kwargs: Any) -> Any:
        if "/stream/" not in resource_arn:
            return original(self, resource_arn, *args, **kwargs)
        if _table_of_stream(self, resource_arn) is None:
            raise TableNotFound(table_name=resource_arn)
        table_arn = resource_arn.split("/stream/", 1)[0]
        # moto's implementation looks the table up by the ARN's last segment: hand it the
        # table's ARN for the lookup, and keep the policy under the stream's own ARN.
        saved = self.resource_policies
        self.resource_policies = {table_arn: saved[resource_arn]} if resource_arn in saved else {}
        try:
            result = original(self, table_arn, *args, **kwargs)
        finally:
            stored = self.resource_policies.get(table_arn)
            self.resource_policies = saved
            if stored is not None:
                saved[resource_arn] = stored
                stored.resource_arn = resource_arn
            else:
                saved.pop(resource_arn, None)
        return result

    return call


def _find_table_stream_source(arn: str, region: str) -> tuple[DynamoDBBackend, Any] | None:
    try:
        account = arn.split(":")[4]
    except IndexError:
        return None
    backend: DynamoDBBackend = dynamodb_backends[account][region]
    table = _table_of_stream(backend, arn)
    return (backend, table) if table is not None else None


def _unwire(mapping: Any, account: str, region: str) -> Any:
    """Keeps moto from invoking the function (Docker) on every write to a same-account source."""
    arn = mapping.event_source_arn
    found = _find_table_stream_source(arn, region)
    if found is not None:
        found[1].lambda_event_source_mappings.pop(mapping.function_arn, None)
    kinesis = _find_kinesis_source(arn, region)
    if kinesis is not None:
        kinesis[1].lambda_event_source_mappings.pop(arn, None)
    return mapping


def _store_mapping(self: LambdaBackend, spec: dict[str, Any], function: Any) -> Any:
    from moto.awslambda.models import EventSourceMapping

    spec["RegionName"] = self.region_name
    spec["AccountId"] = self.account_id
    spec["FunctionArn"] = function.function_arn
    mapping = EventSourceMapping(spec)
    self._event_source_mappings[mapping.uuid] = mapping
    return mapping


def _wrap_create_event_source_mapping(original: Any) -> Any:
    def create_event_source_mapping(self: LambdaBackend, spec: dict[str, Any]) -> Any:
        try:
            return _unwire(original(self, spec), self.account_id, self.region_name)
        except RESTError as error:
            if "Invalid EventSourceArn" not in getattr(error, "message", ""):
                raise
            arn = spec["EventSourceArn"]
            function = self._lambdas.get_function_by_name_or_arn_with_qualifier(spec["FunctionName"])
            table_source = _find_table_stream_source(arn, self.region_name)
            if table_source is not None:
                policy = table_source[0].resource_policies.get(arn)
                if not _policy_grants(policy.policy_doc if policy else None, function.role, TABLE_STREAM_READ_ACTIONS):
                    raise RESTError(
                        "InvalidParameterValueException",
                        f"Cannot access stream {arn}. Please ensure the role can perform the GetRecords, "
                        "GetShardIterator, DescribeStream, and ListStreams Actions on your stream.",
                    ) from None
                return _store_mapping(self, spec, function)
            found = _find_kinesis_source(arn, self.region_name)
            if found is None:
                raise
        backend, stream, consumer = found
        role = function.role
        if backend.account_id != self.account_id:
            if not _policy_grants(backend.resource_policies.get(stream.arn), role, STREAM_READ_ACTIONS):
                raise RESTError(
                    "InvalidParameterValueException",
                    f"Cannot access stream {stream.arn}. Please ensure the role can perform the "
                    "GetRecords, GetShardIterator, DescribeStream, and ListShards Actions on your stream.",
                )
            if consumer is not None and not _policy_grants(backend.resource_policies.get(arn), role, CONSUMER_READ_ACTIONS):
                raise RESTError(
                    "InvalidParameterValueException",
                    f"Cannot access consumer {arn}. Please ensure the role can perform the "
                    "DescribeStreamConsumer and SubscribeToShard Actions on your consumer.",
                )
        return _store_mapping(self, spec, function)

    create_event_source_mapping.__wrapped__ = original  # type: ignore[attr-defined]
    return create_event_source_mapping


KEPT_FUNCTION_SETTINGS = ("DeadLetterConfig", "LoggingConfig")


def _wrap_function_init(original: Any) -> Any:
    def __init__(self: LambdaFunction, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original(self, account_id, spec, *args, **kwargs)
        self.xacct_kept = {key: spec[key] for key in KEPT_FUNCTION_SETTINGS if spec.get(key)}

    return __init__


def _wrap_get_configuration(original: Any) -> Any:
    def get_configuration(self: LambdaFunction, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original(self, *args, **kwargs)
        config.update(getattr(self, "xacct_kept", {}))
        return config

    return get_configuration


def _wrap_update_configuration(original: Any) -> Any:
    def update_configuration(self: LambdaFunction, updates: dict[str, Any]) -> dict[str, Any]:
        kept = getattr(self, "xacct_kept", {})
        kept.update({key: updates[key] for key in KEPT_FUNCTION_SETTINGS if key in updates})
        self.xacct_kept = kept
        return original(self, updates)

    return update_configuration


def _wrap_create_stream_response(original: Any) -> Any:
    def create_stream(self: KinesisResponse) -> Any:
        result = original(self)
        tags = self._get_param("Tags")
        if tags:
            self.kinesis_backend.add_tags_to_stream(stream_arn=None, stream_name=self._get_param("StreamName"), tags=tags)
        return result

    return create_stream


def _put_configuration_set_delivery_options(self: EmailResponse) -> Any:
    config_set = self.backend.describe_configuration_set(self._get_param("ConfigurationSetName"))
    options = self._get_param("DeliveryOptions") or {}
    config_set.delivery_options = {"TlsPolicy": options.get("TlsPolicy", "Optional")}
    return EmptyResult()


def _delete_configuration_set_event_destination(self: EmailResponse) -> Any:
    backend: SESBackend = self.backend
    name, destination = self._get_param("ConfigurationSetName"), self._get_param("EventDestinationName")
    backend.describe_configuration_set(name)
    current = backend.config_set_event_destination.get(name)
    if current is not None and current.get("Name") == destination:
        del backend.config_set_event_destination[name]
        backend.event_destinations.pop(destination, None)
    return EmptyResult()


def _describe_configuration_set(self: EmailResponse) -> Any:
    name = self._get_param("ConfigurationSetName")
    config_set = self.backend.describe_configuration_set(name)
    attributes = self._get_param("ConfigurationSetAttributeNames", [])
    result: dict[str, Any] = {"ConfigurationSet": {"Name": config_set.configuration_set_name}}
    if "eventDestinations" in attributes:
        destination = self.backend.config_set_event_destination.get(name)
        result["EventDestinations"] = [destination] if destination else []
    if "deliveryOptions" in attributes and config_set.delivery_options:
        result["DeliveryOptions"] = config_set.delivery_options
    return ActionResult(result)


def _grants_account(policy_text: str | None, account: str, action: str) -> bool:
    if not policy_text:
        return False
    for statement in json.loads(policy_text).get("Statement", []):
        principals = statement.get("Principal", {}).get("AWS", [])
        principals = [principals] if isinstance(principals, str) else principals
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Effect") == "Allow" and action in actions and any(f":{account}:" in p for p in principals):
            return True
    return False


def _wrap_cross_account_put(original: Any, action: str) -> Any:
    def put(self: KinesisBackend, stream_arn: str | None, stream_name: str | None, *args: Any) -> Any:
        owner_account = stream_arn.split(":")[4] if stream_arn and stream_arn.count(":") >= 5 else self.account_id
        if owner_account == self.account_id:
            return original(self, stream_arn, stream_name, *args)
        owner: KinesisBackend = kinesis_backends[owner_account][self.region_name]
        if not _grants_account(owner.resource_policies.get(stream_arn), self.account_id, action):
            raise RESTError("AccessDeniedException", f"{self.account_id} is not authorized to perform {action} on {stream_arn}")
        return original(owner, stream_arn, stream_name, *args)

    return put


def _get_account_settings(self: Any) -> Any:
    backend = self.backend
    functions = backend.list_functions()
    quota = int(os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA", "1000"))
    reserved = sum(int(f.reserved_concurrency) for f in functions if f.reserved_concurrency)
    code = sum(int(getattr(f, "code_size", 0) or 0) for f in functions)
    body = {
        "AccountLimit": {
            "TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800,
            "ConcurrentExecutions": quota, "UnreservedConcurrentExecutions": quota - reserved,
        },
        "AccountUsage": {"TotalCodeSize": code, "FunctionCount": len(functions)},
    }
    return 200, {"content-type": "application/json"}, json.dumps(body)


def install() -> None:
    """Patches the moto classes in this process; idempotent."""
    global _installed
    if _installed:
        return
    KinesisBackend.get_resource_policy = _get_resource_policy  # type: ignore[method-assign]
    KinesisBackend.delete_resource_policy = _delete_resource_policy  # type: ignore[method-assign]
    KinesisBackend.describe_stream_consumer = _wrap_describe_stream_consumer(KinesisBackend.describe_stream_consumer)  # type: ignore[method-assign]
    CloudWatchBackend.set_alarm_state = _wrap_set_alarm_state(CloudWatchBackend.set_alarm_state)  # type: ignore[method-assign]
    LambdaBackend.create_event_source_mapping = _wrap_create_event_source_mapping(  # type: ignore[method-assign]
        LambdaBackend.create_event_source_mapping
    )
    LambdaFunction.__init__ = _wrap_function_init(LambdaFunction.__init__)  # type: ignore[method-assign]
    LambdaFunction.get_configuration = _wrap_get_configuration(LambdaFunction.get_configuration)  # type: ignore[method-assign]
    LambdaFunction.update_configuration = _wrap_update_configuration(LambdaFunction.update_configuration)  # type: ignore[method-assign]
    KinesisResponse.create_stream = _wrap_create_stream_response(KinesisResponse.create_stream)  # type: ignore[method-assign]
    KinesisBackend.put_record = _wrap_cross_account_put(KinesisBackend.put_record, "kinesis:PutRecord")  # type: ignore[method-assign]
    KinesisBackend.put_records = _wrap_cross_account_put(KinesisBackend.put_records, "kinesis:PutRecords")  # type: ignore[method-assign]
    EmailResponse.put_configuration_set_delivery_options = _put_configuration_set_delivery_options  # type: ignore[attr-defined]
    EmailResponse.delete_configuration_set_event_destination = _delete_configuration_set_event_destination  # type: ignore[attr-defined]
    EmailResponse.describe_configuration_set = _describe_configuration_set  # type: ignore[method-assign]
    for name in ("put_resource_policy", "get_resource_policy", "delete_resource_policy"):
        setattr(DynamoDBBackend, name, _wrap_dynamodb_policy_call(getattr(DynamoDBBackend, name)))
    LambdaResponse.get_account_settings = _get_account_settings  # type: ignore[attr-defined]
    lambda_urls.url_paths.setdefault(r"{0}/(?P<api_version>[^/]+)/account-settings/?$", LambdaResponse.dispatch)
    _installed = True
