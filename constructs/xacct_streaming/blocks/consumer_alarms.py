"""ConsumerAlarms: CloudWatch alarms on the consumer function and its queues."""

from __future__ import annotations

from typing import Mapping, Optional

from xacct_streaming.framework import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.aws import CloudwatchMetricAlarm
from xacct_streaming.settings.props import AlarmProps


def metric_alarm(
    scope: Construct,
    id_: str,
    *,
    provider: TerraformProvider,
    props: AlarmProps,
    name: str,
    description: str,
    namespace: str,
    metric: str,
    dimensions: Mapping[str, str],
    statistic: str,
    threshold: int,
    comparison: str,
    topic_arn: Optional[str],
) -> CloudwatchMetricAlarm:
    """One alarm, notifying `topic_arn` when it fires and when it is back to OK (None: nobody)."""
    actions = [topic_arn] if topic_arn is not None else None
    return CloudwatchMetricAlarm(
        scope,
        id_,
        provider=provider,
        alarm_name=name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric,
        dimensions=dict(dimensions),
        statistic=statistic,
        period=props.period_seconds,
        evaluation_periods=props.evaluation_periods,
        threshold=threshold,
        comparison_operator=comparison,
        treat_missing_data="notBreaching",
        alarm_actions=actions,
        ok_actions=actions,
    )


class ConsumerAlarms(Construct):
    """Iterator age (how far behind the source the function reads), errors, throttles, and messages
    waiting in the dead-letter and on-failure queues, each notifying `topic_arn`. Each alarm is an
    attribute; `all` lists them."""

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
        topic_arn: Optional[str],
        iterator_age_seconds: Optional[int],
    ) -> None:
        """`iterator_age_seconds` None for a function no event source mapping drives (no iterator age);
        queue names None for a function without that queue (no alarm that could never fire)."""
        super().__init__(scope, id_)
        self._provider, self._props, self._topic_arn, self._function_name = provider, props, topic_arn, function_name
        function = {"FunctionName": function_name}
        self.iterator_age = None if iterator_age_seconds is None else self._alarm(
            "iterator-age", "AWS/Lambda", "IteratorAge", function, "Maximum", iterator_age_seconds * 1000, "GreaterThanThreshold",
            f"{function_name} reads its source more than {iterator_age_seconds} s behind (half its retention unless set): "
            "records may expire before it reads them",
        )
        self.errors = self._alarm("errors", "AWS/Lambda", "Errors", function, "Sum", props.errors_threshold,
                                  "GreaterThanOrEqualToThreshold", f"{function_name} invocations fail")
        self.throttles = self._alarm("throttles", "AWS/Lambda", "Throttles", function, "Sum", props.throttles_threshold,
                                     "GreaterThanOrEqualToThreshold", f"{function_name} is throttled (reserved concurrency)")
        self.dead_letter_messages = None if dead_letter_queue_name is None else self._alarm(
            "dead-letter-messages", "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": dead_letter_queue_name},
            "Maximum", props.queue_messages_threshold, "GreaterThanOrEqualToThreshold", f"poison records wait in {dead_letter_queue_name}",
        )
        self.on_failure_messages = None if on_failure_queue_name is None else self._alarm(
            "on-failure-messages", "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": on_failure_queue_name},
            "Maximum", props.queue_messages_threshold, "GreaterThanOrEqualToThreshold",
            f"batches exhausted their retries; metadata waits in {on_failure_queue_name}",
        )

    @property
    def all(self) -> list[CloudwatchMetricAlarm]:
        return [a for a in (self.iterator_age, self.errors, self.throttles, self.dead_letter_messages, self.on_failure_messages) if a is not None]

    @property
    def names(self) -> list[str]:
        suffixes = ("iterator-age", "errors", "throttles", "dead-letter-messages", "on-failure-messages")
        alarms = (self.iterator_age, self.errors, self.throttles, self.dead_letter_messages, self.on_failure_messages)
        return [f"{self._function_name}-{suffix}" for suffix, alarm in zip(suffixes, alarms) if alarm is not None]

    def _alarm(self, suffix: str, namespace: str, metric: str, dimensions: Mapping[str, str], statistic: str, threshold: int,
               comparison: str, description: str) -> CloudwatchMetricAlarm:
        return metric_alarm(
            self, suffix, provider=self._provider, props=self._props, name=f"{self._function_name}-{suffix}", description=description,
            namespace=namespace, metric=metric, dimensions=dimensions, statistic=statistic, threshold=threshold, comparison=comparison,
            topic_arn=self._topic_arn,
        )
