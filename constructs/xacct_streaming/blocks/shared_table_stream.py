"""SharedTableStream: a DynamoDB table in the producer account whose stream another account reads."""

from __future__ import annotations

from xacct_streaming.framework import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.aws import (
    DynamodbResourcePolicy,
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from xacct_streaming.blocks.customer_managed_key import CustomerManagedKey
from xacct_streaming.blocks.grant import Grant
from xacct_streaming.blocks.policy import TABLE_STREAM_READ_ACTIONS, Statement, dynamodb_service, policy_document
from xacct_streaming.settings.dynamodb_streams import SourceTableProps


class SharedTableStream(Construct):
    """KMS key, table with a stream, and the resource policy on the **stream ARN** (seed 003).

    `reader_role_arn` is the exact ARN of the consumer account's function role: the only
    principal of the stream's resource policy (the stream-read actions, nothing on the table
    itself) and of the key grant, which works only through DynamoDB (`kms:ViaService`).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        props: SourceTableProps,
        owner_root_arn: str,
        region: str,
        reader_role_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        self._provider = provider
        self.props = props
        self.reader_role_arn = reader_role_arn
        self.key = self._build_key(owner_root_arn, region)
        self.table = self._build_table()
        self.stream_policy = self._build_stream_policy()

    @property
    def stream_arn(self) -> str:
        return self.table.stream_arn

    @property
    def read_grant(self) -> Grant:
        """The resource side of reading the stream from the other account: its policy and the key's."""
        return Grant.of(self.reader_role_arn, TABLE_STREAM_READ_ACTIONS, (self.stream_arn,), (self.stream_policy, self.key.policy))

    def _build_key(self, owner_root_arn: str, region: str) -> CustomerManagedKey:
        reader = Statement(
            sid="StreamReaderDecryptViaDynamoDB",
            principals={"AWS": [self.reader_role_arn]},
            actions=["kms:Decrypt", "kms:DescribeKey"],
            resources=["*"],
            conditions={"StringEquals": {"kms:ViaService": dynamodb_service(region)}},
        )
        return CustomerManagedKey(
            self,
            "key",
            provider=self._provider,
            alias=self.props.key_alias,
            description=f"Encrypts DynamoDB table {self.props.table_name} and its stream, read from another account",
            deletion_window_days=self.props.key_deletion_window_days,
            owner_root_arn=owner_root_arn,
            grants=[reader],
        )

    def _build_table(self) -> DynamodbTable:
        keys = [DynamodbTableAttribute(name=self.props.partition_key, type="S")]
        if self.props.sort_key is not None:
            keys.append(DynamodbTableAttribute(name=self.props.sort_key, type="S"))
        return DynamodbTable(
            self,
            "table",
            provider=self._provider,
            name=self.props.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=self.props.partition_key,
            range_key=self.props.sort_key,
            attribute=keys,
            stream_enabled=True,
            stream_view_type=self.props.stream_view_type,
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=self.key.arn),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            deletion_protection_enabled=self.props.deletion_protection,
            # DynamoDB checks the key policy when the table is created with the key.
            depends_on=[self.key.policy],
        )

    def _build_stream_policy(self) -> DynamodbResourcePolicy:
        statement = Statement(
            sid="ShareStreamWithConsumerRole",
            principals={"AWS": [self.reader_role_arn]},
            actions=TABLE_STREAM_READ_ACTIONS,
            resources=[self.table.stream_arn],
        )
        return DynamodbResourcePolicy(
            self,
            "stream-policy",
            provider=self._provider,
            resource_arn=self.table.stream_arn,
            policy=policy_document([statement]),
        )
