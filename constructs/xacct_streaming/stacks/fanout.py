"""The fan-out kind's entry point: one plan, or one plan of a split fan-out."""

from __future__ import annotations

from constructs import Construct

from xacct_streaming.settings.fanout import FanoutPlanProps, FanoutStackProps
from xacct_streaming.stacks.accounts_stack import AccountsStack
from xacct_streaming.stacks.fanout_account_stack import FanoutAccountStack
from xacct_streaming.stacks.fanout_producer_stack import FanoutProducerStack
from xacct_streaming.stacks.fanout_stack import FanoutStack


def build_fanout(scope: Construct, props: FanoutStackProps | FanoutPlanProps) -> AccountsStack:
    """The fan-out's one stack, or one plan of a split fan-out (catalog.select expands those)."""
    if isinstance(props, FanoutPlanProps):
        return FanoutProducerStack(scope, props) if props.is_producer else FanoutAccountStack(scope, props)
    return FanoutStack(scope, props)
