"""ConsumerAlarms: CloudWatch alarms on the consumer function and its queues."""

from __future__ import annotations

from typing import Optional

from cdktf import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.aws import CloudwatchMetricAlarm, SnsTopic
from xacct_streaming.blocks.policy import Statement
from xacct_streaming.settings.props import AlarmProps

# What CloudWatch needs on the key of an encrypted topic it publishes alarm notifications to.
CLOUDWATCH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


ALARM_TOPIC_SUFFIX = "-alarms"


def alarm_topic_arn(partition: str, region: str, account_id: str, function_name: str) -> str:
    """The ARN of the topic ConsumerAlarms creates for `function_name` (known before it exists)."""
    return f"arn:{partition}:sns:{region}:{account_id}:{function_name}{ALARM_TOPIC_SUFFIX}"


def cloudwatch_key_grant(topic_arn: str) -> Statement:
    """Key-policy statement letting CloudWatch use the key only for messages of this alarm topic.
    SNS makes the KMS call with the topic's ARN as encryption context (`aws:sns:topicArn`); whether
    CloudWatch's `aws:SourceAccount`/`aws:SourceArn` reach KMS is documented nowhere (xacct_ops.request_context)."""
    return Statement(
        sid="CloudWatchAlarmsPublishToEncryptedTopic",
        principals={"Service": ["cloudwatch.amazonaws.com"]},
        actions=CLOUDWATCH_KEY_ACTIONS,
        resources=["*"],
        conditions={"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}},
    )


class ConsumerAlarms(Construct):
    """Iterator age (how far behind the stream the function reads), errors, throttles, and
    messages waiting in the dead-letter and on-failure queues. Each alarm is an attribute."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        props: AlarmProps,
        function_name: str,
        dead_letter_queue_name: Optional[str],
        on_failure_queue_name: Optional[str],
        key_arn: str,
        reads_stream: bool = True,
    ) -> None:
        """`reads_stream=False` for a function no event source mapping drives (no iterator age);
        queue names None for a function without that queue (no alarm that could never fire)."""
        super().__init__(scope, id_)
        self._provider = provider
        self._props = props
        self._function_name = function_name
        self.topic: Optional[SnsTopic] = self._build_topic(key_arn) if props.notification_topic else None
        self.iterator_age: Optional[CloudwatchMetricAlarm] = None
        if reads_stream:
            self.iterator_age = self._build_alarm(
                "iterator-age", "AWS/Lambda", "IteratorAge", {"FunctionName": function_name}, "Maximum",
                props.iterator_age_threshold_seconds * 1000, "GreaterThanThreshold",
                f"{function_name} reads the shared stream more than {props.iterator_age_threshold_seconds} s behind",
            )
        self.errors = self._build_alarm(
            "errors", "AWS/Lambda", "Errors", {"FunctionName": function_name}, "Sum",
            props.errors_threshold, "GreaterThanOrEqualToThreshold", f"{function_name} invocations fail",
        )
        self.throttles = self._build_alarm(
            "throttles", "AWS/Lambda", "Throttles", {"FunctionName": function_name}, "Sum",
            props.throttles_threshold, "GreaterThanOrEqualToThreshold", f"{function_name} is throttled (reserved concurrency)",
        )
        self.dead_letter_messages = None if dead_letter_queue_name is None else self._build_alarm(
            "dead-letter-messages", "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": dead_letter_queue_name},
            "Maximum", props.queue_messages_threshold, "GreaterThanOrEqualToThreshold",
            f"poison records wait in {dead_letter_queue_name}",
        )
        self.on_failure_messages = None if on_failure_queue_name is None else self._build_alarm(
            "on-failure-messages", "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": on_failure_queue_name},
            "Maximum", props.queue_messages_threshold, "GreaterThanOrEqualToThreshold",
            f"batches exhausted their retries; metadata waits in {on_failure_queue_name}",
        )

    def _build_topic(self, key_arn: str) -> SnsTopic:
        return SnsTopic(self, "topic", provider=self._provider, name=f"{self._function_name}{ALARM_TOPIC_SUFFIX}", kms_master_key_id=key_arn)

    def _build_alarm(
        self,
        suffix: str,
        namespace: str,
        metric: str,
        dimensions: dict[str, str],
        statistic: str,
        threshold: int,
        comparison: str,
        description: str,
    ) -> CloudwatchMetricAlarm:
        actions = [self.topic.arn] if self.topic is not None else None
        return CloudwatchMetricAlarm(
            self,
            suffix,
            provider=self._provider,
            alarm_name=f"{self._function_name}-{suffix}",
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dimensions,
            statistic=statistic,
            period=self._props.period_seconds,
            evaluation_periods=self._props.evaluation_periods,
            threshold=threshold,
            comparison_operator=comparison,
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
        )
