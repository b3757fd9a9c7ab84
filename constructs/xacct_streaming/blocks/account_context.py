"""AccountContext: one account as the constructs need it, in any TerraformStack.

The provider to create resources with and the partition, region and account id their ARNs are made
of. AccountsStack builds one per account of its plans; a library user's own stack builds its own
(`AccountContext(provider=my_provider, partition=..., region=..., account_id=...)`) and then uses the
same factories to put a consumer next to their own resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from xacct_streaming.framework import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.alarm_topic import AlarmTopic
from xacct_streaming.blocks.consumer_alarms import ConsumerAlarms
from xacct_streaming.blocks.stream_consumer_function import StreamConsumerFunction
from xacct_streaming.blocks.synchronous_function import SynchronousFunction
from xacct_streaming.settings import defaults
from xacct_streaming.settings.props import AlarmProps, ConsumerFunctionProps, SinkProps


@dataclass(frozen=True)
class AccountContext:
    provider: TerraformProvider
    partition: str
    region: str
    account_id: str
    # The account's name in the stack's settings (producer, consumer, a fan-out account): which alarm
    # subscriptions (`[alarms] subscriptions`, `account = ...`) are this account's.
    name: str = ""

    @property
    def root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    @property
    def arn_prefix(self) -> str:
        """`arn:<partition>:{service}:<region>:<account>`: ARNs a policy names before the resource exists."""
        return f"arn:{self.partition}:{{service}}:{self.region}:{self.account_id}"

    def role_arn(self, name: str) -> str:
        """The ARN a role named `name` has (or will have) here: for a role whose ARN is needed before it
        exists, where a reference would make a dependency cycle."""
        return f"arn:{self.partition}:iam::{self.account_id}:role/{name}"

    def log_group_arn(self, name: str) -> str:
        return f"arn:{self.partition}:logs:{self.region}:{self.account_id}:log-group:{name}"

    def function(
        self, scope: Construct, id_: str, *, props: ConsumerFunctionProps, sink: Optional[SinkProps] = None, queues: bool = True, **options: Any,
    ) -> Any:
        """A function in this account, with the dead-letter and on-failure queues a mapping or an
        asynchronous caller needs (`queues`: a StreamConsumerFunction) or without (a SynchronousFunction,
        which its caller waits for); `sink` for the Kinesis runtime's table; `options` go to its constructor."""
        construct = StreamConsumerFunction if queues else SynchronousFunction
        return construct(
            scope,
            id_,
            provider=self.provider,
            props=props,
            sink=sink,
            owner_root_arn=self.root_arn,
            log_group_arn=self.log_group_arn(props.log_group_name),
            region=self.region,
            partition=self.partition,
            account_id=self.account_id,
            metrics_namespace=defaults.METRICS_NAMESPACE,
            **options,
        )

    def alarm_topic(self, scope: Construct, id_: str, *, name: str, props: AlarmProps, key_deletion_window_days: int = defaults.KEY_DELETION_WINDOW_DAYS) -> AlarmTopic:
        """The encrypted topic this account's alarms notify, with the subscriptions of `props` that are
        this account's (those naming it, and the email and https ones naming no account)."""
        return AlarmTopic(
            scope,
            id_,
            provider=self.provider,
            name=name,
            key_alias=f"alias/{name}",
            key_deletion_window_days=key_deletion_window_days,
            owner_root_arn=self.root_arn,
            arn_prefix=self.arn_prefix,
            account_id=self.account_id,
            subscriptions=[s for s in props.subscriptions if s.account in (None, self.name)],
        )

    def alarms(self, scope: Construct, id_: str, function: SynchronousFunction, props: AlarmProps, reads_stream: bool = True, *,
               topic_arn: Optional[str] = None, retention_hours: int = defaults.STREAM_RETENTION_HOURS) -> ConsumerAlarms:
        """Iterator age (if a mapping drives it: `reads_stream`, at half `retention_hours` unless set),
        errors, throttles and the queues `function` has, notifying `topic_arn`; none given (and
        `props.notification_topic` on), a topic of their own, `<function>-alarms`."""
        if topic_arn is None and props.notification_topic:
            topic_arn = self.alarm_topic(scope, f"{id_}-topic", name=f"{function.props.function_name}-alarms", props=props).arn
        queues = isinstance(function, StreamConsumerFunction)
        return ConsumerAlarms(
            scope,
            id_,
            provider=self.provider,
            props=props,
            function_name=function.props.function_name,
            dead_letter_queue_name=function.props.dead_letter_queue_name if queues else None,
            on_failure_queue_name=function.props.on_failure_queue_name if queues else None,
            topic_arn=topic_arn,
            iterator_age_seconds=props.iterator_age_seconds(retention_hours) if reads_stream else None,
        )
