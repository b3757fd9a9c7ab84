"""S3DeliveryStream: a Firehose stream writing to an encrypted, versioned, private S3 bucket."""

from __future__ import annotations

from xacct_streaming.framework import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.aws import (
    CloudwatchLogGroup,
    CloudwatchLogStream,
    FirehoseCloudwatchLoggingOptions,
    FirehoseExtendedS3Configuration,
    FirehoseServerSideEncryption,
    IamRole,
    IamRolePolicy,
    KinesisFirehoseDeliveryStream,
    S3Bucket,
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleRule,
    S3BucketLifecycleRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleRuleFilter,
    S3BucketLifecycleRuleNoncurrentVersionExpiration,
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
    S3BucketPublicAccessBlock,
    S3BucketServerSideEncryptionByDefault,
    S3BucketServerSideEncryptionConfiguration,
    S3BucketServerSideEncryptionRule,
    S3BucketVersioning,
    S3BucketVersioningConfiguration,
)
from xacct_streaming.blocks.customer_managed_key import CustomerManagedKey
from xacct_streaming.blocks.policy import Statement, logs_key_grant, policy_document, trust_policy
from xacct_streaming.settings.replication import DeliveryProps

LOG_STREAM_NAME = "DestinationDelivery"
# What Firehose needs on its destination bucket (AWS Firehose docs, "Grant access to S3").
S3_DELIVERY_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:PutObject",
)
ABORT_MULTIPART_AFTER_DAYS = 7


class S3DeliveryStream(Construct):
    """Seed 001's `prod-s3-firehose`, with what the seed left off.

    The seed chose no encryption and an uncompressed, unversioned bucket. Here: one
    customer-managed key for the bucket (SSE-KMS with a bucket key), the stream (server-side
    encryption) and the error log group; versioning with expiry of old versions; all public
    access blocked, ACLs off; aborted multipart uploads cleaned up; error logging to
    CloudWatch; a role only Firehose of this account can assume, allowed the delivery actions
    on this bucket, the key through S3 and its own log stream.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        props: DeliveryProps,
        owner_root_arn: str,
        account_id: str,
        region: str,
        log_group_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        self._provider = provider
        self.props = props
        self._region = region
        self.key = self._build_key(owner_root_arn, region, log_group_arn)
        self.bucket = self._build_bucket(account_id, region)
        self._configure_bucket()
        self.log_group, self.log_stream = self._build_logs()
        self.role = self._build_role(account_id)
        self.role_policy = self._build_role_policy()
        self.delivery_stream = self._build_delivery_stream()

    @property
    def log_group_name(self) -> str:
        return f"/aws/kinesisfirehose/{self.props.delivery_stream_name}"

    def _build_key(self, owner_root_arn: str, region: str, log_group_arn: str) -> CustomerManagedKey:
        logs = logs_key_grant("CloudWatchLogsForDeliveryLogGroup", region, log_group_arn)
        return CustomerManagedKey(
            self,
            "key",
            provider=self._provider,
            alias=self.props.key_alias,
            description=f"Encrypts Firehose stream {self.props.delivery_stream_name}, its bucket and error logs",
            deletion_window_days=self.props.key_deletion_window_days,
            owner_root_arn=owner_root_arn,
            grants=[logs],
        )

    def _build_bucket(self, account_id: str, region: str) -> S3Bucket:
        return S3Bucket(self, "bucket", provider=self._provider, bucket=f"{self.props.bucket_prefix}-{account_id}-{region}")

    def _configure_bucket(self) -> None:
        bucket = self.bucket.id
        self.versioning = S3BucketVersioning(
            self, "versioning", provider=self._provider, bucket=bucket,
            versioning_configuration=S3BucketVersioningConfiguration(status="Enabled"),
        )
        self.encryption = S3BucketServerSideEncryptionConfiguration(
            self, "encryption", provider=self._provider, bucket=bucket,
            rule=[
                S3BucketServerSideEncryptionRule(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionByDefault(
                        sse_algorithm="aws:kms", kms_master_key_id=self.key.arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
        )
        self.public_access_block = S3BucketPublicAccessBlock(
            self, "public-access-block", provider=self._provider, bucket=bucket,
            block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
        )
        self.ownership = S3BucketOwnershipControls(
            self, "ownership", provider=self._provider, bucket=bucket,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        self.lifecycle = S3BucketLifecycleConfiguration(
            self, "lifecycle", provider=self._provider, bucket=bucket,
            rule=[
                S3BucketLifecycleRule(
                    id="expire-old-versions-and-abort-uploads",
                    status="Enabled",
                    filter=[S3BucketLifecycleRuleFilter(prefix="")],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleRuleAbortIncompleteMultipartUpload(days_after_initiation=ABORT_MULTIPART_AFTER_DAYS)
                    ],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleRuleNoncurrentVersionExpiration(
                            noncurrent_days=self.props.noncurrent_version_expiration_days
                        )
                    ],
                )
            ],
            # S3 rejects lifecycle rules on noncurrent versions until versioning is on.
            depends_on=[self.versioning],
        )

    def _build_logs(self) -> tuple[CloudwatchLogGroup, CloudwatchLogStream]:
        group = CloudwatchLogGroup(
            self,
            "log-group",
            provider=self._provider,
            name=self.log_group_name,
            retention_in_days=self.props.log_retention_days,
            kms_key_id=self.key.arn,
            depends_on=[self.key.policy],
        )
        stream = CloudwatchLogStream(self, "log-stream", provider=self._provider, name=LOG_STREAM_NAME, log_group_name=group.name)
        return group, stream

    def _build_role(self, account_id: str) -> IamRole:
        # AWS' recommended trust for Firehose: the service, on behalf of this account only.
        trust = Statement(
            sid="TrustFirehoseOfThisAccount",
            principals={"Service": ["firehose.amazonaws.com"]},
            actions=["sts:AssumeRole"],
            resources=(),
            conditions={"StringEquals": {"sts:ExternalId": account_id}},
        )
        return IamRole(
            self,
            "role",
            provider=self._provider,
            name=f"{self.props.delivery_stream_name}-firehose"[:64],
            description=f"Delivery role of Firehose stream {self.props.delivery_stream_name}",
            assume_role_policy=trust_policy([trust]),
        )

    def _build_role_policy(self) -> IamRolePolicy:
        statements = [
            Statement(
                sid="DeliverToBucket",
                actions=S3_DELIVERY_ACTIONS,
                resources=[self.bucket.arn, f"{self.bucket.arn}/*"],
            ),
            Statement(
                sid="EncryptObjectsViaS3",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[self.key.arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"s3.{self._region}.amazonaws.com"},
                    # With an S3 Bucket Key, S3 asks KMS for the bucket's key with the bucket ARN as
                    # the encryption context, not the object's: conditioning on "<bucket>/*" denies every write.
                    "ArnEquals": {"kms:EncryptionContext:aws:s3:arn": self.bucket.arn},
                },
            ),
            Statement(
                sid="WriteDeliveryErrors",
                actions=["logs:PutLogEvents"],
                resources=[f"{self.log_group.arn}:log-stream:{LOG_STREAM_NAME}"],
            ),
        ]
        return IamRolePolicy(
            self, "role-policy", provider=self._provider, name="deliver-to-s3", role=self.role.id,
            policy=policy_document(statements),
        )

    def _build_delivery_stream(self) -> KinesisFirehoseDeliveryStream:
        props = self.props
        return KinesisFirehoseDeliveryStream(
            self,
            "delivery-stream",
            provider=self._provider,
            name=props.delivery_stream_name,
            destination="extended_s3",
            server_side_encryption=FirehoseServerSideEncryption(
                enabled=True, key_type="CUSTOMER_MANAGED_CMK", key_arn=self.key.arn
            ),
            extended_s3_configuration=FirehoseExtendedS3Configuration(
                role_arn=self.role.arn,
                bucket_arn=self.bucket.arn,
                prefix=props.prefix,
                error_output_prefix=props.error_output_prefix,
                buffering_size=props.buffering_size_mb,
                buffering_interval=props.buffering_interval_seconds,
                compression_format=props.compression_format,
                kms_key_arn=self.key.arn,
                cloudwatch_logging_options=FirehoseCloudwatchLoggingOptions(
                    enabled=True, log_group_name=self.log_group.name, log_stream_name=self.log_stream.name
                ),
            ),
            # Firehose checks at creation that the role can reach the bucket and the key.
            depends_on=[self.role_policy, self.key.policy, self.encryption, self.public_access_block],
        )
