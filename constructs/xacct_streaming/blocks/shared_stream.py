"""SharedStream: the producer account's encrypted stream (or an existing one), shared with reader roles
in other accounts through enhanced fan-out consumers or by polling."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Optional

from xacct_streaming import framework
from xacct_streaming.framework import TerraformLocal, TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.aws import (
    KinesisResourcePolicy,
    KinesisStream,
    KinesisStreamConsumer,
    KinesisStreamStreamModeDetails,
    KmsGrant,
    KmsGrantConstraints,
)
from xacct_streaming.blocks.customer_managed_key import CustomerManagedKey
from xacct_streaming.blocks.grant import Grant
from xacct_streaming.blocks.policy import (
    STREAM_CONSUMER_READ_ACTIONS,
    STREAM_READ_ACTIONS,
    STREAM_WRITE_ACTIONS,
    Statement,
    policy_document,
)
from xacct_streaming.settings.errors import ConstructError
from xacct_streaming.settings.props import ExistingStreamProps, SharedStreamProps


def kinesis_service(region: str) -> str:
    return f"kinesis.{region}.amazonaws.com"


@dataclass
class StreamReader:
    """One reader of a SharedStream (grant_read): what its mapping reads (its EFO consumer, or
    the stream when it polls) and the resource-side grant the mapping must wait for."""

    name: str
    role_arn: str
    event_source_arn: str
    stream_consumer: Optional[Any]
    grant: Grant


# KMS CreateGrant's Name: 1-256 of a-z A-Z 0-9 : / _ - (API reference). A Kinesis consumer name, which
# grant names derive from, may also hold dots: each other character becomes a hyphen.
_KMS_GRANT_NAME_OTHER = re.compile(r"[^a-zA-Z0-9:/_-]")


def kms_grant_name(derived: str) -> str:
    return _KMS_GRANT_NAME_OTHER.sub("-", derived)[:256]


class SharedStream(Construct):
    """KMS key, Kinesis stream, and for each reader its EFO consumer (or none: it polls), the
    resource policies and the key access that share them.

    `reader_role_arn`: one reader given at construction (the two-account stacks), the exact ARN of
    the consumer account's function role, the only principal of both resource policies and of the
    key's decrypt grant; more readers with `grant_read` (the fan-out). Without any the
    stream is not shared: no EFO consumer, no resource policies, no grant in the key policy (a
    reader in the stream's own account is authorized by its IAM policy alone), and
    `stream_consumer`, `stream_policy` and `stream_consumer_policy` are None.

    `existing_stream` instead of `props`: a stream (and key) this configuration does not manage.
    Then `stream` and `key` are None, and the key is shared through a KMS grant bound to the stream's
    encryption context, never by rewriting the key's own policy. The stream's one resource policy
    is the owner's: its statements for the readers are in `owner_statements` (the stacks output
    them; `make preflight` writes them to a file and checks they are there), and the plan holds no
    policy on the stream, unless `take_over_policy` says this configuration writes it.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        props: Optional[SharedStreamProps] = None,
        existing_stream: Optional[ExistingStreamProps] = None,
        owner_root_arn: str,
        region: str,
        reader_role_arn: Optional[str],
        writer_role_arn: Optional[str] = None,
    ) -> None:
        """`writer_role_arn`: a role of the other account that may put records (the API stack):
        the stream's policy and the key grant it exactly the put actions."""
        super().__init__(scope, id_)
        if (props is None) == (existing_stream is None):
            raise ConstructError("SharedStream: give props or existing_stream, exactly one")
        self._provider = provider
        self._region = region
        self._owner_root_arn = owner_root_arn
        self.props = props
        self.existing_stream = existing_stream
        self._stream_statements: list[Statement] = []
        # Readers added with grant_read, by name.
        self.readers: dict[str, StreamReader] = {}
        self.reader_role_arn = reader_role_arn
        self.writer_role_arn = writer_role_arn
        self.key: Optional[CustomerManagedKey] = None
        self.stream: Optional[KinesisStream] = None
        self.key_grants: list[Any] = []
        if props is not None:
            self.key = self._build_key(owner_root_arn, region)
            self.stream = self._build_stream()
            self._record_usage()
        elif existing_stream is not None and existing_stream.key_arn is not None:
            self.key_grants = self._build_key_grants(existing_stream)
        self.stream_consumer: Optional[KinesisStreamConsumer] = None
        self.stream_policy: Optional[KinesisResourcePolicy] = None
        self.stream_consumer_policy: Optional[KinesisResourcePolicy] = None
        if reader_role_arn is not None or writer_role_arn is not None:
            self.stream_policy = self._build_stream_policy()
        if reader_role_arn is not None:
            self.stream_consumer = self._build_stream_consumer()
            self.stream_consumer_policy = self._build_stream_consumer_policy()

    @functools.cached_property  # a fixed token; each read is a round trip to the jsii kernel
    def stream_arn(self) -> str:
        return self.stream.arn if self.stream is not None else self.existing_stream.stream_arn  # type: ignore[union-attr]

    @property
    def stream_name(self) -> str:
        return self.stream.name if self.stream is not None else self.existing_stream.stream_name  # type: ignore[union-attr]

    @functools.cached_property
    def key_arn(self) -> Optional[str]:
        if self.key is not None:
            return self.key.arn
        return self.existing_stream.key_arn if self.existing_stream is not None else None

    @property
    def consumer_name(self) -> str:
        return self.props.consumer_name if self.props is not None else self.existing_stream.consumer_name  # type: ignore[union-attr]

    @property
    def read_grant(self) -> Grant:
        """The resource side of reading the stream (the reader role given at construction, or the
        stream's own account): the stream's and EFO consumer's policies in this plan, and the key's
        access (its policy, or the grants on an existing key)."""
        key = [self.key.policy] if self.key is not None else list(self.key_grants)
        sources = [self.stream_arn] + ([self.stream_consumer.arn] if self.stream_consumer is not None else [])
        return Grant.of(
            self.reader_role_arn or "the stream's account", STREAM_READ_ACTIONS, sources,
            [p for p in (self.stream_policy, self.stream_consumer_policy) if p is not None] + key,
        )

    def _build_key_grants(self, existing: ExistingStreamProps) -> list[Any]:
        grants = []
        for id_, principal, operation in (
            ("reader-key-grant", self.reader_role_arn, "Decrypt"),
            ("writer-key-grant", self.writer_role_arn, "GenerateDataKey"),
        ):
            if principal is None:
                continue
            grants.append(self._key_grant(id_, f"{existing.consumer_name}-{operation.lower()}", principal, operation, existing))
        return grants

    def _key_grant(self, id_: str, name: str, principal: str, operation: str, existing: ExistingStreamProps) -> Any:
        # Kinesis passes the stream ARN as the encryption context of every KMS call it makes for
        # the stream: a grant bound to it is good for this stream's records and nothing else.
        return KmsGrant(
            self,
            id_,
            provider=self._provider,
            name=kms_grant_name(name),
            key_id=existing.key_arn,
            grantee_principal=principal,
            operations=[operation],
            constraints=[KmsGrantConstraints(encryption_context_equals={"aws:kinesis:arn": existing.stream_arn})],
        )

    def _build_key(self, owner_root_arn: str, region: str) -> CustomerManagedKey:
        assert self.props is not None
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
            tags=self._tags,
            deletion_window_days=self.props.key_deletion_window_days,
            owner_root_arn=owner_root_arn,
            grants=grants,
        )

    @property
    def _tags(self) -> Optional[dict[str, str]]:
        return dict(self.props.tags) or None if self.props is not None else None

    def _consumer_tags(self) -> dict[str, Any]:
        """The stream's tags on its enhanced fan-out consumers too, where the provider takes them
        (hashicorp/aws 6.2.0 added `tags` to aws_kinesis_stream_consumer); nothing on 5.x."""
        return {"tags": self._tags} if self._tags and framework.line().aws_major >= 6 else {}

    def _build_stream(self) -> KinesisStream:
        assert self.props is not None
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
            tags=self._tags,
            # aws 6.x only (settings refuse it on 5.x): absent, the argument stays out of the JSON
            **({"warm_throughput_mib_ps": self.props.warm_throughput_mib_ps} if self.props.warm_throughput_mib_ps else {}),
        )

    def _record_usage(self) -> None:
        """The usage estimate, for the access review's enhanced fan-out prices (nothing when unset)."""
        assert self.props is not None
        if self.props.monthly_data_gb:
            TerraformLocal(self, "monthly_data_gb", self.props.monthly_data_gb)

    def _build_stream_consumer(self) -> KinesisStreamConsumer:
        return KinesisStreamConsumer(
            self,
            "consumer",
            provider=self._provider,
            name=self.consumer_name,
            stream_arn=self.stream_arn,
            **self._consumer_tags(),
        )

    @property
    def manages_stream_policy(self) -> bool:
        """Whether the plan writes the stream's resource policy: always for a stream it creates; for an
        existing stream only with take_over_policy (a stream has one policy, and writing replaces it)."""
        return self.existing_stream is None or self.existing_stream.take_over_policy

    @property
    def owner_statements(self) -> list[Statement]:
        """The statements the stream's owner must add to its policy (an existing stream not taken over)."""
        return [] if self.manages_stream_policy else list(self._stream_statements)

    def _build_stream_policy(self) -> Optional[KinesisResourcePolicy]:
        if self.reader_role_arn is not None:
            self._stream_statements.append(self._grant("ShareStreamWithConsumerRole", self.reader_role_arn, STREAM_READ_ACTIONS, self.stream_arn))
        if self.writer_role_arn is not None:
            self._stream_statements.append(self._grant("ShareStreamWithProducerRole", self.writer_role_arn, STREAM_WRITE_ACTIONS, self.stream_arn))
        return self._stream_policy_resource()

    def _stream_policy_resource(self) -> Optional[KinesisResourcePolicy]:
        """The stream's policy resource with every statement so far (created once, then updated)."""
        if not self.manages_stream_policy:
            return None
        if self.stream_policy is None:
            return KinesisResourcePolicy(
                self, "stream-policy", provider=self._provider, resource_arn=self.stream_arn, policy=policy_document(self._stream_statements)
            )
        self.stream_policy.policy = policy_document(self._stream_statements)
        return self.stream_policy

    @classmethod
    def from_existing(
        cls, scope: Construct, id_: str, *, provider: TerraformProvider, existing: ExistingStreamProps, owner_root_arn: str, region: str,
        reader_role_arn: Optional[str] = None, writer_role_arn: Optional[str] = None,
    ) -> "SharedStream":
        """A stream (and key) this configuration does not manage, shared without touching either."""
        return cls(scope, id_, provider=provider, existing_stream=existing, owner_root_arn=owner_root_arn, region=region,
                   reader_role_arn=reader_role_arn, writer_role_arn=writer_role_arn)

    @property
    def account_id(self) -> str:
        """The stream's account: the owner root ARN's."""
        return self._owner_root_arn.split(":")[4]

    def grant_read(self, name: str, role_arn: str, *, consumer_name: Optional[str], reader_account_id: Optional[str]) -> StreamReader:
        """Lets one more reader role read the stream, through an EFO consumer of its own
        (`consumer_name`) or by polling (None), and returns what its mapping reads and waits for.
        Whether the reader is in another account is decided by comparing `reader_account_id` with the
        stream's; None: an account this plan does not know (a split fan-out's account plan), another one.

        A reader in another account gets a statement in the stream's one resource policy, a resource
        policy on its own EFO consumer naming it alone, and `kms:Decrypt` via Kinesis in the key
        policy; a reader in the stream's account needs none of these (its IAM policy is enough, the
        key policy delegating to the account). An existing stream's key is shared with a grant."""
        cross_account = reader_account_id != self.account_id
        label = re.sub(r"[^A-Za-z0-9]", "", name.title())
        dependencies: list[Any] = []  # what this reader's grant wrote, in the order a mapping waits for it
        if cross_account:
            self._stream_statements.append(self._grant(f"ShareStreamWith{label}", role_arn, STREAM_READ_ACTIONS, self.stream_arn))
            self.stream_policy = self._stream_policy_resource()
            if self.stream_policy is not None:
                dependencies.append(self.stream_policy)
        if self.key is not None and cross_account:
            dependencies += self.key.add_statement(
                Statement(
                    sid=f"{label}DecryptViaKinesis",
                    principals={"AWS": [role_arn]},
                    actions=["kms:Decrypt"],
                    resources=["*"],
                    conditions={"StringEquals": {"kms:ViaService": kinesis_service(self._region)}},
                )
            ).dependables
        elif self.existing_stream is not None and self.existing_stream.key_arn is not None:
            dependencies.append(self._key_grant(f"{name}-key-grant", f"{consumer_name or name}-decrypt", role_arn, "Decrypt", self.existing_stream))
        consumer = policy = None
        if consumer_name is not None:
            consumer = KinesisStreamConsumer(self, f"{name}-consumer", provider=self._provider, name=consumer_name, stream_arn=self.stream_arn,
                                             **self._consumer_tags())
            consumer_arn = consumer.arn
            if cross_account:
                policy = KinesisResourcePolicy(
                    self, f"{name}-consumer-policy", provider=self._provider, resource_arn=consumer_arn,
                    policy=policy_document([self._grant(f"ShareConsumerWith{label}", role_arn, STREAM_CONSUMER_READ_ACTIONS, consumer_arn)]),
                )
                dependencies.append(policy)
        event_source_arn = consumer_arn if consumer is not None else self.stream_arn
        self.readers[name] = StreamReader(
            name=name, role_arn=role_arn, event_source_arn=event_source_arn, stream_consumer=consumer,
            grant=Grant.of(role_arn, STREAM_READ_ACTIONS + (STREAM_CONSUMER_READ_ACTIONS if consumer else ()), (event_source_arn,), dependencies),
        )
        return self.readers[name]

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
