"""CrossAccountStreamingStack: one Terraform configuration, two aliased AWS providers.

The producer account gets the key, stream, EFO consumer and both resource policies; the
consumer account gets the function and everything around it; one `terraform plan` shows both.
"""

from __future__ import annotations


from constructs import Construct

from xacct_streaming.settings import defaults
from xacct_streaming.settings.kinesis_efo import StackProps
from xacct_streaming.blocks.shared_stream import SharedStream
from xacct_streaming.blocks.stream_consumer import StreamConsumer
from xacct_streaming.stacks.two_account_stack import CONSUMER, PRODUCER, TwoAccountStack


class CrossAccountStreamingStack(TwoAccountStack):
    """The whole cross-account design; resources are attributes for tests and extensions."""

    def __init__(self, scope: Construct, props: StackProps) -> None:
        super().__init__(scope, props.stack_name, props.backend, props.tags)
        self.props = props
        region = self.region
        if props.existing_stream is not None:
            self.require_existing_stream_location(props.existing_stream, consumer_variables=("consumer_account_id",))

        self.consumer = self.function(
            "consumer-function", CONSUMER, props=props.function, sink=props.sink
        )
        if props.existing_stream is not None:
            self.shared = SharedStream.from_existing(
                self, "shared-stream", provider=self.producer_provider, existing=props.existing_stream,
                owner_root_arn=self.root_arn(PRODUCER), region=region, reader_role_arn=self.consumer.role_arn,
            )
        else:
            self.shared = SharedStream(
                self, "shared-stream", provider=self.producer_provider, props=props.stream,
                owner_root_arn=self.root_arn(PRODUCER), region=region, reader_role_arn=self.consumer.role_arn,
            )
        self.wiring = StreamConsumer(
            self,
            "",
            provider=self.consumer_provider,
            function=self.consumer,
            event_source_arn=self.shared.stream_consumer.arn,
            mapping=props.mapping,
            source=[self.shared.read_grant, self.consumer.grant_stream_read(self.shared)],
            sink_table=props.sink,
        )
        self.sink_table, self.mapping = self.wiring.sink_table, self.wiring.mapping
        # An existing stream's retention is its owner's: 24 hours, Kinesis's default and least, unless the threshold is set.
        retention = props.stream.retention_period_hours if props.existing_stream is None else defaults.STREAM_RETENTION_HOURS
        self.alarms = self.watch("alarms", CONSUMER, self.consumer, props.alarms, retention_hours=retention, mapping=self.mapping,
                                 event_counts=props.mapping.event_count_metrics)
        self._build_outputs()

    def _build_outputs(self) -> None:
        outputs = {
            **self.stream_outputs(self.shared),
            **self.function_outputs(self.consumer, "the consumer function", CONSUMER),
            "event_source_mapping_uuid": (self.mapping.mapping.uuid, "UUID of the event source mapping on the EFO consumer."),
            **self.finish_monitoring(self.props.alarms),
        }
        if self.sink_table is not None:
            outputs["sink_table_name"] = (self.sink_table.table.name, "DynamoDB table the consumer writes each record to (consumer account).")
            outputs["sink_table_arn"] = (self.sink_table.table.arn, "ARN of the sink table.")
        self.add_outputs(outputs)
