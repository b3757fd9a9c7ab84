"""Props of the core kind (xacct-kinesis-efo): a stream shared through enhanced fan-out with a consumer
in another account, or an existing stream shared the same way.

Frozen, keyword-only, validated on creation, no cdktf import; its tables are the shared props of
`props.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

from xacct_streaming.settings import defaults
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.naming import check_stack
from xacct_streaming.settings.props import (
    AlarmProps,
    BackendProps,
    ConsumerFunctionProps,
    EventSourceMappingProps,
    ExistingStreamProps,
    SharedStreamProps,
    SinkProps,
    on_demand_concurrency_warnings,
    require_concurrency_for_shards,
    require_iterator_age_within,
)


@dataclass(frozen=True, kw_only=True)
class StackProps:
    """Everything structural about one cross-account streaming stack."""

    stack_name: str = defaults.STACK_NAME
    stream: SharedStreamProps = field(default_factory=SharedStreamProps)
    # Share a stream this configuration does not manage instead of creating `stream`.
    existing_stream: Optional[ExistingStreamProps] = None
    function: ConsumerFunctionProps = field(default_factory=ConsumerFunctionProps)
    mapping: EventSourceMappingProps = field(default_factory=EventSourceMappingProps)
    sink: SinkProps = field(default_factory=SinkProps)
    alarms: AlarmProps = field(default_factory=AlarmProps)
    backend: BackendProps = field(default_factory=BackendProps)
    # Tags of every resource of this stack, over the `tags` variable's (provider default_tags).
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.existing_stream is not None and self.stream != SharedStreamProps():
            raise ConfigError("stream", self.stream, "no [stream] settings with [existing_stream] (one or the other)")
        check_stack(self, skip=("stream",) if self.existing_stream is not None else ())
        if self.existing_stream is None:
            require_iterator_age_within(self.alarms, self.stream.retention_period_hours, "stream.retention_period_hours")
        else:
            require_iterator_age_within(self.alarms, defaults.STREAM_RETENTION_HOURS, "an existing stream's least retention")
        if self.existing_stream is None:
            require_concurrency_for_shards(self.stream, self.function, self.mapping)
        if self.existing_stream is None and self.stream.key_alias == self.function.key_alias:
            # Both keys live in different accounts, but one alias for two keys confuses every reader.
            raise ConfigError("function.key_alias", self.function.key_alias, "an alias different from stream.key_alias")

    @property
    def warnings(self) -> list[str]:
        return [] if self.existing_stream is not None else on_demand_concurrency_warnings(self.stack_name, self.stream, self.function, self.mapping)
