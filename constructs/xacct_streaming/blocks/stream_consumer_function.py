"""StreamConsumerFunction: a SynchronousFunction plus the queues a mapping or an asynchronous
caller needs: the dead-letter queue and the on-failure queue, encrypted with the function's key."""

from __future__ import annotations

import functools
from typing import Optional

from xacct_streaming.blocks.aws import LambdaFunctionDeadLetterConfig, SqsQueue
from xacct_streaming.blocks.policy import Statement
from xacct_streaming.blocks.synchronous_function import HANDLER, SynchronousFunction
from xacct_streaming.settings.runtime_contracts import QueuedRuntimeSettings

__all__ = ["HANDLER", "StreamConsumerFunction"]


class StreamConsumerFunction(SynchronousFunction):
    """A function a mapping or an asynchronous caller (SNS) drives: adds the dead-letter queue
    (asynchronous invocations that failed) and the on-failure queue (batches that exhausted
    their retries), both encrypted with the function's key."""

    dead_letter_queue: SqsQueue
    on_failure_queue: SqsQueue

    def _build_queues(self) -> None:
        self.dead_letter_queue = self._build_queue("dead-letter-queue", self.props.dead_letter_queue_name)
        self.on_failure_queue = self._build_queue("on-failure-queue", self.props.on_failure_queue_name)

    # Fixed tokens, read once (each read is a round trip to the jsii kernel).
    @functools.cached_property
    def dead_letter_queue_arn(self) -> str:
        """ARN of the dead-letter queue."""
        return self.dead_letter_queue.arn

    @functools.cached_property
    def on_failure_queue_arn(self) -> str:
        """ARN of the on-failure queue."""
        return self.on_failure_queue.arn

    def _build_queue(self, id_: str, name: str) -> SqsQueue:
        return SqsQueue(
            self,
            id_,
            provider=self._provider,
            name=name,
            kms_master_key_id=self.key.arn,
            kms_data_key_reuse_period_seconds=300,
            message_retention_seconds=self.props.queue_message_retention_seconds,
            tags=self._tags,
        )

    def _queue_statements(self) -> list[Statement]:
        return [
            Statement(
                sid="SendToFailureQueues",
                actions=["sqs:SendMessage"],
                resources=[self.dead_letter_queue_arn, self.on_failure_queue_arn],
            )
        ]

    def _dead_letter_config(self) -> Optional[LambdaFunctionDeadLetterConfig]:
        return LambdaFunctionDeadLetterConfig(target_arn=self.dead_letter_queue_arn)

    def _queue_environment(self) -> dict[str, str]:
        return QueuedRuntimeSettings.environment(dead_letter_queue_url=self.dead_letter_queue.url)
