"""FanoutStack: one stream in the producer account read by N consumers in up to N accounts.

One provider per account (the producer's and each logical account of `consumer_accounts`). The
stream's single resource policy holds one statement per cross-account reader; each EFO consumer
has a policy naming its reader alone; the key policy lets exactly the cross-account readers decrypt
via Kinesis. Readers in the producer account need none of these. Each mapping waits for its own
consumer's policy, the stream policy and the key policy, collected from `SharedStream.grant_read`.
Every consumer's resources live under its own name, so adding or removing one touches only its
resources and the shared policies.

A split fan-out (`split = true`) is built by FanoutProducerStack and FanoutAccountStack instead,
one plan each (`stacks.fanout.build_fanout` chooses); all three compose the same parts
(`stacks.fanout_consumers`).
"""

from __future__ import annotations

import json
from typing import Any

from constructs import Construct

from xacct_streaming.settings.fanout import FanoutStackProps
from xacct_streaming.stacks.accounts_stack import PRODUCER, Account, AccountsStack
from xacct_streaming.stacks.fanout_consumers import FanoutConsumers, share_stream
from xacct_streaming.stacks.stack_variables import FANOUT_SPECS, StackVariables


def _accounts(names: list[str]) -> Any:
    def build(variables: StackVariables) -> list[Account]:
        producer = Account(PRODUCER, variables["producer_account_id"], variables["producer_deploy_role_arn"], "var.producer_account_id")
        return [producer] + [
            # Attribute access, not ["name"]: the expression also goes inside JSON policy documents,
            # where quotes would be escaped. Account names are identifiers (settings.fanout.ACCOUNT_NAME).
            Account(name, f"${{var.consumer_accounts.{name}.account_id}}", f"${{var.consumer_accounts.{name}.deploy_role_arn}}",
                    f"var.consumer_accounts.{name}.account_id")
            for name in names
        ]

    return build


class FanoutStack(AccountsStack):
    def __init__(self, scope: Construct, props: FanoutStackProps) -> None:
        super().__init__(scope, props.stack_name, props.backend, props.tags, specs=FANOUT_SPECS, accounts=_accounts(props.accounts))
        self.props = props
        self._require_every_account(props.accounts)
        self.shared = share_stream(self, props)
        self.consumers = FanoutConsumers(self, props)
        read = self.consumers.reading(self.shared)
        for consumer in props.consumers:
            self.consumers.add(consumer, read)
        self.consumers.watch_stream_reads(props)
        self.add_outputs({**self.consumers.outputs(self.shared), **self.finish_monitoring(props.alarms)})

    def _require_every_account(self, names: list[str]) -> None:
        listed = json.dumps(names)
        self.variables.require(
            "consumer_accounts",
            f"${{alltrue([for name in {listed} : contains(keys(var.consumer_accounts), name)])}}",
            f"consumer_accounts must have an entry for every account the settings name: {', '.join(names)}.",
        )
