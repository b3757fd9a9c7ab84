"""SesNotificationsStack (seed 004): SES events -> SNS -> Lambda -> a Kinesis stream in another account.

Producer account (the stream's): the KMS-encrypted stream and the role the forwarder assumes,
trusting exactly the forwarder's role ARN and allowed only to put records to this stream.
Consumer account (the SES account): the configuration set, its SNS event destination, the
encrypted topic, the forwarder (`lambda_src/notifications_handler.py`) subscribed to it, and the
forwarder's queues, logs, key and alarms.
"""

from __future__ import annotations


from constructs import Construct

from xacct_streaming.settings import defaults
from xacct_streaming.blocks.aws import (
    LambdaFunctionEventInvokeConfig,
    LambdaFunctionEventInvokeConfigDestinationConfig,
    LambdaFunctionEventInvokeConfigDestinationConfigOnFailure,
    LambdaPermission,
    SnsTopicSubscription,
)
from xacct_streaming.blocks.grant import dependables
from xacct_streaming.blocks.cross_account_writer_role import CrossAccountWriterRole
from xacct_streaming.blocks.policy import Statement
from xacct_streaming.settings.ses_notifications import SesNotificationsStackProps
from xacct_streaming.settings.runtime_contracts import ForwarderSettings
from xacct_streaming.blocks.ses_notification_topic import SesNotificationTopic
from xacct_streaming.blocks.shared_stream import SharedStream, kinesis_service
from xacct_streaming.stacks.two_account_stack import CONSUMER, PRODUCER, TwoAccountStack

# Lambda retries a failed asynchronous (SNS) invocation twice; after an hour it gives up anyway.
ASYNC_RETRY_ATTEMPTS = 2
ASYNC_MAXIMUM_EVENT_AGE_SECONDS = 3600


class SesNotificationsStack(TwoAccountStack):
    def __init__(self, scope: Construct, props: SesNotificationsStackProps) -> None:
        super().__init__(scope, props.stack_name, props.backend, props.tags)
        self.props = props
        notifications = props.notifications
        # The forwarder needs the role's ARN and the role's trust needs the forwarder's: the
        # forwarder gets the ARN spelled out (no cycle) and its subscription waits for the role.
        writer_role_arn = self.role_arn(PRODUCER, notifications.stream_writer_role_name)

        self.stream = SharedStream(
            self,
            "stream",
            provider=self.producer_provider,
            props=props.stream,
            owner_root_arn=self.root_arn(PRODUCER),
            region=self.region,
            reader_role_arn=None,  # written through a role of its own account: nothing to share
        )
        self.forwarder = self.function(
            "forwarder-function",
            CONSUMER,
            props=props.forwarder,
            builtin_handler=defaults.NOTIFICATIONS_HANDLER,
            description="Forwards SES notifications from SNS into a Kinesis stream of another account",
            sink_role_arn=writer_role_arn,
            sink_environment=ForwarderSettings.environment(stream_arn=self.stream.stream.arn, stream_role_arn=writer_role_arn),
        )
        self.stream_writer_role = CrossAccountWriterRole(
            self,
            "stream-writer-role",
            provider=self.producer_provider,
            role_name=notifications.stream_writer_role_name,
            description="Assumed by the SES notification forwarder in the SES account to put records to one stream",
            trusted_role_arn=self.forwarder.role_arn,
            external_id=None,
            policy_name="put-to-stream",
            statements=[
                Statement(sid="PutRecordsToStream", actions=["kinesis:PutRecord", "kinesis:PutRecords"], resources=[self.stream.stream.arn]),
                Statement(
                    sid="EncryptViaKinesis",
                    actions=["kms:GenerateDataKey"],
                    resources=[self.stream.key.arn],
                    conditions={"StringEquals": {"kms:ViaService": kinesis_service(self.region)}},
                ),
            ],
        )
        consumer_account = self.account_id(CONSUMER)
        self.notifications = SesNotificationTopic(
            self,
            "notifications",
            provider=self.consumer_provider,
            props=notifications,
            owner_root_arn=self.root_arn(CONSUMER),
            arn_prefix=f"arn:{self.partition}:{{service}}:{self.region}:{consumer_account}",
            account_id=consumer_account,
        )
        topic = self.notifications.topic
        self.invoke_permission = LambdaPermission(
            self,
            "sns-invoke-permission",
            provider=self.consumer_provider,
            statement_id="AllowNotificationTopic",
            action="lambda:InvokeFunction",
            function_name=self.forwarder.function.function_name,
            principal="sns.amazonaws.com",
            source_arn=topic.arn,
        )
        self.invoke_config = LambdaFunctionEventInvokeConfig(
            self,
            "async-invoke-config",
            provider=self.consumer_provider,
            function_name=self.forwarder.function.function_name,
            maximum_retry_attempts=ASYNC_RETRY_ATTEMPTS,
            maximum_event_age_in_seconds=ASYNC_MAXIMUM_EVENT_AGE_SECONDS,
            destination_config=LambdaFunctionEventInvokeConfigDestinationConfig(
                on_failure=LambdaFunctionEventInvokeConfigDestinationConfigOnFailure(
                    destination=self.forwarder.on_failure_queue_arn
                )
            ),
        )
        self.subscription = SnsTopicSubscription(
            self,
            "subscription",
            provider=self.consumer_provider,
            topic_arn=topic.arn,
            protocol="lambda",
            endpoint=self.forwarder.function_arn,
            # The first notification must find the function allowed to run and to reach the stream.
            depends_on=[
                self.invoke_permission,
                self.invoke_config,
                *dependables([self.forwarder.runtime_grant, self.stream_writer_role.write_grant, self.stream.key.account_grant]),
            ],
        )
        self.alarms = self.watch("alarms", CONSUMER, self.forwarder, props.alarms)
        self._build_outputs()

    def _build_outputs(self) -> None:
        notifications = self.notifications
        self.add_outputs({
            **self.stream_outputs(self.stream, "the Kinesis stream the notifications land in"),
            "stream_writer_role_arn": (self.stream_writer_role.role.arn, "Role the forwarder assumes to put records (producer account)."),
            "ses_configuration_set_name": (notifications.configuration_set.name, "SES configuration set to send with (consumer account)."),
            "notification_topic_arn": (notifications.topic.arn, "Encrypted SNS topic SES publishes the events to (consumer account)."),
            "topic_kms_key_arn": (notifications.key.arn, "ARN of the topic's customer-managed key (consumer account)."),
            **self.function_outputs(self.forwarder, "the forwarder function", CONSUMER),
            **self.finish_monitoring(self.props.alarms),
        })
