"""The parts every fan-out plan composes: the shared stream and the consumers built around it.

FanoutStack (one plan), FanoutProducerStack and FanoutAccountStack (a split fan-out's plans) are each
an AccountsStack of their own with their own providers; they share these parts rather than one
another's constructors. The parts build into the stack's scope, so every resource keeps the address it
has in a single plan and in a split one alike.
"""

from __future__ import annotations

from typing import Any, Callable

from xacct_streaming.blocks.grant import Grant
from xacct_streaming.blocks.shared_stream import SharedStream, StreamReader
from xacct_streaming.blocks.sink_table import SinkTable
from xacct_streaming.blocks.stream_consumer import StreamConsumer
from xacct_streaming.blocks.stream_event_source_mapping import StreamEventSourceMapping
from xacct_streaming.settings import defaults
from xacct_streaming.settings.fanout import FanoutConsumerProps, FanoutStackProps
from xacct_streaming.settings.props import AlarmProps
from xacct_streaming.stacks.accounts_stack import PRODUCER, AccountsStack

# How a consumer's mapping reads: (the consumer, its function) -> (event source ARN, the grants it waits for).
ReadStrategy = Callable[[FanoutConsumerProps, Any], "tuple[str, list[Grant]]"]


def share_stream(stack: AccountsStack, props: FanoutStackProps) -> SharedStream:
    """The stream (created or existing) in the producer account, with no reader yet."""
    if props.existing_stream is not None:
        stack.require_existing_stream_location(props.existing_stream, consumer_variables=())
        return SharedStream.from_existing(
            stack, "shared-stream", provider=stack.producer_provider, existing=props.existing_stream,
            owner_root_arn=stack.root_arn(PRODUCER), region=stack.region,
        )
    return SharedStream(
        stack, "shared-stream", provider=stack.producer_provider, props=props.stream, owner_root_arn=stack.root_arn(PRODUCER),
        region=stack.region, reader_role_arn=None,
    )


class FanoutConsumers:
    """Each consumer's function, sink table, mapping and alarms in its account, by consumer name."""

    def __init__(self, stack: AccountsStack, fanout: FanoutStackProps, counted: bool = False) -> None:
        """`fanout`: the FanoutStackProps (alarms, the stream's retention); `counted`: the mappings get a
        count (a split account plan's, before the stream is shared)."""
        self._stack = stack
        self._alarms: AlarmProps = fanout.alarms
        # An existing stream's retention is its owner's: 24 hours, Kinesis's default and least.
        self._retention_hours = fanout.stream.retention_period_hours if fanout.existing_stream is None else defaults.STREAM_RETENTION_HOURS
        self._counted = counted
        self.functions: dict[str, Any] = {}
        self.readers: dict[str, StreamReader] = {}
        self.sink_tables: dict[str, SinkTable] = {}
        self.mappings: dict[str, StreamEventSourceMapping] = {}
        self.alarms: dict[str, Any] = {}

    def reading(self, shared: SharedStream) -> ReadStrategy:
        """In the plan that has the stream: each reader is granted on both sides (SharedStream.grant_read)."""
        def read(consumer: FanoutConsumerProps, function: Any) -> tuple[str, list[Grant]]:
            reader = shared.grant_read(
                consumer.name, function.role_arn, consumer_name=consumer.consumer_name, reader_account_id=self._stack.account_id(consumer.account)
            )
            self.readers[consumer.name] = reader
            return reader.event_source_arn, [reader.grant, function.grant_stream_read(shared, reader)]
        return read

    def add(self, consumer: FanoutConsumerProps, read: ReadStrategy) -> None:
        assert consumer.function is not None and consumer.sink is not None
        stack, name, account = self._stack, consumer.name, consumer.account
        function = stack.function(f"{name}-function", account, props=consumer.function, sink=consumer.sink)
        event_source_arn, source = read(consumer, function)
        wiring = StreamConsumer(
            stack,
            f"{name}-",
            provider=stack.provider(account),
            function=function,
            event_source_arn=event_source_arn,
            mapping=consumer.mapping,
            source=source,
            sink_table=consumer.sink,
        )
        if wiring.sink_table is not None:
            self.sink_tables[name] = wiring.sink_table
        self.mappings[name] = wiring.mapping
        mapping = wiring.mapping.mapping
        # A counted mapping (a split account plan's) is referred to as the one instance it may have.
        uuid = f'${{try({mapping.terraform_resource_type}.{mapping.friendly_unique_id}[0].uuid, "")}}' if self._counted else mapping.uuid
        self.alarms[name] = stack.watch(f"{name}-alarms", account, function, self._alarms, retention_hours=self._retention_hours,
                                        mapping_uuid=uuid, event_counts=consumer.mapping.event_count_metrics)
        self.functions[name] = function

    def watch_stream_reads(self, fanout: FanoutStackProps) -> None:
        """In the plan that has the stream: its polling readers share its read throughput (an alarm on it)."""
        if fanout.polling_readers:
            name = fanout.existing_stream.stream_name if fanout.existing_stream is not None else fanout.stream.stream_name
            self._stack.watch_stream_reads("stream-read-alarms", PRODUCER, name, fanout.alarms)

    def outputs(self, shared: SharedStream) -> dict[str, tuple[Any, str]]:
        """The outputs of a plan that has the stream and readers (the single plan, the producer plan)."""
        return {
            **AccountsStack.stream_outputs(shared),
            "consumer_function_arns": ({n: f.function_arn for n, f in self.functions.items()}, "ARN of each consumer's function, by consumer name."),
            "consumer_role_arns": ({n: f.role_arn for n, f in self.functions.items()}, "ARN of each consumer's execution role (the readers the stream's policies name), by consumer name."),
            "consumer_event_source_arns": ({n: r.event_source_arn for n, r in self.readers.items()}, "What each consumer's mapping reads: its EFO consumer, or the stream when it polls."),
            "consumer_event_source_mapping_uuids": ({n: m.mapping.uuid for n, m in self.mappings.items()}, "UUID of each consumer's event source mapping."),
            "consumer_sink_table_names": ({n: t.table.name for n, t in self.sink_tables.items()}, "DynamoDB table each consumer writes to, in its own account."),
        }
