"""CustomerManagedKey: a rotating KMS key, its alias and an explicit key policy."""

from __future__ import annotations

import functools

from typing import Mapping, Optional, Sequence

from xacct_streaming.framework import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.aws import KmsAlias, KmsKey, KmsKeyPolicy
from xacct_streaming.blocks.grant import Grant
from xacct_streaming.blocks.policy import KEY_OWNER_ACTIONS, Statement, policy_document


class CustomerManagedKey(Construct):
    """A customer-managed key whose policy keeps its own account in control.

    The owning account's root gets `kms:*` (which delegates to that account's IAM policies, as
    AWS' default key policy does, and never locks the owner out of an action KMS adds later), and
    `grants` adds the statements for other principals. The policy is its own
    `aws_kms_key_policy` resource so that dependants can `depends_on` it.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        alias: str,
        description: str,
        deletion_window_days: int,
        owner_root_arn: str,
        grants: Sequence[Statement],
        tags: Optional[Mapping[str, str]] = None,
    ) -> None:
        super().__init__(scope, id_)
        self._provider = provider
        self._tags = dict(tags) if tags else None
        self.key = self._build_key(description, deletion_window_days)
        self.alias = self._build_alias(alias)
        self._owner_root_arn = owner_root_arn
        self._statements = [self._owner_statement(owner_root_arn), *grants]
        self.policy = self._build_policy()

    @property
    def account_grant(self) -> Grant:
        """The key policy's delegation to the owning account: its roles use the key through their IAM
        policies, once the key policy is in place."""
        return Grant.of(self._owner_root_arn, KEY_OWNER_ACTIONS, (self.arn,), (self.policy,))

    @functools.cached_property
    def arn(self) -> str:
        # A token that never changes; cached because each read is a round trip to the jsii kernel
        # and a fan-out reads it for every reader.
        return self.key.arn

    @functools.cached_property
    def key_id(self) -> str:
        return self.key.key_id

    def _build_key(self, description: str, deletion_window_days: int) -> KmsKey:
        return KmsKey(
            self,
            "key",
            provider=self._provider,
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_days,
            tags=self._tags,
        )

    def _build_alias(self, alias: str) -> KmsAlias:
        return KmsAlias(self, "alias", provider=self._provider, name=alias, target_key_id=self.key_id)

    @staticmethod
    def _owner_statement(owner_root_arn: str) -> Statement:
        return Statement(
            sid="KeyOwnerAccount",
            principals={"AWS": [owner_root_arn]},
            actions=KEY_OWNER_ACTIONS,
            # In a key policy "*" means "this key" and nothing else.
            resources=["*"],
        )

    def _build_policy(self) -> KmsKeyPolicy:
        return KmsKeyPolicy(
            self,
            "policy",
            provider=self._provider,
            key_id=self.key_id,
            policy=policy_document(self._statements),
        )

    def add_statement(self, statement: Statement) -> Grant:
        """Adds a statement to the key policy (one resource, rewritten); the grant waits for the policy."""
        if any(existing.sid == statement.sid for existing in self._statements):
            raise ValueError(f"key policy statement {statement.sid} is already there")
        self._statements.append(statement)
        self.policy.policy = policy_document(self._statements)
        principals = [p for values in (statement.principals or {}).values() for p in values]
        return Grant.of(",".join(principals), statement.actions, (self.arn,), (self.policy,))
