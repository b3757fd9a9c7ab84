"""SharedStream: the producer account's encrypted stream, shared with one consumer role via EFO."""

from __future__ import annotations

from typing import Optional

from cdktf import TerraformProvider
from constructs import Construct

from xacct_streaming.aws import (
    KinesisResourcePolicy,
    KinesisStream,
    KinesisStreamConsumer,
    KinesisStreamStreamModeDetails,
)
from xacct_streaming.customer_managed_key import CustomerManagedKey
from xacct_streaming.policy import (
    STREAM_CONSUMER_READ_ACTIONS,
    STREAM_READ_ACTIONS,
    STREAM_WRITE_ACTIONS,
    Statement,
    policy_document,
)
from xacct_streaming.props import SharedStreamProps


def kinesis_service(region: str) -> str:
    return f"kinesis.{region}.amazonaws.com"


class SharedStream(Construct):
    """KMS key, Kinesis stream, EFO consumer and the two resource policies that share them.

    `reader_role_arn` is the exact ARN of the consumer account's function role; it is the
    only principal of both resource policies and of the key's decrypt grant. Without one the
    stream is not shared: no EFO consumer, no resource policies, no grant in the key policy (a
    reader in the stream's own account is authorized by its IAM policy alone), and
    `stream_consumer`, `stream_policy` and `stream_consumer_policy` are None.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        props: SharedStreamProps,
        owner_root_arn: str,
        region: str,
        reader_role_arn: Optional[str],
        writer_role_arn: Optional[str] = None,
    ) -> None:
        """`writer_role_arn`: a role of the other account that may put records (seed 002's API):
        the stream's policy and the key grant it exactly the put actions."""
        super().__init__(scope, id_)
        self._provider = provider
        self.props = props
        self.reader_role_arn = reader_role_arn
        self.writer_role_arn = writer_role_arn
        self.key = self._build_key(owner_root_arn, region)
        self.stream = self._build_stream()
        self.stream_consumer: Optional[KinesisStreamConsumer] = None
        self.stream_policy: Optional[KinesisResourcePolicy] = None
        self.stream_consumer_policy: Optional[KinesisResourcePolicy] = None
        if reader_role_arn is not None or writer_role_arn is not None:
            self.stream_policy = self._build_stream_policy()
        if reader_role_arn is not None:
            self.stream_consumer = self._build_stream_consumer()
            self.stream_consumer_policy = self._build_stream_consumer_policy()

    def _build_key(self, owner_root_arn: str, region: str) -> CustomerManagedKey:
        # The AWS-managed aws/kinesis key cannot be used from another account.
        grants = []
        if self.reader_role_arn is not None:
            grants.append(
                Statement(
                    sid="ConsumerRoleDecryptViaKinesis",
                    principals={"AWS": [self.reader_role_arn]},
                    actions=["kms:Decrypt"],
                    resources=["*"],
                    conditions={"StringEquals": {"kms:ViaService": kinesis_service(region)}},
                )
            )
        if self.writer_role_arn is not None:
            grants.append(
                Statement(
                    sid="ProducerRoleEncryptViaKinesis",
                    principals={"AWS": [self.writer_role_arn]},
                    actions=["kms:GenerateDataKey"],
                    resources=["*"],
                    conditions={"StringEquals": {"kms:ViaService": kinesis_service(region)}},
                )
            )
        return CustomerManagedKey(
            self,
            "key",
            provider=self._provider,
            alias=self.props.key_alias,
            description=f"Encrypts Kinesis stream {self.props.stream_name}, shared across accounts",
            deletion_window_days=self.props.key_deletion_window_days,
            owner_root_arn=owner_root_arn,
            grants=grants,
        )

    def _build_stream(self) -> KinesisStream:
        provisioned = self.props.stream_mode == "PROVISIONED"
        return KinesisStream(
            self,
            "stream",
            provider=self._provider,
            name=self.props.stream_name,
            retention_period=self.props.retention_period_hours,
            encryption_type="KMS",
            kms_key_id=self.key.arn,
            stream_mode_details=KinesisStreamStreamModeDetails(stream_mode=self.props.stream_mode),
            shard_count=self.props.shard_count if provisioned else None,
        )

    def _build_stream_consumer(self) -> KinesisStreamConsumer:
        return KinesisStreamConsumer(
            self,
            "consumer",
            provider=self._provider,
            name=self.props.consumer_name,
            stream_arn=self.stream.arn,
        )

    def _build_stream_policy(self) -> KinesisResourcePolicy:
        statements = []
        if self.reader_role_arn is not None:
            statements.append(self._grant("ShareStreamWithConsumerRole", self.reader_role_arn, STREAM_READ_ACTIONS, self.stream.arn))
        if self.writer_role_arn is not None:
            statements.append(self._grant("ShareStreamWithProducerRole", self.writer_role_arn, STREAM_WRITE_ACTIONS, self.stream.arn))
        return KinesisResourcePolicy(
            self, "stream-policy", provider=self._provider, resource_arn=self.stream.arn, policy=policy_document(statements)
        )

    def _build_stream_consumer_policy(self) -> KinesisResourcePolicy:
        assert self.stream_consumer is not None
        return self._share(
            "consumer-policy", "ShareConsumerWithConsumerRole", STREAM_CONSUMER_READ_ACTIONS, self.stream_consumer.arn
        )

    @staticmethod
    def _grant(sid: str, role_arn: str, actions: tuple[str, ...], resource_arn: str) -> Statement:
        return Statement(sid=sid, principals={"AWS": [role_arn]}, actions=actions, resources=[resource_arn])

    def _share(self, id_: str, sid: str, actions: tuple[str, ...], resource_arn: str) -> KinesisResourcePolicy:
        """A resource policy on `resource_arn` granting `actions` to the reader role alone."""
        assert self.reader_role_arn is not None
        statement = self._grant(sid, self.reader_role_arn, actions, resource_arn)
        return KinesisResourcePolicy(
            self,
            id_,
            provider=self._provider,
            resource_arn=resource_arn,
            policy=policy_document([statement]),
        )
