"""Props of the fan-out stack: one stream, consumers in several accounts (no cdktf here).

Each consumer names a logical account ("producer" is the producer account itself); the Terraform
variable `consumer_accounts` maps the other names to account ids and deploy roles. A consumer reads
through an enhanced fan-out consumer of its own (dedicated 2 MB/s per shard) or polls the stream
(the 5 GetRecords/s per shard are shared by every polling reader).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Mapping, Optional

from xacct_streaming.settings import defaults
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.naming import check_stack
from xacct_streaming.settings.patterns import KINESIS_NAME
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
from xacct_streaming.settings.validation import require_match, require_one_of

READ_MODES = ("enhanced_fan_out", "polling")
PRODUCER_ACCOUNT = "producer"
# A provider alias and a Terraform map key: letters, digits, underscores.
ACCOUNT_NAME = r"[a-z][a-z0-9_]{0,30}"
CONSUMER_NAME = r"[a-z][a-z0-9-]{0,30}"
# Kinesis: at most 20 registered consumers per stream, 50 on an On-demand Advantage account's on-demand
# stream (https://docs.aws.amazon.com/streams/latest/dev/enhanced-consumers.html).
MAX_EFO_CONSUMERS = 20
MAX_EFO_CONSUMERS_ADVANTAGE = 50
# Kinesis shares 5 GetRecords/s per shard among every polling reader: more than two and each waits.
POLLING_READERS_BEFORE_WARNING = 2
# The stream's resource policy must fit this many bytes (the 20 KiB resource-policy size AWS
# documents for its resource-based policies; checked with the longest ARN each role can have).
MAX_RESOURCE_POLICY_BYTES = 20_480


@dataclass(frozen=True, kw_only=True)
class FanoutConsumerProps:
    """One reader of the stream: its account, how it reads, its function, mapping and sink.

    `function`, `sink` and `consumer_name` left out are derived from the stack and consumer names
    (FanoutStackProps fills them in): function `<stack>-<name>`, key `alias/<stack>-<name>`, table
    `<stack>-<name>-sink`, EFO consumer `<stack>-<name>`."""

    name: str
    account: str
    read_mode: str = defaults.FANOUT_READ_MODE
    consumer_name: Optional[str] = None
    function: Optional[ConsumerFunctionProps] = None
    mapping: EventSourceMappingProps = field(default_factory=EventSourceMappingProps)
    sink: Optional[SinkProps] = None

    def __post_init__(self) -> None:
        require_match("consumers.name", self.name, CONSUMER_NAME, "1-31 of a-z 0-9 -, starting with a letter")
        require_match("consumers.account", self.account, ACCOUNT_NAME,
                      f"a logical account name (1-31 of a-z 0-9 _, starting with a letter): {PRODUCER_ACCOUNT!r} or a key of the consumer_accounts variable")
        require_one_of(f"consumers.{self.name}.read_mode", self.read_mode, READ_MODES)
        if self.consumer_name is not None:
            require_match(f"consumers.{self.name}.consumer_name", self.consumer_name, KINESIS_NAME, "1-128 of a-z A-Z 0-9 _ . -")
            if self.read_mode == "polling":
                raise ConfigError(f"consumers.{self.name}.consumer_name", self.consumer_name, "no value when read_mode is 'polling' (no EFO consumer)")

    @property
    def enhanced_fan_out(self) -> bool:
        return self.read_mode == "enhanced_fan_out"

    @property
    def in_producer_account(self) -> bool:
        return self.account == PRODUCER_ACCOUNT

    def completed(self, stack_name: str) -> "FanoutConsumerProps":
        """This consumer with every left-out name derived from the stack's and its own."""
        prefix = f"{stack_name}-{self.name}"
        return dataclasses.replace(
            self,
            consumer_name=self.consumer_name or (prefix if self.enhanced_fan_out else None),
            function=self.function or ConsumerFunctionProps(function_name=prefix, key_alias=f"alias/{prefix}"),
            sink=self.sink or SinkProps(table_name=f"{prefix}-sink"),
        )


def _default_consumers() -> tuple[FanoutConsumerProps, ...]:
    return tuple(FanoutConsumerProps(name=n, account=a, read_mode=m) for n, a, m in defaults.FANOUT_CONSUMERS)


@dataclass(frozen=True, kw_only=True)
class FanoutStackProps:
    """One stream in the producer account read by N consumers in up to N accounts, one plan."""

    stack_name: str = defaults.FANOUT_STACK_NAME
    stream: SharedStreamProps = field(
        default_factory=lambda: SharedStreamProps(stream_name=defaults.FANOUT_STREAM_NAME, key_alias=defaults.FANOUT_STREAM_KEY_ALIAS)
    )
    existing_stream: Optional[ExistingStreamProps] = None
    consumers: tuple[FanoutConsumerProps, ...] = field(default_factory=_default_consumers)
    # Accounts whose last consumer was just removed: their providers stay for one apply, so Terraform
    # can destroy what those consumers left there (it cannot without the account's provider).
    retired_accounts: tuple[str, ...] = ()
    alarms: AlarmProps = field(default_factory=AlarmProps)
    backend: BackendProps = field(default_factory=BackendProps)
    tags: Mapping[str, str] = field(default_factory=dict)
    # One plan for the producer side and one per consumer account (see FanoutPlanProps), instead of
    # one plan holding every account's provider.
    split: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.split, bool):
            raise ConfigError("split", self.split, "true or false")
        check_stack(self)
        if self.existing_stream is not None and self.stream != FanoutStackProps.__dataclass_fields__["stream"].default_factory():  # type: ignore[misc]
            raise ConfigError("stream", self.stream, "no [stream] settings with [existing_stream] (one or the other)")
        if self.existing_stream is None:
            require_iterator_age_within(self.alarms, self.stream.retention_period_hours, "stream.retention_period_hours")
        else:
            require_iterator_age_within(self.alarms, defaults.STREAM_RETENTION_HOURS, "an existing stream's least retention")
        if not isinstance(self.consumers, (list, tuple)) or not self.consumers:
            raise ConfigError("consumers", self.consumers, "at least one [[consumers]] table")
        if not isinstance(self.retired_accounts, (list, tuple)):
            raise ConfigError("retired_accounts", self.retired_accounts, "a list of logical account names")
        object.__setattr__(self, "retired_accounts", tuple(self.retired_accounts))
        if self.split and self.retired_accounts:
            raise ConfigError("retired_accounts", list(self.retired_accounts), "no value with split = true (each account has its own plan: run terraform destroy in it)")
        for account in self.retired_accounts:
            require_match("retired_accounts", account, ACCOUNT_NAME, "logical account names (1-31 of a-z 0-9 _, starting with a letter)")
            if account == PRODUCER_ACCOUNT or any(c.account == account for c in self.consumers if isinstance(c, FanoutConsumerProps)):
                raise ConfigError("retired_accounts", account, "an account no consumer uses (and not the producer's)")
        completed = tuple(c.completed(self.stack_name) for c in self.consumers)
        object.__setattr__(self, "consumers", completed)
        if self.existing_stream is None:
            for consumer in completed:
                assert consumer.function is not None
                require_concurrency_for_shards(self.stream, consumer.function, consumer.mapping,
                                               f"consumers.{consumer.name}.function", f"consumers.{consumer.name}.mapping")
        self._require_unique()
        efo = [c for c in completed if c.enhanced_fan_out]
        advantage = self.existing_stream is None and self.stream.on_demand_advantage
        most = MAX_EFO_CONSUMERS_ADVANTAGE if advantage else MAX_EFO_CONSUMERS
        if len(efo) > most:
            raise ConfigError("consumers", f"{len(efo)} enhanced fan-out consumers",
                              f"at most {most} per stream (Kinesis' limit{' in On-demand Advantage' if advantage else ''}); let the others poll"
                              + ("" if advantage else f", or {MAX_EFO_CONSUMERS_ADVANTAGE} with stream.on_demand_advantage = true"))
        size = self.stream_policy_bytes()
        if size > MAX_RESOURCE_POLICY_BYTES:
            raise ConfigError("consumers", f"a stream policy of up to {size} bytes", f"at most {MAX_RESOURCE_POLICY_BYTES} bytes: fewer cross-account consumers per stream")

    def _require_unique(self) -> None:
        seen: dict[tuple[str, ...], str] = {}
        for consumer in self.consumers:
            assert consumer.function is not None and consumer.sink is not None
            account = consumer.account
            for what, key in (
                ("name", ("name", consumer.name)),
                ("consumer_name", ("efo", consumer.consumer_name or "")),
                ("function.function_name", ("function", account, consumer.function.function_name)),
                ("function.key_alias", ("alias", account, consumer.function.key_alias)),
                ("sink.table_name", ("table", account, consumer.sink.table_name)),
            ):
                if key[-1] == "":
                    continue
                if key in seen:
                    raise ConfigError(f"consumers.{consumer.name}.{what}", key[-1], f"a value not already used by consumer {seen[key]!r}" + ("" if what == "name" else " in the same account"))
                seen[key] = consumer.name

    @property
    def accounts(self) -> list[str]:
        """The logical consumer accounts, in first-use order, then the retired ones (the producer's not among them)."""
        return list(dict.fromkeys([*(c.account for c in self.consumers if not c.in_producer_account), *self.retired_accounts]))

    def plans(self) -> tuple["FanoutPlanProps", ...]:
        """The plans of this fan-out: one, or (`split`) the producer's and one per consumer account."""
        if not self.split:
            return ()
        return tuple(FanoutPlanProps(fanout=self, account=a) for a in (PRODUCER_ACCOUNT, *self.accounts))

    @property
    def polling_readers(self) -> list[str]:
        return [c.name for c in self.consumers if not c.enhanced_fan_out]

    @property
    def warnings(self) -> list[str]:
        found = []
        polling = self.polling_readers
        if len(polling) > POLLING_READERS_BEFORE_WARNING:
            found.append(
                f"{self.stack_name}: {len(polling)} consumers poll the stream ({', '.join(polling)}): they share its 5 GetRecords/s "
                "per shard, so each reads less often; give some read_mode = \"enhanced_fan_out\""
            )
        if self.existing_stream is None:
            for consumer in self.consumers:
                assert consumer.function is not None
                found += on_demand_concurrency_warnings(self.stack_name, self.stream, consumer.function, consumer.mapping,
                                                        f"consumers.{consumer.name}.function", f"consumers.{consumer.name}.mapping")
        return found

    def stream_policy_bytes(self) -> int:
        """The stream policy's size with the longest ARN each reader's role can have."""
        statements = [
            {
                "Sid": f"ShareStreamWith{c.name.title().replace('-', '')}", "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws-us-gov:iam::123456789012:role/{c.function.role_name}"},  # type: ignore[union-attr]
                "Action": ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
                "Resource": "arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/" + "x" * 128,
            }
            for c in self.consumers if not c.in_producer_account
        ]
        return len(json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":")))


@dataclass(frozen=True)
class FanoutPlanProps:
    """One plan of a split fan-out: the producer account's (the stream, its key, the EFO consumers,
    every policy, and the consumers that live in the producer account) or one consumer account's
    (its consumers' functions, queues, alarms, tables and mappings).

    The plans pass values explicitly, in the order a single plan gets from `depends_on`:
    1. each account plan is applied first: its roles exist, its mappings wait (no `stream_share` yet);
    2. the producer plan takes their `reader_role_arns` outputs (a policy can name only a role that
       exists) and shares the stream;
    3. each account plan takes its entry of the producer's `stream_shares` output as `stream_share`
       and is applied again: the read policies and mappings come last, after every policy they need.
    `python -m xacct_ops.handoff` copies the outputs into the next plan's inputs."""

    fanout: FanoutStackProps
    account: str

    @property
    def is_producer(self) -> bool:
        return self.account == PRODUCER_ACCOUNT

    @property
    def stack_name(self) -> str:
        return f"{self.fanout.stack_name}-{self.account.replace('_', '-')}"

    @property
    def consumers(self) -> tuple[FanoutConsumerProps, ...]:
        """The consumers whose functions this plan deploys (those of its account)."""
        return tuple(c for c in self.fanout.consumers if c.account == self.account)

    @property
    def remote_consumers(self) -> tuple[FanoutConsumerProps, ...]:
        """In the producer's plan: the cross-account consumers it shares the stream with."""
        return tuple(c for c in self.fanout.consumers if not c.in_producer_account) if self.is_producer else ()

    @property
    def warnings(self) -> list[str]:
        return self.fanout.warnings if self.is_producer else []

    @property
    def backend(self) -> BackendProps:
        """The fan-out's backend with a state of this plan's own: `<key>.<account>.tfstate`."""
        backend = self.fanout.backend

        def own(value: Optional[str]) -> Optional[str]:
            if value is None:
                return None  # the local default already follows the stack name
            stem = value.removesuffix(".tfstate")
            return f"{stem}.{self.account}.tfstate"

        return dataclasses.replace(backend, path=own(backend.path), key=own(backend.key))

    @property
    def tags(self) -> Mapping[str, str]:
        return self.fanout.tags

    @property
    def stream_encrypted_with_key(self) -> bool:
        """Whether readers need kms:Decrypt: a created stream always; an existing one with a key ARN."""
        existing = self.fanout.existing_stream
        return existing is None or existing.key_arn is not None
