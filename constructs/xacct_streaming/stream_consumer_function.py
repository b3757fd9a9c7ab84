"""StreamConsumerFunction: the consumer account's Lambda, its role, logs, key and queues."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional, Sequence

from cdktf import AssetType, Fn, TerraformAsset, TerraformProvider
from constructs import Construct

from xacct_streaming.aws import (
    CloudwatchLogGroup,
    IamRole,
    IamRolePolicy,
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
    SqsQueue,
)
from xacct_streaming.customer_managed_key import CustomerManagedKey
from xacct_streaming.policy import (
    STREAM_CONSUMER_READ_ACTIONS,
    STREAM_READ_ACTIONS,
    TABLE_STREAM_READ_ACTIONS,
    dynamodb_service,
    logs_key_grant,
    Statement,
    assume_role_policy,
    policy_document,
)
from xacct_streaming.props import ConsumerFunctionProps, SinkProps
from xacct_streaming.shared_stream import SharedStream, kinesis_service

HANDLER = "handler.lambda_handler"
# X-Ray has no resource-level permissions: these two actions only ever take Resource "*".
XRAY_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")


class StreamConsumerFunction(Construct):
    """Everything in the consumer account except the event source mapping.

    `synchronous=True` is for a function whose caller waits for its answer (an API Gateway
    authorizer): no dead-letter or on-failure queue (nothing is retried asynchronously and no
    mapping has batches to give up on), so nothing it can never use is created, alarmed or granted.

    Built in two steps because the producer side needs this role's ARN and this role's policy
    needs the producer's ARNs: the constructor creates the role (and all consumer resources),
    `grant_stream_read` then adds the policy scoped to the shared stream.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        props: ConsumerFunctionProps,
        sink: SinkProps,
        owner_root_arn: str,
        log_group_arn: str,
        region: str,
        code_archive: Path,
        metrics_namespace: str,
        key_grants: Sequence[Statement] = (),
        handler: str = HANDLER,
        description: str = "Consumes a Kinesis stream shared from another account through enhanced fan-out",
        sink_environment: Optional[Mapping[str, str]] = None,
        sink_role_arn: Optional[str] = None,
        synchronous: bool = False,
    ) -> None:
        """`sink_environment` replaces the Kinesis runtime's sink variables (TABLE_NAME, SINK_*)
        for another handler; `sink_role_arn` is the role to write through when it is created in
        the same plan (a reference, which SinkProps cannot validate), else `sink.role_arn`."""
        super().__init__(scope, id_)
        self._provider = provider
        self.props = props
        self.sink = sink
        self._handler = handler
        self._description = description
        self._sink_environment = sink_environment
        self.sink_role_arn = sink_role_arn or sink.role_arn
        self._region = region
        self._metrics_namespace = metrics_namespace
        self.key = self._build_key(owner_root_arn, log_group_arn, region, key_grants)
        self.log_group = self._build_log_group()
        self.dead_letter_queue: Optional[SqsQueue] = None if synchronous else self._build_queue("dead-letter-queue", props.dead_letter_queue_name)
        self.on_failure_queue: Optional[SqsQueue] = None if synchronous else self._build_queue("on-failure-queue", props.on_failure_queue_name)
        self.role = self._build_role()
        self.runtime_policy = self._build_runtime_policy()
        self.function = self._build_function(code_archive)
        self.stream_read_policy: IamRolePolicy | None = None
        self.table_write_policy: IamRolePolicy | None = None

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
        )

    def _build_log_group(self) -> CloudwatchLogGroup:
        return CloudwatchLogGroup(
            self,
            "log-group",
            provider=self._provider,
            name=self.props.log_group_name,
            retention_in_days=self.props.log_retention_days,
            kms_key_id=self.key.arn,
            # CloudWatch checks the key policy when the group is associated with the key.
            depends_on=[self.key.policy],
        )

    def _build_queue(self, id_: str, name: str) -> SqsQueue:
        return SqsQueue(
            self,
            id_,
            provider=self._provider,
            name=name,
            kms_master_key_id=self.key.arn,
            kms_data_key_reuse_period_seconds=300,
            message_retention_seconds=self.props.queue_message_retention_seconds,
        )

    def _build_role(self) -> IamRole:
        return IamRole(
            self,
            "role",
            provider=self._provider,
            name=self.props.role_name,
            description=f"Execution role of Lambda {self.props.function_name}",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
        )

    def _build_runtime_policy(self) -> IamRolePolicy:
        statements = [
            Statement(
                sid="WriteOwnLogStreams",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.arn}:log-stream:*"],
            ),
            Statement(
                sid="UseConsumerKey",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[self.key.arn],
            ),
            Statement(sid="XRayNoResourceLevelPermissions", actions=XRAY_ACTIONS, resources=["*"]),
        ]
        if self.dead_letter_queue is not None and self.on_failure_queue is not None:
            statements.insert(1, Statement(
                sid="SendToFailureQueues",
                actions=["sqs:SendMessage"],
                resources=[self.dead_letter_queue.arn, self.on_failure_queue.arn],
            ))
        if self.sink_role_arn is not None:
            statements.append(Statement(sid="AssumeSinkRole", actions=["sts:AssumeRole"], resources=[self.sink_role_arn]))
        return self.add_role_policy("runtime-policy", "runtime", statements)

    def add_role_policy(self, id_: str, name: str, statements: Sequence[Statement]) -> IamRolePolicy:
        """An inline policy of the function's role: a resource of its own, so others can depend on it."""
        return IamRolePolicy(
            self, id_, provider=self._provider, name=name, role=self.role.id, policy=policy_document(statements)
        )

    def _build_function(self, code_archive: Path) -> LambdaFunction:
        # A prebuilt reproducible zip (see lambda_archive.py), copied into the output as is.
        asset = TerraformAsset(self, "code", path=str(code_archive), type=AssetType.FILE)
        return LambdaFunction(
            self,
            "function",
            provider=self._provider,
            function_name=self.props.function_name,
            description=self._description,
            role=self.role.arn,
            handler=self._handler,
            runtime=self.props.runtime,
            architectures=[self.props.architecture],
            memory_size=self.props.memory_size_mb,
            timeout=self.props.timeout_seconds,
            reserved_concurrent_executions=self.props.reserved_concurrency,
            filename=asset.path,
            source_code_hash=Fn.filebase64sha256(asset.path),
            kms_key_arn=self.key.arn,
            environment=LambdaFunctionEnvironment(variables=self._environment()),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            dead_letter_config=(
                LambdaFunctionDeadLetterConfig(target_arn=self.dead_letter_queue.arn) if self.dead_letter_queue is not None else None
            ),
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=self.log_group.name),
            # Lambda checks at creation that the role may send to the dead-letter queue (if any).
            depends_on=[self.runtime_policy],
        )

    def _environment(self) -> dict[str, str]:
        """What lambda_src/xacct_consumer/config.py reads at cold start."""
        variables = {"LOG_LEVEL": self.props.log_level, "METRICS_NAMESPACE": self._metrics_namespace}
        if self.dead_letter_queue is not None:
            variables = {"DEAD_LETTER_QUEUE_URL": self.dead_letter_queue.url, **variables}
        if self._sink_environment is not None:
            return {**self._sink_environment, **variables}
        variables["TABLE_NAME"] = self.sink.table_name
        optional = {"SINK_ROLE_ARN": self.sink_role_arn, "SINK_REGION": self.sink.region, "SINK_EXTERNAL_ID": self.sink.external_id}
        variables.update({name: value for name, value in optional.items() if value is not None})
        return variables

    def grant_table_write(self, table_arn: str) -> IamRolePolicy:
        """Lets the role write items to the sink table (BatchWriteItem is all the runtime calls)."""
        self.table_write_policy = self.add_role_policy(
            "table-write-policy",
            "write-sink-table",
            [Statement(sid="WriteSinkTable", actions=["dynamodb:BatchWriteItem"], resources=[table_arn])],
        )
        return self.table_write_policy

    def grant_stream_read(self, shared: SharedStream) -> IamRolePolicy:
        """Lets the role read `shared` (through its EFO consumer, if it has one) and decrypt it via Kinesis."""
        statements = [Statement(sid="ReadSharedStream", actions=STREAM_READ_ACTIONS, resources=[shared.stream.arn])]
        if shared.stream_consumer is not None:
            statements.append(
                Statement(
                    sid="ReadSharedStreamConsumer",
                    actions=STREAM_CONSUMER_READ_ACTIONS,
                    resources=[shared.stream_consumer.arn],
                )
            )
        statements += [
            Statement(
                sid="DecryptSharedStreamViaKinesis",
                actions=["kms:Decrypt"],
                resources=[shared.key.arn],
                conditions={"StringEquals": {"kms:ViaService": kinesis_service(self._region)}},
            ),
        ]
        self.stream_read_policy = self.add_role_policy("stream-read-policy", "read-shared-stream", statements)
        return self.stream_read_policy

    def grant_table_stream_read(self, stream_arn: str, key_arn: str, id_: str = "table-stream-read-policy") -> IamRolePolicy:
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
        self.stream_read_policy = self.add_role_policy(id_, "read-table-stream", statements)
        return self.stream_read_policy
