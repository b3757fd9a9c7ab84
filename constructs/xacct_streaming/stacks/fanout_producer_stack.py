"""FanoutProducerStack: the producer account's plan of a split fan-out.

The stream, its key, an EFO consumer per reader, every resource policy and key grant, and the
consumers that live in the producer account, with the producer's provider alone. The readers in
other accounts are known by the role ARNs their account plans output (the `reader_role_arns`
variable): a policy can name only a role that exists, so those plans are applied first. Each
account's share of the stream is the `stream_shares` output, which its plan takes as `stream_share`.
"""

from __future__ import annotations

import json
from typing import Any

from constructs import Construct

from xacct_streaming.settings.fanout import FanoutConsumerProps, FanoutPlanProps
from xacct_streaming.stacks.accounts_stack import PRODUCER, Account, AccountsStack
from xacct_streaming.stacks.fanout_consumers import FanoutConsumers, share_stream
from xacct_streaming.stacks.stack_variables import FANOUT_PRODUCER_SPECS, StackVariables


def _producer(variables: StackVariables) -> list[Account]:
    return [Account(PRODUCER, variables["producer_account_id"], variables["producer_deploy_role_arn"], "var.producer_account_id")]


class FanoutProducerStack(AccountsStack):
    def __init__(self, scope: Construct, plan: FanoutPlanProps) -> None:
        super().__init__(scope, plan.stack_name, plan.backend, plan.tags, specs=FANOUT_PRODUCER_SPECS, accounts=_producer)
        self.plan, self.props = plan, plan.fanout
        self.monitoring_name = plan.fanout.stack_name
        self._require_reader_roles(plan.remote_consumers)
        self.shared = share_stream(self, plan.fanout)
        self.consumers = FanoutConsumers(self, plan.fanout)
        read = self.consumers.reading(self.shared)
        for consumer in plan.consumers:
            self.consumers.add(consumer, read)
        for consumer in plan.remote_consumers:
            self.consumers.readers[consumer.name] = self.shared.grant_read(
                consumer.name,
                # Attribute access (consumer names are identifiers with dashes): the expression also
                # goes inside JSON policy documents, where quotes would be escaped.
                f"${{var.reader_role_arns.{consumer.name}}}",
                consumer_name=consumer.consumer_name,
                reader_account_id=None,  # in an account plan of its own
            )
        self.consumers.watch_stream_reads(plan.fanout)
        self._build_outputs()

    def _require_reader_roles(self, remote: tuple[FanoutConsumerProps, ...]) -> None:
        """Every cross-account reader has an entry, and it is that consumer's own role (its name)."""
        names = json.dumps([c.name for c in remote])
        self.variables.require(
            "reader_role_arns",
            f"${{alltrue([for name in {names} : contains(keys(var.reader_role_arns), name)])}}",
            "reader_role_arns must have an entry for every consumer in another account: "
            + (", ".join(c.name for c in remote) or "(none)") + ". Apply their account plans, then run python -m xacct_ops.handoff readers.",
        )
        suffixes = "{" + ", ".join(f'"{c.name}" = ":role/{c.function.role_name}"' for c in remote) + "}"  # type: ignore[union-attr]
        self.variables.require(
            "reader_role_arns",
            f'${{alltrue([for name, suffix in {suffixes} : endswith(lookup(var.reader_role_arns, name, suffix), suffix)])}}',
            "reader_role_arns: each consumer's entry must be its own execution role: "
            + ", ".join(f"{c.name} -> role/{c.function.role_name}" for c in remote) + ".",  # type: ignore[union-attr]
        )

    def _build_outputs(self) -> None:
        self.add_outputs({**self.consumers.outputs(self.shared), **self.finish_monitoring(self.plan.fanout.alarms)})
        by_account: dict[str, dict[str, Any]] = {}
        for consumer in self.plan.remote_consumers:
            by_account.setdefault(consumer.account, {})[consumer.name] = self.consumers.readers[consumer.name].event_source_arn
        shares = {
            account: {"stream_arn": self.shared.stream_arn, "key_arn": self.shared.key_arn, "event_source_arns": sources}
            for account, sources in by_account.items()
        }
        self.add_outputs({
            "stream_shares": (
                shares,
                "What each consumer account plan reads, by logical account: the stream and key ARNs and each of its consumers' event source "
                "(EFO consumer or stream). Its plan's stream_share variable (python -m xacct_ops.handoff share).",
            ),
        })
