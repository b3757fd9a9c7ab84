"""CrossAccountWriterRole: a role that exactly one role of another account may assume, to write."""

from __future__ import annotations

from typing import Optional, Sequence

from xacct_streaming.framework import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.aws import IamRole, IamRolePolicy
from xacct_streaming.blocks.grant import Grant
from xacct_streaming.blocks.policy import Statement, policy_document, trust_policy


class CrossAccountWriterRole(Construct):
    """The role a function assumes to write into this account (seed 001's replica table, seed
    004's stream).

    The seeds trusted a whole account (001) or named the role by hand (004). Here the trust names
    the writer function's role ARN exactly, with the external id when one is given, and the one
    inline policy holds exactly the write statements passed in.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        role_name: str,
        description: str,
        trusted_role_arn: str,
        external_id: Optional[str],
        policy_name: str,
        statements: Sequence[Statement],
    ) -> None:
        super().__init__(scope, id_)
        trust = Statement(
            sid="TrustWriterFunctionRoleWithExternalId" if external_id else "TrustWriterFunctionRole",
            principals={"AWS": [trusted_role_arn]},
            actions=["sts:AssumeRole"],
            resources=(),
            conditions={"StringEquals": {"sts:ExternalId": external_id}} if external_id else None,
        )
        self.role = IamRole(
            self,
            "role",
            provider=provider,
            name=role_name,
            description=description,
            assume_role_policy=trust_policy([trust]),
            max_session_duration=3600,
        )
        self.policy = IamRolePolicy(
            self, "policy", provider=provider, name=policy_name, role=self.role.id, policy=policy_document(statements)
        )
        # What the trusted role can do through this one, once the role's policy is in place.
        self.write_grant = Grant.of(
            trusted_role_arn, (a for st in statements for a in st.actions), (r for st in statements for r in st.resources), (self.policy,)
        )
