"""DynamoDBStreamsStack (seed 003): a table's stream in the producer account, read from the consumer account.

Producer: key, table with a stream, and the resource policy on the stream ARN naming the
consumer function's role. Consumer: the change forwarder (`lambda_src/changes_handler.py`)
with its role, key, logs and queues, a change-log table, the event source mapping on the
other account's stream ARN, and alarms. One `terraform plan` shows both accounts.
"""

from __future__ import annotations


from constructs import Construct

from xacct_streaming.settings import defaults
from xacct_streaming.settings.dynamodb_streams import DynamoDBStreamsStackProps
from xacct_streaming.settings.runtime_contracts import ChangeSettings
from xacct_streaming.blocks.shared_table_stream import SharedTableStream
from xacct_streaming.blocks.sink_table import SinkTable
from xacct_streaming.blocks.stream_consumer import StreamConsumer
from xacct_streaming.stacks.two_account_stack import CONSUMER, PRODUCER, TwoAccountStack


class DynamoDBStreamsStack(TwoAccountStack):
    def __init__(self, scope: Construct, props: DynamoDBStreamsStackProps) -> None:
        super().__init__(scope, props.stack_name, props.backend, props.tags)
        self.props = props
        self.consumer = self.function(
            "consumer-function",
            CONSUMER,
            props=props.function,
            sink=props.sink,
            builtin_handler=defaults.CHANGES_HANDLER,
            description="Forwards the changes of a DynamoDB table in another account to a change-log table",
            sink_environment=ChangeSettings.environment(table_name=props.sink.table_name),
        )
        self.shared = SharedTableStream(
            self,
            "shared-table",
            provider=self.producer_provider,
            props=props.table,
            owner_root_arn=self.root_arn(PRODUCER),
            region=self.region,
            reader_role_arn=self.consumer.role_arn,
        )
        # The stream's resource policy is in another account: nothing refers to it, the grants carry it.
        stream_read = self.consumer.grant_table_stream_read(self.shared.stream_arn, self.shared.key.arn)
        self.change_log = SinkTable(
            self, "change-log", provider=self.consumer_provider, props=props.sink, key_arn=self.consumer.key.arn
        )
        self.wiring = StreamConsumer(
            self,
            "",
            provider=self.consumer_provider,
            function=self.consumer,
            event_source_arn=self.shared.stream_arn,
            mapping=props.mapping,
            source=[self.shared.read_grant, stream_read],
            sink=[self.consumer.grant_table_write(self.change_log.table.arn)],
        )
        self.mapping = self.wiring.mapping
        self.alarms = self.watch("alarms", CONSUMER, self.consumer, props.alarms, retention_hours=defaults.DYNAMODB_STREAM_RETENTION_HOURS,
                                 mapping=self.mapping, event_counts=props.mapping.event_count_metrics)
        self._build_outputs()

    def _build_outputs(self) -> None:
        shared = self.shared
        self.add_outputs({
            "table_name": (shared.table.name, "DynamoDB table whose stream is shared (producer account)."),
            "table_arn": (shared.table.arn, "ARN of the shared table (producer account)."),
            "table_stream_arn": (shared.stream_arn, "ARN of the table's stream, the event source of the mapping."),
            "kms_key_arn": (shared.key.arn, "ARN of the customer-managed key of the table and its stream (producer account)."),
            **self.function_outputs(self.consumer, "the change forwarder", CONSUMER),
            "event_source_mapping_uuid": (self.mapping.mapping.uuid, "UUID of the event source mapping on the stream."),
            "change_log_table_name": (self.change_log.table.name, "Table the function writes each change to (consumer account)."),
            "change_log_table_arn": (self.change_log.table.arn, "ARN of the change-log table."),
            **self.finish_monitoring(self.props.alarms),
        })
