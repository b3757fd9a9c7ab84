"""FanoutStack: one stream in the producer account read by N consumers in up to N accounts.

One provider per account (the producer's and each logical account of `consumer_accounts`). The
stream's single resource policy holds one statement per cross-account reader; each EFO consumer
has a policy naming its reader alone; the key policy lets exactly the cross-account readers decrypt
via Kinesis. Readers in the producer account need none of these. Each mapping waits for its own
consumer's policy, the stream policy and the key policy, collected from `SharedStream.grant_read`.
Every consumer's resources live under its own name, so adding or removing one touches only its
resources and the shared policies.

A split fan-out (`split = true`) is built by FanoutProducerStack and FanoutAccountStack instead,
one plan each (`build_fanout` chooses).
"""

from __future__ import annotations

import json
from typing import Any

from constructs import Construct

from xacct_streaming.blocks.grant import Grant
from xacct_streaming.blocks.shared_stream import SharedStream, StreamReader
from xacct_streaming.blocks.sink_table import SinkTable
from xacct_streaming.blocks.stream_consumer import StreamConsumer
from xacct_streaming.blocks.stream_event_source_mapping import StreamEventSourceMapping
from xacct_streaming.settings.fanout_props import FanoutConsumerProps, FanoutPlanProps, FanoutStackProps
from xacct_streaming.stacks.accounts_stack import PRODUCER, Account, AccountsStack
from xacct_streaming.stacks.stack_variables import FANOUT_SPECS, StackVariables


def _accounts(names: list[str]) -> Any:
    def build(variables: StackVariables) -> list[Account]:
        producer = Account(PRODUCER, variables["producer_account_id"], variables["producer_deploy_role_arn"])
        return [producer] + [
            # Attribute access, not ["name"]: the expression also goes inside JSON policy documents,
            # where quotes would be escaped. Account names are identifiers (fanout_props.ACCOUNT_NAME).
            Account(name, f"${{var.consumer_accounts.{name}.account_id}}", f"${{var.consumer_accounts.{name}.deploy_role_arn}}")
            for name in names
        ]

    return build


def build_fanout(scope: Construct, props: FanoutStackProps | FanoutPlanProps) -> AccountsStack:
    """The fan-out's one stack, or one plan of a split fan-out (catalog.select expands those)."""
    if isinstance(props, FanoutPlanProps):
        if props.is_producer:
            from xacct_streaming.stacks.fanout_producer_stack import FanoutProducerStack

            return FanoutProducerStack(scope, props)
        from xacct_streaming.stacks.fanout_account_stack import FanoutAccountStack

        return FanoutAccountStack(scope, props)
    return FanoutStack(scope, props)


class FanoutStack(AccountsStack):
    def __init__(self, scope: Construct, props: FanoutStackProps) -> None:
        super().__init__(scope, props.stack_name, props.backend, props.tags, specs=FANOUT_SPECS, accounts=_accounts(props.accounts))
        self.props = props
        self._require_every_account(props.accounts)
        self._share_stream()
        for consumer in props.consumers:
            self._build_consumer(consumer)
        self._build_outputs()

    def _share_stream(self) -> None:
        """The stream (created or existing) with no reader yet, and the per-consumer collections."""
        props = self.props
        if props.existing_stream is not None:
            self.require_existing_stream_location(props.existing_stream, consumer_variables=())
        self.shared = SharedStream(
            self,
            "shared-stream",
            provider=self.producer_provider,
            props=props.stream if props.existing_stream is None else None,
            existing_stream=props.existing_stream,
            owner_root_arn=self.root_arn(PRODUCER),
            region=self.region,
            reader_role_arn=None,
        )
        self._collections()

    def _collections(self) -> None:
        self.functions: dict[str, Any] = {}
        self.readers: dict[str, StreamReader] = {}
        self.sink_tables: dict[str, SinkTable] = {}
        self.mappings: dict[str, StreamEventSourceMapping] = {}
        self.alarms: dict[str, Any] = {}

    def _require_every_account(self, names: list[str]) -> None:
        listed = json.dumps(names)
        self.variables.require(
            "consumer_accounts",
            f"${{alltrue([for name in {listed} : contains(keys(var.consumer_accounts), name)])}}",
            f"consumer_accounts must have an entry for every account the settings name: {', '.join(names)}.",
        )

    def _build_consumer(self, consumer: FanoutConsumerProps) -> None:
        assert consumer.function is not None and consumer.sink is not None
        name, account = consumer.name, consumer.account
        function = self.function(f"{name}-function", account, props=consumer.function, sink=consumer.sink, alarms=self.props.alarms)
        event_source_arn, source = self._read(consumer, function)
        wiring = StreamConsumer(
            self,
            f"{name}-",
            provider=self.provider(account),
            function=function,
            event_source_arn=event_source_arn,
            mapping=consumer.mapping,
            source=source,
            sink_table=consumer.sink,
        )
        if wiring.sink_table is not None:
            self.sink_tables[name] = wiring.sink_table
        self.mappings[name] = wiring.mapping
        self.alarms[name] = self.watch(f"{name}-alarms", account, function, self.props.alarms)
        self.functions[name] = function

    def _read(self, consumer: FanoutConsumerProps, function: Any) -> tuple[str, list[Grant]]:
        """What `consumer`'s mapping reads, and the grants on both sides that let it."""
        reader = self.shared.grant_read(consumer.name, function.role_arn, consumer_name=consumer.consumer_name, cross_account=not consumer.in_producer_account)
        self.readers[consumer.name] = reader
        return reader.event_source_arn, [reader.grant, function.grant_stream_read(self.shared, reader)]

    def _build_outputs(self) -> None:
        outputs = {
            **self.stream_outputs(self.shared),
            "consumer_function_arns": ({n: f.function_arn for n, f in self.functions.items()}, "ARN of each consumer's function, by consumer name."),
            "consumer_role_arns": ({n: f.role_arn for n, f in self.functions.items()}, "ARN of each consumer's execution role (the readers the stream's policies name), by consumer name."),
            "consumer_event_source_arns": ({n: r.event_source_arn for n, r in self.readers.items()}, "What each consumer's mapping reads: its EFO consumer, or the stream when it polls."),
            "consumer_event_source_mapping_uuids": ({n: m.mapping.uuid for n, m in self.mappings.items()}, "UUID of each consumer's event source mapping."),
            "consumer_sink_table_names": ({n: t.table.name for n, t in self.sink_tables.items()}, "DynamoDB table each consumer writes to, in its own account."),
        }
        self.add_outputs(outputs)
