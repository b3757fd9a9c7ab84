"""SinkTable: the DynamoDB table the consumer writes each record to, keyed for idempotency."""

from __future__ import annotations

from typing import Optional

from xacct_streaming.framework import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.aws import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from xacct_streaming.settings.props import SinkProps


class SinkTable(Construct):
    """On-demand, encrypted with a customer-managed key, point-in-time recovery on.

    Keys (see lambda_src/xacct_consumer/records.py): `pk` = shard id and a hashed bucket of the
    sequence number, `sk` = sequence number and sub-sequence number; a replay overwrites.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        props: SinkProps,
        key_arn: str,
        stream_view_type: Optional[str] = None,
    ) -> None:
        """`stream_view_type` turns on the table's stream (seed 001 reads it to feed Firehose)."""
        super().__init__(scope, id_)
        self.table = DynamodbTable(
            self,
            "table",
            provider=provider,
            name=props.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key="pk",
            range_key="sk",
            attribute=[DynamodbTableAttribute(name="pk", type="S"), DynamodbTableAttribute(name="sk", type="S")],
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=key_arn),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            deletion_protection_enabled=props.deletion_protection,
            stream_enabled=True if stream_view_type is not None else None,
            stream_view_type=stream_view_type,
        )
