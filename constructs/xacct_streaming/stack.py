"""CrossAccountStreamingStack: one Terraform configuration, two aliased AWS providers.

The producer account gets the key, stream, EFO consumer and both resource policies; the
consumer account gets the function and everything around it; one `terraform plan` shows both.
"""

from __future__ import annotations

from pathlib import Path

from cdktf import LocalBackend, S3Backend, TerraformOutput, TerraformStack
from constructs import Construct

from xacct_streaming import defaults
from xacct_streaming.aws import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags, DataAwsPartition
from xacct_streaming.consumer_alarms import ConsumerAlarms, cloudwatch_key_grant
from xacct_streaming.props import BackendProps, StackProps
from xacct_streaming.shared_stream import SharedStream
from xacct_streaming.sink_table import SinkTable
from xacct_streaming.stack_variables import StackVariables
from xacct_streaming.stream_consumer_function import StreamConsumerFunction
from xacct_streaming.stream_event_source_mapping import StreamEventSourceMapping

STATE_DIR_FROM_STACK = "../../.."
PRODUCER = "producer"
CONSUMER = "consumer"


class CrossAccountStreamingStack(TerraformStack):
    """The whole cross-account design; resources are attributes for tests and extensions."""

    def __init__(
        self,
        scope: Construct,
        props: StackProps,
        *,
        code_archive: Path,
    ) -> None:
        """`code_archive` is the Lambda zip built by `lambda_archive.build_archive`."""
        super().__init__(scope, props.stack_name)
        self.props = props
        self.variables = StackVariables(self)
        self._configure_backend(props.backend)
        self.producer_provider = self._build_provider(PRODUCER)
        self.consumer_provider = self._build_provider(CONSUMER)
        partition = DataAwsPartition(self, "partition", provider=self.producer_provider).partition
        region = self.variables["region"]

        self.consumer = StreamConsumerFunction(
            self,
            "consumer-function",
            provider=self.consumer_provider,
            props=props.function,
            sink=props.sink,
            owner_root_arn=self._root_arn(partition, CONSUMER),
            log_group_arn=(
                f"arn:{partition}:logs:{region}:{self.variables['consumer_account_id']}"
                f":log-group:{props.function.log_group_name}"
            ),
            region=region,
            code_archive=code_archive,
            metrics_namespace=defaults.METRICS_NAMESPACE,
            key_grants=[cloudwatch_key_grant()] if props.alarms.notification_topic else [],
        )
        self.shared = SharedStream(
            self,
            "shared-stream",
            provider=self.producer_provider,
            props=props.stream,
            owner_root_arn=self._root_arn(partition, PRODUCER),
            region=region,
            reader_role_arn=self.consumer.role.arn,
        )
        stream_read_policy = self.consumer.grant_stream_read(self.shared)
        after_policies = [stream_read_policy, self.consumer.runtime_policy]
        self.sink_table = None
        if props.sink.creates_table:
            self.sink_table = SinkTable(
                self, "sink-table", provider=self.consumer_provider, props=props.sink, key_arn=self.consumer.key.arn
            )
            after_policies.append(self.consumer.grant_table_write(self.sink_table.table.arn))
        self.mapping = StreamEventSourceMapping(
            self,
            "mapping",
            provider=self.consumer_provider,
            props=props.mapping,
            function_arn=self.consumer.function.arn,
            event_source_arn=self.shared.stream_consumer.arn,
            on_failure_destination_arn=self.consumer.on_failure_queue.arn,
            after=[
                self.shared.stream_policy,
                self.shared.stream_consumer_policy,
                self.shared.key.policy,
                *after_policies,
            ],
        )
        self.alarms = ConsumerAlarms(
            self,
            "alarms",
            provider=self.consumer_provider,
            props=props.alarms,
            function_name=props.function.function_name,
            dead_letter_queue_name=props.function.dead_letter_queue_name,
            on_failure_queue_name=props.function.on_failure_queue_name,
            key_arn=self.consumer.key.arn,
        )
        self._build_outputs()

    def _root_arn(self, partition: str, side: str) -> str:
        return f"arn:{partition}:iam::{self.variables[f'{side}_account_id']}:root"

    def _configure_backend(self, backend: BackendProps) -> None:
        if backend.kind == "s3":
            s3 = S3Backend(self, bucket=backend.bucket, key=backend.key, region=backend.region, encrypt=True)
            # Terraform >= 1.10 locks with an S3 object; no DynamoDB table to manage.
            s3.add_override("use_lockfile", True)
            return
        # Terraform runs in <outdir>/stacks/<stack>; the state lives beside <outdir> (the project
        # root by default), so re-synthesizing never touches it and the path is the same everywhere.
        state_file = backend.path or f"terraform.{self.props.stack_name}.tfstate"
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
                    session_name=f"{self.props.stack_name}-{side}"[:64],
                )
            ],
            default_tags=[AwsProviderDefaultTags(tags=self.variables.tags)],
        )

    def _build_outputs(self) -> None:
        shared, consumer = self.shared, self.consumer
        outputs = {
            "stream_arn": (shared.stream.arn, "ARN of the shared Kinesis stream (producer account)."),
            "stream_name": (shared.stream.name, "Name of the shared Kinesis stream (producer account)."),
            "stream_consumer_arn": (
                shared.stream_consumer.arn,
                "ARN of the enhanced fan-out consumer the Lambda function reads from (producer account).",
            ),
            "kms_key_arn": (shared.key.arn, "ARN of the customer-managed key encrypting the stream (producer account)."),
            "kms_key_alias": (shared.key.alias.name, "Alias of the stream's key (producer account)."),
            "lambda_function_arn": (consumer.function.arn, "ARN of the consumer Lambda function (consumer account)."),
            "lambda_function_name": (consumer.function.function_name, "Name of the consumer Lambda function."),
            "lambda_role_arn": (
                consumer.role.arn,
                "ARN of the function's execution role, the only principal of the stream's resource policies.",
            ),
            "lambda_log_group_name": (consumer.log_group.name, "CloudWatch log group of the function (consumer account)."),
            "event_source_mapping_uuid": (self.mapping.mapping.uuid, "UUID of the event source mapping on the EFO consumer."),
            "on_failure_queue_url": (
                consumer.on_failure_queue.url,
                "SQS queue receiving metadata of batches that exhausted their retries (consumer account).",
            ),
            "on_failure_queue_arn": (consumer.on_failure_queue.arn, "ARN of the on-failure queue."),
            "dead_letter_queue_url": (
                consumer.dead_letter_queue.url,
                "SQS dead-letter queue of the function's asynchronous invocations (consumer account).",
            ),
            "consumer_kms_key_arn": (
                consumer.key.arn,
                "ARN of the consumer account's key for logs, queues and function environment.",
            ),
        }
        if self.sink_table is not None:
            outputs["sink_table_name"] = (self.sink_table.table.name, "DynamoDB table the consumer writes each record to (consumer account).")
            outputs["sink_table_arn"] = (self.sink_table.table.arn, "ARN of the sink table.")
        if self.alarms.topic is not None:
            outputs["alarm_topic_arn"] = (self.alarms.topic.arn, "Encrypted SNS topic the alarms notify (consumer account).")
        for name, (value, description) in outputs.items():
            TerraformOutput(self, name, value=value, description=description)
