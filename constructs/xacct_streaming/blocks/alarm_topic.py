"""AlarmTopic: the encrypted SNS topic an account's alarms notify, and who hears it."""

from __future__ import annotations

from typing import Sequence

from xacct_streaming.framework import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.aws import LambdaPermission, SnsTopic, SnsTopicPolicy, SnsTopicSubscription
from xacct_streaming.blocks.customer_managed_key import CustomerManagedKey
from xacct_streaming.blocks.policy import Statement, policy_document
from xacct_streaming.settings.props import AlarmSubscription

# What CloudWatch needs on the key of an encrypted topic it publishes alarm notifications to.
CLOUDWATCH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


def cloudwatch_key_grant(topic_arn: str) -> Statement:
    """Key-policy statement letting CloudWatch use the key only for messages of this alarm topic.
    SNS makes the KMS call with the topic's ARN as encryption context (`aws:sns:topicArn`); whether
    CloudWatch's `aws:SourceAccount`/`aws:SourceArn` reach KMS is documented nowhere (xacct_ops.iam.request_context)."""
    return Statement(
        sid="CloudWatchAlarmsPublishToEncryptedTopic",
        principals={"Service": ["cloudwatch.amazonaws.com"]},
        actions=CLOUDWATCH_KEY_ACTIONS,
        resources=["*"],
        conditions={"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}},
    )


def cloudwatch_publish_statement(topic_arn: str, account_id: str, alarm_arn_prefix: str) -> Statement:
    """Topic-policy statement letting CloudWatch publish for this account's alarms only."""
    return Statement(
        sid="CloudWatchAlarmsOfThisAccountPublish",
        principals={"Service": ["cloudwatch.amazonaws.com"]},
        actions=["SNS:Publish"],
        resources=[topic_arn],
        conditions={"StringEquals": {"aws:SourceAccount": account_id}, "ArnLike": {"aws:SourceArn": f"{alarm_arn_prefix}:alarm:*"}},
    )


class AlarmTopic(Construct):
    """An SNS topic encrypted with a customer-managed key of its own, for the alarms of one account.

    CloudWatch cannot publish to a topic encrypted with the AWS-managed `alias/aws/sns` key, so the
    key lets `cloudwatch.amazonaws.com` use it, only for this topic's messages (the encryption context
    SNS sets); the topic policy lets CloudWatch publish for this account's alarms only. Subscriptions:
    email and https endpoints confirm by themselves (SNS sends them a confirmation first); an SQS queue
    or a Lambda function must be in this account: the function gets the permission SNS needs; the
    queue's policy is its owner's, who lets sns.amazonaws.com send for this topic (docs/operations.md).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        name: str,
        key_alias: str,
        key_deletion_window_days: int,
        owner_root_arn: str,
        arn_prefix: str,
        account_id: str,
        subscriptions: Sequence[AlarmSubscription] = (),
    ) -> None:
        """`arn_prefix`: `arn:<partition>:{service}:<region>:<account>`, for the ARNs the policies
        name before the topic exists."""
        super().__init__(scope, id_)
        self._provider = provider
        self.name = name
        self.topic_arn_written = f"{arn_prefix.replace('{service}', 'sns')}:{name}"
        self.key = CustomerManagedKey(
            self,
            "key",
            provider=provider,
            alias=key_alias,
            description=f"Encrypts alarm notifications of SNS topic {name}",
            deletion_window_days=key_deletion_window_days,
            owner_root_arn=owner_root_arn,
            grants=[cloudwatch_key_grant(self.topic_arn_written)],
        )
        self.topic = SnsTopic(self, "topic", provider=provider, name=name, kms_master_key_id=self.key.arn)
        self.topic_policy = SnsTopicPolicy(
            self,
            "topic-policy",
            provider=provider,
            arn=self.topic.arn,
            policy=policy_document([cloudwatch_publish_statement(self.topic.arn, account_id, arn_prefix.replace("{service}", "cloudwatch"))]),
        )
        self.subscriptions = [self._subscribe(index, s) for index, s in enumerate(subscriptions)]

    @property
    def arn(self) -> str:
        return self.topic.arn

    def _subscribe(self, index: int, subscription: AlarmSubscription) -> SnsTopicSubscription:
        depends_on: list[object] = [self.topic_policy, self.key.policy]
        if subscription.protocol == "lambda":
            depends_on.append(LambdaPermission(
                self,
                f"subscriber-{index}-permission",
                provider=self._provider,
                statement_id=f"{self.name}-publishes"[:100],
                action="lambda:InvokeFunction",
                function_name=subscription.endpoint,
                principal="sns.amazonaws.com",
                source_arn=self.topic.arn,
            ))
        return SnsTopicSubscription(
            self,
            f"subscriber-{index}",
            provider=self._provider,
            topic_arn=self.topic.arn,
            protocol=subscription.protocol,
            endpoint=subscription.endpoint,
            depends_on=depends_on,
        )
