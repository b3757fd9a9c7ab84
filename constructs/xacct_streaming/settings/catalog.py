"""The stacks this app can synthesize, by kind; the kind's name is also its default stack name.

A StackKind is the one place a kind is known: its props and settings tables, its stack class, its
source document, and what the tools run on a stack of the kind: the smoke flow (xacct_ops.smoke_flows), the
rehearsal scenario (tests/harness/rehearse.py) and the resource types whose calls the IAM model must
find in it (make policy-check). Synthesis records each stack's kind and those names in the output's
manifest.json, where the tools look them up. `register` adds a kind of one's own.

Imports no cdktf: choosing and validating stacks stays fast and happens before any output.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence, Union

from xacct_streaming.settings import defaults
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.props import (
    AlarmProps,
    BackendProps,
    ConsumerFunctionProps,
    EventSourceMappingProps,
    ExistingStreamProps,
    SharedStreamProps,
    SinkProps,
)
from xacct_streaming.settings.kinesis_efo import StackProps
from xacct_streaming.settings.fanout import FanoutConsumerProps, FanoutPlanProps, FanoutStackProps
from xacct_streaming.settings.api_ingest import ApiIngestStackProps, IngestApiProps
from xacct_streaming.settings.replication import DeliveryProps, ReplicaProps, ReplicationStackProps
from xacct_streaming.settings.dynamodb_streams import DynamoDBStreamsStackProps, SourceTableProps
from xacct_streaming.settings.ses_notifications import NotificationProps, SesNotificationsStackProps


@dataclass(frozen=True)
class StackKind:
    name: str
    props_type: type
    # Settings-file tables -> the props class each one builds (see config.py).
    sections: Mapping[str, type]
    # "module:Class" (imported only to synthesize), or the class or function itself: (scope, props) -> stack.
    stack_class: Union[str, Callable[[Any, Any], Any]]
    source_document: str  # the file in shared/seeds/ this stack implements (docs/index.md)
    summary: str
    # What the tools run on a stack of this kind (recorded in manifest.json): the smoke flow
    # (xacct_ops.smoke_flows.FLOWS), the rehearsal scenario (tests/harness/rehearse.py SCENARIOS), and the
    # resource types whose calls make policy-check must find in it (xacct_ops.iam.calls.BY_TYPE).
    smoke_flow: str = ""
    rehearsal: str = ""
    calls: tuple[str, ...] = ()
    # Synthesized with its defaults when no settings file names the kind (False: only when configured).
    by_default: bool = True
    # Props of the plans one stack of this kind may be split into (a split fan-out's parts).
    part_types: tuple[type, ...] = ()

    def build(self, scope: Any, props: Any) -> Any:
        if callable(self.stack_class):
            return self.stack_class(scope, props)
        module, name = self.stack_class.split(":")
        return getattr(importlib.import_module(module), name)(scope, props)

    def manifest_entry(self, props: Any) -> dict[str, Any]:
        """What manifest.json records for a stack of this kind (the tools read it there). A stack with
        no consumers (a split fan-out's producer plan without consumers of its own) makes no calls of
        its functions; a split plan records which account's it is."""
        part = {"part": props.account} if type(props) in self.part_types else {}
        calls = self.calls if getattr(props, "consumers", True) else ()
        return {"kind": self.name, **part, "smoke_flow": self.smoke_flow, "rehearsal": self.rehearsal, "calls": list(calls)}


# Resource types whose calls every stack of the built-in kinds makes: its functions', their alarms'.
FUNCTION_CALLS = ("aws_lambda_function", "aws_cloudwatch_metric_alarm")
MAPPED_CALLS = (*FUNCTION_CALLS, "aws_lambda_event_source_mapping")


KINDS: dict[str, StackKind] = {
    kind.name: kind
    for kind in (
        StackKind(
            defaults.STACK_NAME,
            StackProps,
            {
                "stream": SharedStreamProps,
                "existing_stream": ExistingStreamProps,
                "function": ConsumerFunctionProps,
                "mapping": EventSourceMappingProps,
                "sink": SinkProps,
                "alarms": AlarmProps,
                "backend": BackendProps,
            },
            "xacct_streaming.stacks.cross_account_streaming_stack:CrossAccountStreamingStack",
            "000",
            "Kinesis stream shared through enhanced fan-out with a Lambda consumer in another account",
            smoke_flow="stream_to_table",
            rehearsal="kinesis_consumer",
            calls=MAPPED_CALLS,
        ),
        StackKind(
            defaults.DDB_STACK_NAME,
            DynamoDBStreamsStackProps,
            {
                "table": SourceTableProps,
                "function": ConsumerFunctionProps,
                "mapping": EventSourceMappingProps,
                "sink": SinkProps,
                "alarms": AlarmProps,
                "backend": BackendProps,
            },
            "xacct_streaming.stacks.dynamodb_streams_stack:DynamoDBStreamsStack",
            "003",
            "DynamoDB table stream shared through a resource policy with a Lambda consumer in another account",
            smoke_flow="table_to_change_log",
            rehearsal="dynamodb_streams",
            calls=MAPPED_CALLS,
        ),
        StackKind(
            defaults.REPLICATION_STACK_NAME,
            ReplicationStackProps,
            {
                "stream": SharedStreamProps,
                "writer": ConsumerFunctionProps,
                "writer_mapping": EventSourceMappingProps,
                "replica": ReplicaProps,
                "flattener": ConsumerFunctionProps,
                "flattener_mapping": EventSourceMappingProps,
                "delivery": DeliveryProps,
                "alarms": AlarmProps,
                "backend": BackendProps,
            },
            "xacct_streaming.stacks.replication_stack:ReplicationStack",
            "001",
            "Kinesis -> Lambda -> DynamoDB in another account (assumed role + external id) -> Firehose -> S3",
            smoke_flow="stream_to_replica_to_bucket",
            rehearsal="replication",
            calls=(*MAPPED_CALLS, "aws_kinesis_firehose_delivery_stream"),
        ),
        StackKind(
            defaults.SES_STACK_NAME,
            SesNotificationsStackProps,
            {
                "stream": SharedStreamProps,
                "forwarder": ConsumerFunctionProps,
                "notifications": NotificationProps,
                "alarms": AlarmProps,
                "backend": BackendProps,
            },
            "xacct_streaming.stacks.ses_notifications_stack:SesNotificationsStack",
            "004",
            "SES events -> encrypted SNS topic -> Lambda -> Kinesis stream in another account through an assumed role",
            smoke_flow="ses_to_stream",
            rehearsal="ses_notifications",
            calls=(*FUNCTION_CALLS, "aws_lambda_permission", "aws_ses_event_destination"),
        ),
        StackKind(
            defaults.API_STACK_NAME,
            ApiIngestStackProps,
            {
                "stream": SharedStreamProps,
                "api": IngestApiProps,
                "authorizer": ConsumerFunctionProps,
                "function": ConsumerFunctionProps,
                "mapping": EventSourceMappingProps,
                "sink": SinkProps,
                "alarms": AlarmProps,
                "backend": BackendProps,
            },
            "xacct_streaming.stacks.api_ingest_stack:ApiIngestStack",
            "002",
            "API Gateway (basic auth, Secrets Manager) -> Kinesis stream in another account -> Lambda -> DynamoDB",
            smoke_flow="api_to_table",
            rehearsal="api_ingest",
            calls=(*MAPPED_CALLS, "aws_lambda_permission", "aws_api_gateway_integration"),
        ),
        StackKind(
            defaults.FANOUT_STACK_NAME,
            FanoutStackProps,
            {
                "stream": SharedStreamProps,
                "existing_stream": ExistingStreamProps,
                "consumers": FanoutConsumerProps,
                "alarms": AlarmProps,
                "backend": BackendProps,
            },
            "xacct_streaming.stacks.fanout:build_fanout",
            "000",
            "one Kinesis stream read by N Lambda consumers in up to N accounts (EFO or polling), one plan or split",
            smoke_flow="stream_to_every_sink",
            rehearsal="fanout",
            calls=MAPPED_CALLS,
            by_default=False,
            part_types=(FanoutPlanProps,),
        ),
    )
}
BUILT_IN = frozenset(KINDS)


def kind_of(props: Any) -> StackKind:
    """The kind of a stack's props: the kind of exactly that type first (a kind's props may subclass
    another's), else the first whose props it is an instance of."""
    for kind in KINDS.values():
        if type(props) in (kind.props_type, *kind.part_types):
            return kind
    for kind in KINDS.values():
        if isinstance(props, (kind.props_type, *kind.part_types)):
            return kind
    raise TypeError(f"no stack kind for {type(props).__name__}")


def register(kind: StackKind) -> StackKind:
    """Adds a kind of one's own (its name must be new): settings files may name it, synthesis builds
    it, and the tools run what it names for it."""
    if kind.name in KINDS:
        raise ValueError(f"a stack kind named {kind.name!r} is already registered")
    KINDS[kind.name] = kind
    return kind


register_kind = register  # the public API's name for it (xacct_streaming.register_kind)


def unregister(name: str) -> None:
    """Takes a kind `register` added away again (a built-in kind stays)."""
    if name in BUILT_IN:
        raise ValueError(f"{name!r} is a built-in stack kind")
    KINDS.pop(name, None)


def select(configured: Sequence[Any], names: Sequence[str]) -> list[Any]:
    """The configured stacks (one or several, of any kinds), or, with none configured, the default
    stack of every kind that has one; filtered by stack name. A settings file synthesizes what it
    names: the kinds it leaves out get no stack.

    A split fan-out becomes its plans (FanoutStackProps.plans), each a stack of its own; naming the
    fan-out selects all of them. Stack names must be unique: they name output directories and state files.
    """
    stacks = list(configured) or [kind.props_type() for kind in KINDS.values() if kind.by_default]
    # In catalog order; a kind's configured stacks keep the order they were given in (stable sort).
    order = list(KINDS)
    stacks.sort(key=lambda props: order.index(kind_of(props).name))
    groups = [(props.stack_name, list(getattr(props, "plans", tuple)()) or [props]) for props in stacks]
    seen: dict[str, str] = {}
    for props in [*stacks, *(part for _, parts in groups for part in parts if part not in stacks)]:
        if props.stack_name in seen:
            raise ConfigError("stack_name", props.stack_name, f"a name not already used by the {seen[props.stack_name]} stack")
        seen[props.stack_name] = kind_of(props).name
    stacks = [part for _, parts in groups for part in parts]
    if not names:
        return stacks
    by_name = {part.stack_name: [part] for part in stacks} | {name: parts for name, parts in groups}
    chosen = []
    for name in names:
        match = by_name.get(name)
        if not match:
            raise ConfigError("stack", name, "one of " + ", ".join(map(repr, by_name)))
        chosen.extend(props for props in match if props not in chosen)
    return chosen
