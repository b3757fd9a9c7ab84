"""ReplicationStack (seed 001): Kinesis -> writer -> replica table in another account -> Firehose -> S3.

Producer (production) account: the KMS-encrypted stream and the writer function, which reads it
through an event source mapping and writes every record idempotently (`lambda_src/handler.py`)
into the replica table by assuming a role in the consumer (analytics) account.

Consumer account: that role (trusting the writer's exact role ARN with an external id), the
replica table with a stream, the flattener (`lambda_src/changes_handler.py`) that turns each
change into plain JSON and puts it to Firehose, the delivery stream and its bucket.
"""

from __future__ import annotations


from constructs import Construct

from xacct_streaming.settings import defaults
from xacct_streaming.blocks.cross_account_writer_role import CrossAccountWriterRole
from xacct_streaming.blocks.policy import TABLE_KEY_USE_ACTIONS, Statement, dynamodb_service
from xacct_streaming.settings.props import SinkProps
from xacct_streaming.settings.replication import ReplicationStackProps
from xacct_streaming.settings.runtime_contracts import ChangeSettings, ConsumerSettings
from xacct_streaming.blocks.s3_delivery_stream import S3DeliveryStream
from xacct_streaming.blocks.shared_stream import SharedStream
from xacct_streaming.blocks.sink_table import SinkTable
from xacct_streaming.blocks.stream_consumer import StreamConsumer
from xacct_streaming.stacks.two_account_stack import CONSUMER, PRODUCER, TwoAccountStack


class ReplicationStack(TwoAccountStack):
    def __init__(self, scope: Construct, props: ReplicationStackProps) -> None:
        super().__init__(scope, props.stack_name, props.backend, props.tags)
        self.props = props
        replica = props.replica
        # The writer needs the role's ARN and the role's trust needs the writer's: the writer
        # gets the ARN spelled out (no reference, so no cycle) and its mapping waits for the role.
        replica_writer_role_arn = self.role_arn(CONSUMER, replica.writer_role_name)

        self.stream = SharedStream(
            self,
            "stream",
            provider=self.producer_provider,
            props=props.stream,
            owner_root_arn=self.root_arn(PRODUCER),
            region=self.region,
            reader_role_arn=None,  # read in its own account: nothing to share
        )
        self.writer = self.function(
            "writer-function",
            PRODUCER,
            props=props.writer,
            sink=SinkProps(table_name=replica.table_name),
            description="Writes each Kinesis record into the replica table of the analytics account",
            sink_role_arn=replica_writer_role_arn,
            sink_environment=ConsumerSettings.environment(
                table_name=replica.table_name, sink_role_arn=replica_writer_role_arn, sink_external_id=replica.external_id, sink_region=self.region,
            ),
        )
        stream_read = self.writer.grant_stream_read(self.stream)

        self.delivery = S3DeliveryStream(
            self,
            "delivery",
            provider=self.consumer_provider,
            props=props.delivery,
            owner_root_arn=self.root_arn(CONSUMER),
            account_id=self.account_id(CONSUMER),
            region=self.region,
            log_group_arn=self.log_group_arn(CONSUMER, f"/aws/kinesisfirehose/{props.delivery.delivery_stream_name}"),
        )
        self.replica_table = SinkTable(
            self,
            "replica-table",
            provider=self.consumer_provider,
            props=SinkProps(table_name=replica.table_name, deletion_protection=replica.deletion_protection),
            key_arn=self.delivery.key.arn,
            stream_view_type=replica.stream_view_type,
        )
        self.replica_writer_role = CrossAccountWriterRole(
            self,
            "replica-writer-role",
            provider=self.consumer_provider,
            role_name=replica.writer_role_name,
            description="Assumed by the replica writer function in the producer account to fill one table",
            trusted_role_arn=self.writer.role_arn,
            external_id=replica.external_id,
            policy_name="write-replica-table",
            statements=[
                Statement(sid="WriteReplicaTable", actions=["dynamodb:BatchWriteItem"], resources=[self.replica_table.table.arn]),
                Statement(
                    sid="UseTableKeyViaDynamoDB",
                    actions=TABLE_KEY_USE_ACTIONS,
                    resources=[self.delivery.key.arn],
                    conditions={"StringEquals": {"kms:ViaService": dynamodb_service(self.region)}},
                ),
            ],
        )
        # The first batch assumes the role in the other account and writes the table.
        self.writer_wiring = StreamConsumer(
            self,
            "",
            provider=self.producer_provider,
            function=self.writer,
            event_source_arn=self.stream.stream.arn,
            mapping=props.writer_mapping,
            source=[self.stream.read_grant, stream_read],
            sink=[self.replica_writer_role.write_grant, self.delivery.key.account_grant],
            mapping_id="writer-mapping",
        )
        self.writer_mapping = self.writer_wiring.mapping

        self.flattener = self.function(
            "flattener-function",
            CONSUMER,
            props=props.flattener,
            sink=SinkProps(table_name=replica.table_name),
            builtin_handler=defaults.CHANGES_HANDLER,
            description="Flattens the replica table's changes to plain JSON and puts them to Firehose",
            sink_environment=ChangeSettings.environment(delivery_stream_name=props.delivery.delivery_stream_name),
        )
        self.flattener_wiring = StreamConsumer(
            self,
            "",
            provider=self.consumer_provider,
            function=self.flattener,
            event_source_arn=self.replica_table.table.stream_arn,
            mapping=props.flattener_mapping,
            # The replica table is the flattener's own (its key's policy is the delivery key's): no resource side.
            source=[self.flattener.grant_table_stream_read(self.replica_table.table.stream_arn, self.delivery.key.arn)],
            sink=[
                self.flattener.grant_role_policy(
                    "firehose-put-policy",
                    "put-to-delivery-stream",
                    [Statement(sid="PutToDeliveryStream", actions=["firehose:PutRecordBatch"], resources=[self.delivery.delivery_stream.arn])],
                ),
                self.delivery.key.account_grant,
            ],
            mapping_id="flattener-mapping",
        )
        self.flattener_mapping = self.flattener_wiring.mapping
        self.writer_alarms = self.watch("writer-alarms", PRODUCER, self.writer, props.alarms, retention_hours=props.stream.retention_period_hours,
                                        mapping=self.writer_mapping, event_counts=props.writer_mapping.event_count_metrics)
        # The writer polls the stream: its reads share the stream's read throughput.
        self.stream_read_alarm = self.watch_stream_reads("stream-read-alarms", PRODUCER, props.stream.stream_name, props.alarms)
        self.flattener_alarms = self.watch("flattener-alarms", CONSUMER, self.flattener, props.alarms,
                                           retention_hours=defaults.DYNAMODB_STREAM_RETENTION_HOURS, mapping=self.flattener_mapping,
                                           event_counts=props.flattener_mapping.event_count_metrics)
        self._build_outputs()

    def _build_outputs(self) -> None:
        delivery = self.delivery
        self.add_outputs({
            **self.stream_outputs(self.stream, "the Kinesis stream"),
            **self.function_outputs(self.writer, "the writer function", PRODUCER, prefix="writer"),
            "writer_event_source_mapping_uuid": (self.writer_mapping.mapping.uuid, "UUID of the mapping from the stream to the writer."),
            "replica_table_name": (self.replica_table.table.name, "Replica table in the analytics account."),
            "replica_table_arn": (self.replica_table.table.arn, "ARN of the replica table (consumer account)."),
            "replica_table_stream_arn": (self.replica_table.table.stream_arn, "ARN of the replica table's stream."),
            "replica_writer_role_arn": (self.replica_writer_role.role.arn, "Role the writer assumes (with the external id) to write the replica."),
            **self.function_outputs(self.flattener, "the flattener function", CONSUMER, prefix="flattener"),
            "delivery_stream_arn": (delivery.delivery_stream.arn, "ARN of the Firehose stream (consumer account)."),
            "delivery_stream_name": (delivery.delivery_stream.name, "Name of the Firehose stream."),
            "delivery_bucket_name": (delivery.bucket.bucket, "S3 bucket Firehose writes to (consumer account)."),
            "delivery_bucket_arn": (delivery.bucket.arn, "ARN of the delivery bucket."),
            "data_kms_key_arn": (delivery.key.arn, "ARN of the analytics data key: replica table, Firehose, bucket, error logs."),
            **self.finish_monitoring(self.props.alarms),
        })
