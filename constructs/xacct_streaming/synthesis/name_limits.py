"""What AWS accepts for the names the stacks derive, checked on every synthesized configuration.

Settings are validated field by field, but the names AWS sees are often derived (`<stack>-<consumer>-
on-failure`, `<set>-to-sns`, `alias/<...>`): a value valid for the setting can make a name another
service refuses, which only an apply on a real account would show (moto accepts any name). Every
literal name in the configuration is checked here at synth, before anything is written, and a name
out of bounds fails with the resource, the name, what AWS allows and the settings it comes from.

Sources: the AWS API models botocore ships (min, max, pattern of the request member: checked against
the installed botocore by tests/settings/test_boundaries.py), or the service's API reference where the model
has no constraint.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from xacct_streaming.settings.errors import ConfigError


@dataclass(frozen=True)
class NameLimit:
    min_length: int
    max_length: int
    pattern: str  # what every character must match (a full-match regex of the whole name)
    source: str  # "botocore <service> <Operation>.<Member>", or an AWS page


NAME_LIMITS: dict[tuple[str, str], NameLimit] = {
    ("aws_iam_role", "name"): NameLimit(1, 64, r"[\w+=,.@-]+", "botocore iam CreateRole.RoleName"),
    ("aws_iam_role_policy", "name"): NameLimit(1, 128, r"[\w+=,.@-]+", "botocore iam PutRolePolicy.PolicyName"),
    # The model's 140 is for an ARN; a bare name is "limited to 64 characters in length" (CreateFunction API reference).
    ("aws_lambda_function", "function_name"): NameLimit(1, 64, r"[a-zA-Z0-9_-]+", "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html"),
    ("aws_lambda_permission", "statement_id"): NameLimit(1, 100, r"[a-zA-Z0-9_-]+", "botocore lambda AddPermission.StatementId"),
    ("aws_cloudwatch_log_group", "name"): NameLimit(1, 512, r"[.\-_/#A-Za-z0-9]+", "botocore logs CreateLogGroup.logGroupName"),
    ("aws_cloudwatch_log_stream", "name"): NameLimit(1, 512, r"[^:*]*", "botocore logs CreateLogStream.logStreamName"),
    ("aws_cloudwatch_metric_alarm", "alarm_name"): NameLimit(1, 255, r".+", "botocore cloudwatch PutMetricAlarm.AlarmName"),
    # The model allows 1024 (a table ARN); a name is 3-255 of a-z A-Z 0-9 _ . - (CreateTable API reference).
    ("aws_dynamodb_table", "name"): NameLimit(3, 255, r"[a-zA-Z0-9_.-]+", "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html"),
    ("aws_kinesis_stream", "name"): NameLimit(1, 128, r"[a-zA-Z0-9_.-]+", "botocore kinesis CreateStream.StreamName"),
    ("aws_kinesis_stream_consumer", "name"): NameLimit(1, 128, r"[a-zA-Z0-9_.-]+", "botocore kinesis RegisterStreamConsumer.ConsumerName"),
    ("aws_kinesis_firehose_delivery_stream", "name"): NameLimit(1, 64, r"[a-zA-Z0-9_.-]+", "botocore firehose CreateDeliveryStream.DeliveryStreamName"),
    ("aws_kms_alias", "name"): NameLimit(1, 256, r"alias/[a-zA-Z0-9:/_-]+", "botocore kms CreateAlias.AliasName"),
    ("aws_kms_grant", "name"): NameLimit(1, 256, r"[a-zA-Z0-9:/_-]+", "botocore kms CreateGrant.Name"),
    ("aws_sqs_queue", "name"): NameLimit(1, 80, r"[a-zA-Z0-9_-]+", "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html"),
    ("aws_sns_topic", "name"): NameLimit(1, 256, r"[a-zA-Z0-9_-]+", "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html"),
    ("aws_secretsmanager_secret", "name"): NameLimit(1, 512, r"[a-zA-Z0-9/_+=.@-]+", "botocore secretsmanager CreateSecret.Name"),
    ("aws_ses_configuration_set", "name"): NameLimit(1, 64, r"[a-zA-Z0-9_-]+", "https://docs.aws.amazon.com/ses/latest/APIReference/API_ConfigurationSet.html"),
    ("aws_ses_event_destination", "name"): NameLimit(1, 64, r"[a-zA-Z0-9_-]+", "https://docs.aws.amazon.com/ses/latest/APIReference/API_EventDestination.html"),
    ("aws_api_gateway_stage", "stage_name"): NameLimit(1, 128, r"[a-zA-Z0-9_]+", "https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html"),
    ("aws_s3_bucket", "bucket"): NameLimit(3, 63, r"[a-z0-9][a-z0-9.-]*[a-z0-9]", "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"),
}

# Worst cases for the variables a name may hold: a 12-digit account id, and the longest region name
# (14 characters, e.g. ap-southeast-4; the region variable's validation admits no more in practice).
_VARIABLE_STAND_INS = {"region": "ap-southeast-4"}
_INTERPOLATION = re.compile(r"\$\{([^{}]*)\}")


def _worst_case(value: str) -> Optional[str]:
    """The name with each variable at its longest; None when it holds another reference (an
    attribute of another resource, known only at apply)."""
    def stand_in(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression.startswith("var.") and expression.endswith("account_id"):
            return "1" * 12
        if expression.startswith("var.") and expression[4:] in _VARIABLE_STAND_INS:
            return _VARIABLE_STAND_INS[expression[4:]]
        raise LookupError(expression)

    try:
        return _INTERPOLATION.sub(stand_in, value)
    except LookupError:
        return None


def out_of_bounds(config: dict[str, Any]) -> Iterator[tuple[str, str, str, NameLimit]]:
    """(resource address, attribute, name, limit) for each literal name AWS would refuse."""
    for type_, resources in config.get("resource", {}).items():
        for name, body in resources.items():
            for attribute in {a for (t, a) in NAME_LIMITS if t == type_}:
                value = body.get(attribute)
                if not isinstance(value, str):
                    continue
                worst = _worst_case(value)
                limit = NAME_LIMITS[(type_, attribute)]
                if worst is not None and not (limit.min_length <= len(worst) <= limit.max_length and re.fullmatch(limit.pattern, worst)):
                    path = body.get("//", {}).get("metadata", {}).get("path", name)
                    yield f"{type_}.{path}", attribute, value, limit


def settings_in(name: str, props: Any, prefix: str = "") -> list[str]:
    """The settings (dotted keys) whose string value the name holds: where a derived name comes from."""
    found: list[str] = []
    if dataclasses.is_dataclass(props):
        for field in dataclasses.fields(props):
            value = getattr(props, field.name)
            key = f"{prefix}{field.name}"
            if isinstance(value, str) and len(value) >= 3 and value in name:
                found.append(key)
            elif dataclasses.is_dataclass(value):
                found += settings_in(name, value, f"{key}.")
            elif isinstance(value, tuple):
                for item in value:
                    found += settings_in(name, item, f"{key}.{getattr(item, 'name', '')}.")
    return found


def check_names(config: dict[str, Any], props: Any) -> None:
    """Raises a ConfigError for the first name AWS would refuse, naming the settings it comes from."""
    for address, attribute, value, limit in out_of_bounds(config):
        sources = settings_in(value, props) or ["stack_name"]
        raise ConfigError(
            ", ".join(sources), value,
            f"settings whose derived {attribute} of {address} is {limit.min_length}-{limit.max_length} characters matching "
            f"{limit.pattern} (with a 12-digit account id and a 14-character region; {limit.source}): shorten them",
        )
