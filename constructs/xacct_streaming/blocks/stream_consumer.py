"""StreamConsumer: one function reading one stream, wired the same way in every stack.

What every stack kind used to write by hand (six times): the sink table the function writes to, the
grant that lets it write there, and the event source mapping that waits for every grant it relies on
(the source's resource side, the role's read policy, the role's runtime policy, the sink's grants),
in that order. A stack says what to connect; the mapping's `depends_on` comes from the grants.

It builds into the stack's scope rather than a node of its own, so each resource keeps the construct
path, and with it the Terraform address, it has always had: existing deployments see no replacement.
"""

from __future__ import annotations

from typing import Optional, Sequence

from xacct_streaming.framework import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.grant import Grant
from xacct_streaming.blocks.sink_table import SinkTable
from xacct_streaming.blocks.stream_consumer_function import StreamConsumerFunction
from xacct_streaming.blocks.stream_event_source_mapping import StreamEventSourceMapping
from xacct_streaming.settings.props import EventSourceMappingProps, SinkProps


class StreamConsumer:
    """`function` reads `event_source_arn` once every grant in `source` (resource side first, then
    the role's read policy) and in `sink` is in place. With `sink_table` props that create a table
    (`SinkProps.creates_table`), the table is built (id `<prefix>sink-table`) with its write grant.

    Attributes: `sink_table` (or None), `grants` (in the order the mapping waits for them), `mapping`.
    """

    def __init__(
        self,
        scope: Construct,
        prefix: str,
        *,
        provider: TerraformProvider,
        function: StreamConsumerFunction,
        event_source_arn: str,
        mapping: EventSourceMappingProps,
        source: Sequence[Grant],
        sink_table: Optional[SinkProps] = None,
        sink: Sequence[Grant] = (),
        mapping_id: str = "mapping",
    ) -> None:
        self.sink_table: Optional[SinkTable] = None
        sink_grants = list(sink)
        if sink_table is not None and sink_table.creates_table:
            self.sink_table = SinkTable(scope, f"{prefix}sink-table", provider=provider, props=sink_table, key_arn=function.key.arn)
            sink_grants.insert(0, function.grant_table_write(self.sink_table.table.arn))
        self.grants: list[Grant] = [*source, function.runtime_grant, *sink_grants]
        self.mapping = StreamEventSourceMapping(
            scope,
            f"{prefix}{mapping_id}",
            provider=provider,
            props=mapping,
            function_arn=function.function_arn,
            event_source_arn=event_source_arn,
            on_failure_destination_arn=function.on_failure_queue_arn,
            grants=self.grants,
        )
