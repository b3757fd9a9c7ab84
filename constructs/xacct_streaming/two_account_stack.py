"""TwoAccountStack: what every stack of the app shares.

One Terraform configuration with the validated variables (`stack_variables.py`), a state
backend, and two aliased AWS providers, each assuming its own deploy role and pinned to its
account with `allowed_account_ids`. Providers are created here and only here; constructs get
them passed in.
"""

from __future__ import annotations

from typing import Any, Mapping

from cdktf import Fn, LocalBackend, S3Backend, TerraformOutput, TerraformProvider, TerraformStack, Token
from constructs import Construct

from xacct_streaming import defaults
from xacct_streaming.aws import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags, DataAwsPartition
from xacct_streaming.consumer_alarms import ConsumerAlarms, alarm_arn_pattern, cloudwatch_key_grant
from xacct_streaming.props import AlarmProps, BackendProps, ConsumerFunctionProps, SinkProps
from xacct_streaming.stack_variables import StackVariables
from xacct_streaming.stream_consumer_function import StreamConsumerFunction, SynchronousFunction

STATE_DIR_FROM_STACK = "../../.."
PRODUCER = "producer"
CONSUMER = "consumer"


class TwoAccountStack(TerraformStack):
    def __init__(self, scope: Construct, stack_name: str, backend: BackendProps, tags: Mapping[str, str] | None = None) -> None:
        super().__init__(scope, stack_name)
        self.stack_name = stack_name
        self._stack_tags = dict(tags or {})
        self.variables = StackVariables(self)
        self._configure_backend(backend)
        self.producer_provider = self._build_provider(PRODUCER)
        self.consumer_provider = self._build_provider(CONSUMER)
        self.partition = DataAwsPartition(self, "partition", provider=self.producer_provider).partition
        self.region = self.variables["region"]

    def provider(self, side: str) -> TerraformProvider:
        return self.producer_provider if side == PRODUCER else self.consumer_provider

    def account_id(self, side: str) -> str:
        return self.variables[f"{side}_account_id"]

    def root_arn(self, side: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id(side)}:root"

    def role_arn(self, side: str, name: str) -> str:
        """The ARN a role named `name` has (or will have) in `side`'s account: for a role whose ARN
        is needed before it exists, where a reference would make a dependency cycle."""
        return f"arn:{self.partition}:iam::{self.account_id(side)}:role/{name}"

    def log_group_arn(self, side: str, name: str) -> str:
        return f"arn:{self.partition}:logs:{self.region}:{self.account_id(side)}:log-group:{name}"

    def function(
        self,
        id_: str,
        side: str,
        *,
        props: ConsumerFunctionProps,
        sink: SinkProps,
        alarms: AlarmProps,
        synchronous: bool = False,
        **options: Any,
    ) -> Any:
        """A StreamConsumerFunction (a SynchronousFunction if `synchronous`) in `side`'s account;
        `options` go to its constructor."""
        construct = SynchronousFunction if synchronous else StreamConsumerFunction
        return construct(
            self,
            id_,
            provider=self.provider(side),
            props=props,
            sink=sink,
            owner_root_arn=self.root_arn(side),
            log_group_arn=self.log_group_arn(side, props.log_group_name),
            region=self.region,
            partition=self.partition,
            account_id=self.account_id(side),
            metrics_namespace=defaults.METRICS_NAMESPACE,
            key_grants=[
                cloudwatch_key_grant(self.account_id(side), alarm_arn_pattern(self.partition, self.region, self.account_id(side), props.function_name))
            ] if alarms.notification_topic else [],
            **options,
        )

    def watch(
        self, id_: str, side: str, function: SynchronousFunction, props: AlarmProps, reads_stream: bool = True
    ) -> ConsumerAlarms:
        """Iterator age (if a mapping drives it), errors, throttles and the queues `function` has."""
        return ConsumerAlarms(
            self,
            id_,
            provider=self.provider(side),
            props=props,
            function_name=function.props.function_name,
            dead_letter_queue_name=function.props.dead_letter_queue_name if isinstance(function, StreamConsumerFunction) else None,
            on_failure_queue_name=function.props.on_failure_queue_name if isinstance(function, StreamConsumerFunction) else None,
            key_arn=function.key.arn,
            reads_stream=reads_stream,
        )

    def _configure_backend(self, backend: BackendProps) -> None:
        if backend.kind == "s3":
            s3 = S3Backend(self, bucket=backend.bucket, key=backend.key, region=backend.region, encrypt=True)
            # Terraform >= 1.10 locks with an S3 object; no DynamoDB table to manage.
            s3.add_override("use_lockfile", True)
            return
        # Terraform runs in <outdir>/stacks/<stack>; the state lives beside <outdir> (the project
        # root by default), so re-synthesizing never touches it and the path is the same everywhere.
        state_file = backend.path or f"terraform.{self.stack_name}.tfstate"
        LocalBackend(self, path=f"{STATE_DIR_FROM_STACK}/{state_file}")

    def _build_provider(self, side: str) -> AwsProvider:
        return AwsProvider(
            self,
            f"aws-{side}",
            alias=side,
            region=self.variables["region"],
            allowed_account_ids=[self.variables[f"{side}_account_id"]],
            assume_role=[
                AwsProviderAssumeRole(
                    role_arn=self.variables[f"{side}_deploy_role_arn"],
                    session_name=f"{self.stack_name}-{side}"[:64],
                )
            ],
            # The stack's own tags (settings) over the deployment's (`tags` variable).
            default_tags=[AwsProviderDefaultTags(tags=Token.as_string_map(Fn.merge([self.variables.tags, self._stack_tags])) if self._stack_tags else self.variables.tags)],
        )

    def add_outputs(self, outputs: Mapping[str, tuple[Any, str]]) -> None:
        """name -> (value, description); every output gets a description."""
        for name, (value, description) in outputs.items():
            TerraformOutput(self, name, value=value, description=description)
