"""FanoutAccountStack: one consumer account's plan of a split fan-out.

The functions, queues, alarms and sink tables of the consumers in that account, with that
account's provider alone. Its first apply creates the readers' roles (the `reader_role_arns`
output, which the producer plan's policies name). Its second apply, with the producer plan's
`stream_shares` entry for this account as `stream_share`, adds each reader's stream-read policy
and its event source mapping: only then do the stream's and the EFO consumer's policies and the key
grant exist, which a single plan orders with `depends_on`. Without `stream_share` those two
resources have count 0.
"""

from __future__ import annotations

import json
from typing import Any

from constructs import Construct

from xacct_streaming.blocks.grant import Grant
from xacct_streaming.settings.fanout import FanoutConsumerProps, FanoutPlanProps
from xacct_streaming.stacks.accounts_stack import Account, AccountsStack
from xacct_streaming.stacks.fanout_consumers import FanoutConsumers
from xacct_streaming.stacks.stack_variables import FANOUT_ACCOUNT_SPECS, StackVariables

SHARED = '${var.stream_share.stream_arn == "" ? 0 : 1}'


class FanoutAccountStack(AccountsStack):
    def __init__(self, scope: Construct, plan: FanoutPlanProps) -> None:
        def account(variables: StackVariables) -> list[Account]:
            return [Account(plan.account, variables["consumer_account_id"], variables["consumer_deploy_role_arn"], "var.consumer_account_id")]

        super().__init__(scope, plan.stack_name, plan.backend, plan.tags, specs=FANOUT_ACCOUNT_SPECS, accounts=account)
        self.plan, self.props = plan, plan.fanout
        self.monitoring_name = plan.fanout.stack_name
        self._require_share(plan)
        self.consumers = FanoutConsumers(self, plan.fanout, counted=True)
        for consumer in plan.consumers:
            self.consumers.add(consumer, self._read)
            self.consumers.mappings[consumer.name].mapping.add_override("count", SHARED)
        self._build_outputs()

    def _require_share(self, plan: FanoutPlanProps) -> None:
        names = json.dumps([c.name for c in plan.consumers])
        share = "var.stream_share"
        self.variables.require(
            "stream_share",
            f'${{{share}.stream_arn == "" || alltrue([for name in {names} : contains(keys({share}.event_source_arns), name)])}}',
            f"stream_share.event_source_arns must have an entry for every consumer of account {plan.account}: "
            + ", ".join(c.name for c in plan.consumers) + " (the producer plan's stream_shares output).",
        )
        if plan.stream_encrypted_with_key:
            self.variables.require(
                "stream_share",
                f'${{{share}.stream_arn == "" || {share}.key_arn != null}}',
                "stream_share.key_arn must be set: the stream is encrypted with a customer-managed key the readers decrypt with.",
            )
        existing = plan.fanout.existing_stream
        if existing is not None:
            self.variables.require("region", f'${{var.region == "{existing.region}"}}', f"region must be {existing.region}, the region of existing_stream.stream_arn ({existing.stream_arn}).")

    def _read(self, consumer: FanoutConsumerProps, function: Any) -> tuple[str, list[Grant]]:
        """The stream and the consumer's event source as handed over (the producer plan's grants are
        applied before the share is); the read policy exists only with the share."""
        source = f"${{var.stream_share.event_source_arns.{consumer.name}}}"
        read = function.grant_stream_read_arns(
            "${var.stream_share.stream_arn}",
            "${var.stream_share.key_arn}" if self.plan.stream_encrypted_with_key else None,
            source if consumer.enhanced_fan_out else None,
        )
        for policy in read.dependables:
            policy.add_override("count", SHARED)
        return source, [read]

    def _build_outputs(self) -> None:
        functions = self.consumers.functions
        self.add_outputs({
            "reader_role_arns": (
                {n: f.role_arn for n, f in functions.items()},
                "Execution role ARN of each consumer of this account, by consumer name: the producer plan's reader_role_arns (python -m xacct_ops.handoff readers).",
            ),
            "consumer_function_arns": ({n: f.function_arn for n, f in functions.items()}, "ARN of each consumer's function, by consumer name."),
            "consumer_event_source_mapping_uuids": (
                {n: f"${{one({m.mapping.terraform_resource_type}.{m.mapping.friendly_unique_id}[*].uuid)}}" for n, m in self.consumers.mappings.items()},
                "UUID of each consumer's event source mapping (null until stream_share is set).",
            ),
            "consumer_sink_table_names": ({n: t.table.name for n, t in self.consumers.sink_tables.items()}, "DynamoDB table each consumer writes to, in this account."),
            **self.finish_monitoring(self.plan.fanout.alarms),
        })
