"""TwoAccountStack: an AccountsStack of two accounts, producer and consumer, from the variables
every stack but the fan-out has (`producer_*`, `consumer_*`)."""

from __future__ import annotations

from typing import Mapping

from constructs import Construct

from xacct_streaming.settings.props import BackendProps
from xacct_streaming.stacks.accounts_stack import PRODUCER, Account, AccountsStack
from xacct_streaming.stacks.stack_variables import SPECS, StackVariables

CONSUMER = "consumer"

__all__ = ["CONSUMER", "PRODUCER", "TwoAccountStack"]


def _two_accounts(variables: StackVariables) -> list[Account]:
    return [Account(side, variables[f"{side}_account_id"], variables[f"{side}_deploy_role_arn"], f"var.{side}_account_id") for side in (PRODUCER, CONSUMER)]


class TwoAccountStack(AccountsStack):
    def __init__(self, scope: Construct, stack_name: str, backend: BackendProps, tags: Mapping[str, str] | None = None) -> None:
        super().__init__(scope, stack_name, backend, tags, specs=SPECS, accounts=_two_accounts)
        self.consumer_provider = self.providers[CONSUMER]
