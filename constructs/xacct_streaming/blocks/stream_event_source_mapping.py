"""StreamEventSourceMapping: Lambda reading a stream (Kinesis, its EFO consumer, or a table's), with bounded failure handling."""

from __future__ import annotations

from typing import Sequence

from xacct_streaming.framework import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.aws import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingDestinationConfig,
    LambdaEventSourceMappingDestinationConfigOnFailure,
    LambdaEventSourceMappingMetricsConfig,
)
from xacct_streaming.blocks.grant import Grant, dependables
from xacct_streaming.settings.props import EventSourceMappingProps


class StreamEventSourceMapping(Construct):
    """The event source mapping, created only after every grant it relies on is in place.

    `grants` are what lets the function's role read the source and do its work (blocks.grant): the
    mapping's `depends_on` is what they wrote (the resource policies on the stream and on its EFO
    consumer, key policies or key grants, the role's policies), which Terraform cannot see through
    references. The AWS provider retries IAM propagation errors here but knows nothing of resource
    policies.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        props: EventSourceMappingProps,
        function_arn: str,
        event_source_arn: str,
        on_failure_destination_arn: str,
        grants: Sequence[Grant],
    ) -> None:
        super().__init__(scope, id_)
        self.grants = tuple(grants)
        self.mapping = LambdaEventSourceMapping(
            self,
            "mapping",
            provider=provider,
            function_name=function_arn,
            event_source_arn=event_source_arn,
            enabled=props.enabled,
            starting_position=props.starting_position,
            batch_size=props.batch_size,
            maximum_batching_window_in_seconds=props.maximum_batching_window_seconds,
            parallelization_factor=props.parallelization_factor,
            maximum_retry_attempts=props.maximum_retry_attempts,
            maximum_record_age_in_seconds=props.maximum_record_age_seconds,
            bisect_batch_on_function_error=True,
            function_response_types=["ReportBatchItemFailures"],
            destination_config=LambdaEventSourceMappingDestinationConfig(
                on_failure=LambdaEventSourceMappingDestinationConfigOnFailure(
                    destination_arn=on_failure_destination_arn
                )
            ),
            # Kinesis and DynamoDB sources accept only EventCount (Lambda API, EventSourceMappingMetricsConfig).
            metrics_config=LambdaEventSourceMappingMetricsConfig(metrics=["EventCount"]) if props.event_count_metrics else None,
            depends_on=dependables(self.grants),
        )
