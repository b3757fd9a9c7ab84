"""CrossAccountWriterRole: a role in the table's account that one exact role of another account assumes."""

from __future__ import annotations

from cdktf import TerraformProvider
from constructs import Construct

from xacct_streaming.aws import IamRole, IamRolePolicy
from xacct_streaming.policy import TABLE_KEY_USE_ACTIONS, Statement, dynamodb_service, policy_document, trust_policy


class CrossAccountWriterRole(Construct):
    """Seed 001's `DynamoDB-ProdAnalyticsWrite-role`, narrowed.

    The seed trusted the whole production account and let it read and write the table. Here the
    trust names the writer function's role ARN exactly and requires the external id, and the
    policy allows `dynamodb:BatchWriteItem` (all the runtime calls) on the one table, plus the
    table key through DynamoDB only.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        role_name: str,
        trusted_role_arn: str,
        external_id: str,
        table_arn: str,
        table_key_arn: str,
        region: str,
    ) -> None:
        super().__init__(scope, id_)
        trust = Statement(
            sid="TrustWriterFunctionRoleWithExternalId",
            principals={"AWS": [trusted_role_arn]},
            actions=["sts:AssumeRole"],
            resources=(),
            conditions={"StringEquals": {"sts:ExternalId": external_id}},
        )
        self.role = IamRole(
            self,
            "role",
            provider=provider,
            name=role_name,
            description="Assumed by the replica writer function in the producer account to fill one table",
            assume_role_policy=trust_policy([trust]),
            max_session_duration=3600,
        )
        statements = [
            Statement(sid="WriteReplicaTable", actions=["dynamodb:BatchWriteItem"], resources=[table_arn]),
            Statement(
                sid="UseTableKeyViaDynamoDB",
                actions=TABLE_KEY_USE_ACTIONS,
                resources=[table_key_arn],
                conditions={"StringEquals": {"kms:ViaService": dynamodb_service(region)}},
            ),
        ]
        self.policy = IamRolePolicy(
            self, "policy", provider=provider, name="write-replica-table", role=self.role.id, policy=policy_document(statements)
        )
