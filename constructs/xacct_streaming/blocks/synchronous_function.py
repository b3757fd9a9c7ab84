"""SynchronousFunction: a Lambda with its role, logs and key, and nothing a caller that waits
for its answer (an API Gateway authorizer) would never use. StreamConsumerFunction builds on it."""

from __future__ import annotations

import functools

from typing import Mapping, Optional, Sequence

from xacct_streaming.framework import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.aws import (
    CloudwatchLogGroup,
    IamRole,
    IamRolePolicy,
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from xacct_streaming.blocks.customer_managed_key import CustomerManagedKey
from xacct_streaming.blocks.function_code_asset import function_code_asset
from xacct_streaming.blocks.grant import Grant
from xacct_streaming.synthesis.lambda_archive import function_code
from xacct_streaming.blocks.policy import (
    STREAM_CONSUMER_READ_ACTIONS,
    STREAM_READ_ACTIONS,
    TABLE_STREAM_READ_ACTIONS,
    dynamodb_service,
    logs_key_grant,
    Statement,
    trust_policy,
    policy_document,
)
from xacct_streaming.settings.props import UNRESERVED, ConsumerFunctionProps, SinkProps
from xacct_streaming.settings.runtime_contracts import ConsumerSettings, RuntimeSettings
from xacct_streaming.blocks.shared_stream import SharedStream, StreamReader, kinesis_service
from xacct_streaming.settings.validation import require_environment

HANDLER = "handler.lambda_handler"
# X-Ray has no resource-level permissions: these two actions only ever take Resource "*".
XRAY_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")
# What Lambda needs to attach a function to a VPC (AWSLambdaVPCAccessExecutionRole, narrowed):
# creating an interface is scoped to the function's subnets and security groups; the Describe
# actions have no resource-level permissions.
ENI_ACTIONS = ("ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses")
ENI_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")


class SynchronousFunction(Construct):
    """A function whose caller waits for its answer: key, log group, role, runtime policy, function.

    No dead-letter or on-failure queue: nothing is retried asynchronously and no mapping has
    batches to give up on, so nothing it can never use is created, alarmed or granted.

    Built in two steps because the producer side may need this role's ARN while this role's
    policy needs the producer's ARNs: the constructor creates the role (and every resource of the
    function), the `grant_*` methods then add policies scoped to what it reads or writes.

    Code (`lambda_archive.function_code`): the built-in runtime's `builtin_handler` unless the props
    name the user's own code.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        props: ConsumerFunctionProps,
        sink: Optional[SinkProps] = None,
        owner_root_arn: str,
        log_group_arn: str,
        region: str,
        partition: str,
        account_id: str,
        metrics_namespace: str,
        key_grants: Sequence[Statement] = (),
        builtin_handler: str = HANDLER,
        description: str = "Consumes a Kinesis stream shared from another account through enhanced fan-out",
        sink_environment: Optional[Mapping[str, str]] = None,
        sink_role_arn: Optional[str] = None,
    ) -> None:
        """`sink`: the table the Kinesis runtime writes to (ConsumerSettings' sink fields), or None for a
        function with no sink of that kind; `sink_environment` replaces those variables for another
        handler (its contract's `environment(...)`); `sink_role_arn` is the role to write through when it is created in the same plan (a
        reference, which SinkProps cannot validate), else `sink.role_arn`."""
        super().__init__(scope, id_)
        self._provider = provider
        self.props = props
        self.sink = sink
        self.code = function_code(props, builtin_handler)
        self._description = description
        self._sink_environment = sink_environment
        self.sink_role_arn = sink_role_arn or (sink.role_arn if sink is not None else None)
        self._region = region
        self._partition = partition
        self._account_id = account_id
        self._metrics_namespace = metrics_namespace
        self._tags = dict(props.tags) or None
        self.key = self._build_key(owner_root_arn, log_group_arn, region, key_grants)
        self.log_group = self._build_log_group()
        self._build_queues()
        self.role = self._build_role()
        self.runtime_policy = self._build_runtime_policy()
        self.function = self._build_function()

    def _build_queues(self) -> None:
        """Nothing for a synchronous function."""

    def _queue_statements(self) -> list[Statement]:
        return []

    def _dead_letter_config(self) -> Optional[LambdaFunctionDeadLetterConfig]:
        return None

    def _queue_environment(self) -> dict[str, str]:
        return {}

    def _build_key(
        self, owner_root_arn: str, log_group_arn: str, region: str, key_grants: Sequence[Statement]
    ) -> CustomerManagedKey:
        logs = logs_key_grant("CloudWatchLogsForFunctionLogGroup", region, log_group_arn)
        return CustomerManagedKey(
            self,
            "key",
            provider=self._provider,
            alias=self.props.key_alias,
            description=f"Encrypts logs, queues and environment of Lambda {self.props.function_name}",
            deletion_window_days=self.props.key_deletion_window_days,
            owner_root_arn=owner_root_arn,
            grants=[logs, *key_grants],
            tags=self._tags,
        )

    def _build_log_group(self) -> CloudwatchLogGroup:
        return CloudwatchLogGroup(
            self,
            "log-group",
            provider=self._provider,
            name=self.props.log_group_name,
            retention_in_days=self.props.log_retention_days,
            kms_key_id=self.key.arn,
            tags=self._tags,
            # CloudWatch checks the key policy when the group is associated with the key.
            depends_on=[self.key.policy],
        )

    def _build_role(self) -> IamRole:
        return IamRole(
            self,
            "role",
            provider=self._provider,
            name=self.props.role_name,
            description=f"Execution role of Lambda {self.props.function_name}",
            assume_role_policy=trust_policy([Statement(sid="TrustService", principals={"Service": ["lambda.amazonaws.com"]}, actions=["sts:AssumeRole"], resources=())]),
            tags=self._tags,
        )

    def _build_runtime_policy(self) -> IamRolePolicy:
        statements = [
            Statement(
                sid="WriteOwnLogStreams",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.arn}:log-stream:*"],
            ),
            *self._queue_statements(),
            Statement(
                sid="UseConsumerKey",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[self.key.arn],
            ),
            Statement(sid="XRayNoResourceLevelPermissions", actions=XRAY_ACTIONS, resources=["*"]),
            *self._vpc_statements(),
        ]
        if self.sink_role_arn is not None:
            statements.append(Statement(sid="AssumeSinkRole", actions=["sts:AssumeRole"], resources=[self.sink_role_arn]))
        self._runtime_statements = statements
        return self.add_role_policy("runtime-policy", "runtime", statements)

    def _vpc_statements(self) -> list[Statement]:
        if not self.props.in_vpc:
            return []
        ec2 = f"arn:{self._partition}:ec2:{self._region}:{self._account_id}"
        return [
            Statement(
                sid="AttachToOwnSubnetsAndSecurityGroups",
                actions=ENI_ACTIONS,
                resources=[
                    f"{ec2}:network-interface/*",
                    *(f"{ec2}:subnet/{subnet}" for subnet in self.props.subnet_ids),
                    *(f"{ec2}:security-group/{group}" for group in self.props.security_group_ids),
                ],
            ),
            Statement(sid="DescribeNetworkNoResourceLevelPermissions", actions=ENI_DESCRIBE_ACTIONS, resources=["*"]),
        ]

    def add_role_policy(self, id_: str, name: str, statements: Sequence[Statement]) -> IamRolePolicy:
        """An inline policy of the function's role: a resource of its own, so others can depend on it."""
        return IamRolePolicy(
            self, id_, provider=self._provider, name=name, role=self._role_id, policy=policy_document(statements)
        )

    # Fixed tokens, each read once: every read is a round trip to the jsii kernel, and a fan-out
    # reads these for every consumer.
    @functools.cached_property
    def _role_id(self) -> str:
        return self.role.id

    @functools.cached_property
    def role_arn(self) -> str:
        """ARN of the execution role."""
        return self.role.arn

    @functools.cached_property
    def function_arn(self) -> str:
        """ARN of the function."""
        return self.function.arn

    def _build_function(self) -> LambdaFunction:
        code = self.code
        if code.archive is not None:
            # A content-addressed reproducible zip (see lambda_archive.py), copied into the output
            # once per stack however many functions run it.
            asset = function_code_asset(self, code.archive)
            package = {"filename": asset.path, "source_code_hash": asset.source_code_hash, "handler": code.handler, "runtime": code.runtime}
        else:
            package = {"package_type": "Image", "image_uri": code.image_uri}
        vpc = (
            LambdaFunctionVpcConfig(subnet_ids=list(self.props.subnet_ids), security_group_ids=list(self.props.security_group_ids))
            if self.props.in_vpc else None
        )
        return LambdaFunction(
            self,
            "function",
            provider=self._provider,
            function_name=self.props.function_name,
            description=self._description,
            role=self.role_arn,
            architectures=[self.props.architecture],
            memory_size=self.props.memory_size_mb,
            timeout=self.props.timeout_seconds,
            # -1: none reserved, the provider's default, so left out
            reserved_concurrent_executions=None if self.props.reserved_concurrency == UNRESERVED else self.props.reserved_concurrency,
            kms_key_arn=self.key.arn,
            environment=LambdaFunctionEnvironment(variables=self._environment()),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            dead_letter_config=self._dead_letter_config(),
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=self.log_group.name),
            layers=list(self.props.layers) or None,
            vpc_config=vpc,
            tags=self._tags,
            # Lambda checks at creation that the role may send to the dead-letter queue (if any)
            # and create the function's network interfaces (in a VPC).
            depends_on=[self.runtime_policy],
            **package,
        )

    def _environment(self) -> dict[str, str]:
        """What the runtime reads at cold start (its contract in lambda_src/xacct_contracts.py), then the user's own."""
        variables = {**self._queue_environment(), **RuntimeSettings.environment(log_level=self.props.log_level, metrics_namespace=self._metrics_namespace)}
        if self._sink_environment is not None:
            variables = {**self._sink_environment, **variables}
        elif self.sink is not None:
            variables.update(ConsumerSettings.environment(
                table_name=self.sink.table_name, sink_role_arn=self.sink_role_arn, sink_region=self.sink.region, sink_external_id=self.sink.external_id,
            ))
        # The stack's wiring wins: a user's variable of the same name is a mistake, said at synth.
        require_environment("function.environment", self.props.environment, taken=list(variables))
        return {**variables, **self.props.environment}

    @property
    def runtime_grant(self) -> Grant:
        """What the function needs to run at all (logs, queues, its key): a mapping waits for it too."""
        statements = self._runtime_statements
        return Grant.of(self.role_arn, (a for s in statements for a in s.actions), (r for s in statements for r in s.resources), (self.runtime_policy,))

    def grant_table_write(self, table_arn: str) -> Grant:
        """Lets the role write items to the sink table (BatchWriteItem is all the runtime calls)."""
        actions = ("dynamodb:BatchWriteItem",)
        policy = self.add_role_policy("table-write-policy", "write-sink-table", [Statement(sid="WriteSinkTable", actions=actions, resources=[table_arn])])
        return Grant.of(self.role_arn, actions, (table_arn,), (policy,))

    def grant_role_policy(self, id_: str, name: str, statements: Sequence[Statement]) -> Grant:
        """Any other identity-side grant: one inline policy of these statements."""
        policy = self.add_role_policy(id_, name, statements)
        return Grant.of(self.role_arn, (a for s in statements for a in s.actions), (r for s in statements for r in s.resources), (policy,))

    def grant_stream_read(self, shared: SharedStream, reader: Optional[StreamReader] = None) -> Grant:
        """Lets the role read `shared` (through its EFO consumer, if it has one: the `reader`'s, from
        `shared.grant_read`, or the stream's one) and decrypt it via Kinesis."""
        if reader is not None:
            consumer_arn = reader.event_source_arn if reader.stream_consumer is not None else None
        else:
            consumer_arn = shared.stream_consumer.arn if shared.stream_consumer is not None else None
        return self.grant_stream_read_arns(shared.stream_arn, shared.key_arn, consumer_arn)

    def grant_stream_read_arns(self, stream_arn: str, key_arn: Optional[str], stream_consumer_arn: Optional[str]) -> Grant:
        """The same from ARNs alone: a stream another plan manages (a split fan-out's account plan)."""
        statements = [Statement(sid="ReadSharedStream", actions=STREAM_READ_ACTIONS, resources=[stream_arn])]
        if stream_consumer_arn is not None:
            statements.append(Statement(sid="ReadSharedStreamConsumer", actions=STREAM_CONSUMER_READ_ACTIONS, resources=[stream_consumer_arn]))
        if key_arn is not None:
            statements.append(
                Statement(
                    sid="DecryptSharedStreamViaKinesis",
                    actions=["kms:Decrypt"],
                    resources=[key_arn],
                    conditions={"StringEquals": {"kms:ViaService": kinesis_service(self._region)}},
                )
            )
        return self.grant_role_policy("stream-read-policy", "read-shared-stream", statements)

    def grant_table_stream_read(self, stream_arn: str, key_arn: str, id_: str = "table-stream-read-policy") -> Grant:
        """Lets the role read a DynamoDB stream (any account) and use the table's key through DynamoDB.

        `dynamodb:ListStreams` is left out: it has no resource-level permissions (it would need
        "*") and Lambda's poller reads the stream by its ARN.
        """
        statements = [
            Statement(sid="ReadTableStream", actions=TABLE_STREAM_READ_ACTIONS, resources=[stream_arn]),
            Statement(
                sid="DecryptTableStreamViaDynamoDB",
                actions=["kms:Decrypt", "kms:DescribeKey"],
                resources=[key_arn],
                conditions={"StringEquals": {"kms:ViaService": dynamodb_service(self._region)}},
            ),
        ]
        return self.grant_role_policy(id_, "read-table-stream", statements)
