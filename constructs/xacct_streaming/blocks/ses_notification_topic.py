"""SesNotificationTopic: an SES configuration set publishing its events to an encrypted SNS topic."""

from __future__ import annotations

from xacct_streaming.framework import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.aws import (
    SesConfigurationSet,
    SesConfigurationSetDeliveryOptions,
    SesEventDestination,
    SesEventDestinationSnsDestination,
    SnsTopic,
    SnsTopicPolicy,
)
from xacct_streaming.blocks.customer_managed_key import CustomerManagedKey
from xacct_streaming.blocks.policy import Statement, policy_document
from xacct_streaming.settings.ses_notifications import NotificationProps

# What SES needs on the key of an encrypted topic it publishes to (SES and SNS docs).
SES_TOPIC_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")

# SES event destination names: at most 64 of a-z A-Z 0-9 _ - (SES API reference, EventDestination.Name),
# as for the configuration set whose name this one carries: a long set name is cut to leave room for the
# suffix (names up to 57 characters keep `<set>-to-sns` as it always was, so no destination is replaced).
EVENT_DESTINATION_SUFFIX = "-to-sns"


def event_destination_name(configuration_set_name: str) -> str:
    return configuration_set_name[: 64 - len(EVENT_DESTINATION_SUFFIX)] + EVENT_DESTINATION_SUFFIX


class SesNotificationTopic(Construct):
    """Seed 004's "configure the SES source" and "subscribe to SNS" steps, without the console.

    The topic is encrypted with its own customer-managed key. SES may publish to the topic only for
    this configuration set (`aws:SourceAccount`, `aws:SourceArn`, which SES documents sending), and
    use the key only for this topic's messages (the encryption context SNS sets, `aws:sns:topicArn`;
    SES documents no source keys reaching KMS: xacct_ops.iam.request_context). Subscribers are added by
    the stack (`self.topic`).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        props: NotificationProps,
        owner_root_arn: str,
        arn_prefix: str,
        account_id: str,
    ) -> None:
        """`arn_prefix`: `arn:<partition>:{service}:<region>:<account>`, for the ARNs the policies
        name before the topic and the configuration set exist."""
        super().__init__(scope, id_)
        self._provider = provider
        self.props = props
        configuration_set_arn = f"{arn_prefix.replace('{service}', 'ses')}:configuration-set/{props.configuration_set_name}"
        topic_arn = f"{arn_prefix.replace('{service}', 'sns')}:{props.topic_name}"
        ses_of_this_set = {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": configuration_set_arn},
        }
        self.key = CustomerManagedKey(
            self,
            "key",
            provider=provider,
            alias=props.topic_key_alias,
            description=f"Encrypts SNS topic {props.topic_name} of SES configuration set {props.configuration_set_name}",
            deletion_window_days=props.key_deletion_window_days,
            owner_root_arn=owner_root_arn,
            grants=[
                Statement(
                    sid="SesPublishesToEncryptedTopic",
                    principals={"Service": ["ses.amazonaws.com"]},
                    actions=SES_TOPIC_KEY_ACTIONS,
                    resources=["*"],
                    conditions={"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}},
                )
            ],
        )
        self.topic = SnsTopic(self, "topic", provider=provider, name=props.topic_name, kms_master_key_id=self.key.arn)
        self.topic_policy = SnsTopicPolicy(
            self,
            "topic-policy",
            provider=provider,
            arn=self.topic.arn,
            policy=policy_document(
                [
                    Statement(
                        sid="SesConfigurationSetPublishes",
                        principals={"Service": ["ses.amazonaws.com"]},
                        actions=["SNS:Publish"],
                        resources=[self.topic.arn],
                        conditions=ses_of_this_set,
                    )
                ]
            ),
        )
        self.configuration_set = SesConfigurationSet(
            self,
            "configuration-set",
            provider=provider,
            name=props.configuration_set_name,
            # Mail sent with this set goes out over TLS only, or not at all.
            delivery_options=SesConfigurationSetDeliveryOptions(tls_policy="Require"),
        )
        self.event_destination = SesEventDestination(
            self,
            "event-destination",
            provider=provider,
            name=event_destination_name(props.configuration_set_name),
            configuration_set_name=self.configuration_set.name,
            enabled=True,
            matching_types=list(props.event_types),
            sns_destination=SesEventDestinationSnsDestination(topic_arn=self.topic.arn),
            # SES checks that it may publish (and use the key) when the destination is created.
            depends_on=[self.topic_policy, self.key.policy],
        )
