"""ApiIngestStack (seed 002): API Gateway (basic auth) -> Kinesis in another account -> Lambda -> DynamoDB.

Producer account: the stream and its key, shared both ways: the API's integration role may put
records, the consumer function's role reads through an EFO consumer. Consumer account: the API
(route, authorizer, secret, access logs), its integration role, and the core stack's consumer
side (function, sink table, queues, alarms, the mapping on the EFO consumer).
"""

from __future__ import annotations


from constructs import Construct

from xacct_streaming.settings import defaults
from xacct_streaming.blocks.aws import IamRole
from xacct_streaming.blocks.basic_auth_stream_api import BasicAuthStreamApi
from xacct_streaming.blocks.policy import Statement, trust_policy
from xacct_streaming.settings.api_ingest import ApiIngestStackProps
from xacct_streaming.settings.runtime_contracts import AuthorizerSettings
from xacct_streaming.blocks.shared_stream import SharedStream
from xacct_streaming.blocks.stream_consumer import StreamConsumer
from xacct_streaming.stacks.two_account_stack import CONSUMER, PRODUCER, TwoAccountStack


class ApiIngestStack(TwoAccountStack):
    def __init__(self, scope: Construct, props: ApiIngestStackProps) -> None:
        super().__init__(scope, props.stack_name, props.backend, props.tags)
        self.props = props
        self.consumer = self.function(
            "consumer-function", CONSUMER, props=props.function, sink=props.sink
        )
        self.authorizer = self.function(
            "authorizer-function",
            CONSUMER,
            props=props.authorizer,
            builtin_handler=defaults.AUTHORIZER_HANDLER,
            description=f"Basic-auth authorizer of API {props.api.api_name}",
            sink_environment=AuthorizerSettings.environment(secret_id=props.api.secret_name, cache_seconds=defaults.API_SECRET_CACHE_SECONDS,
                                                            previous_grace_seconds=props.api.previous_password_grace_seconds),
            # API Gateway waits for its answer: no asynchronous retries, no mapping, no queues.
            queues=False,
        )
        # API Gateway assumes this role to call kinesis:PutRecord. No aws:SourceAccount/SourceArn
        # condition: API Gateway sends neither when it assumes an integration's credentials role, so
        # one denies every request (HTTP 500; a live report: aws-solutions-library-samples/accelerated-
        # intelligent-document-processing-on-aws PR #479). Another account's API cannot use the role
        # anyway: configuring an integration with it needs iam:PassRole, which is same-account only.
        self.integration_role = IamRole(
            self,
            "integration-role",
            provider=self.consumer_provider,
            name=f"{props.api.api_name}-to-kinesis"[:64],
            description=f"Used by API {props.api.api_name} to put records to the stream in the producer account",
            assume_role_policy=trust_policy(
                [
                    Statement(
                        sid="TrustApiGateway",
                        principals={"Service": ["apigateway.amazonaws.com"]},
                        actions=["sts:AssumeRole"],
                        resources=(),
                    )
                ]
            ),
        )
        self.shared = SharedStream(
            self,
            "shared-stream",
            provider=self.producer_provider,
            props=props.stream,
            owner_root_arn=self.root_arn(PRODUCER),
            region=self.region,
            reader_role_arn=self.consumer.role_arn,
            writer_role_arn=self.integration_role.arn,
        )
        self.api = BasicAuthStreamApi(
            self,
            "api",
            provider=self.consumer_provider,
            props=props.api,
            authorizer=self.authorizer,
            integration_role=self.integration_role,
            stream_arn=self.shared.stream.arn,
            stream_key_arn=self.shared.key.arn,
            owner_root_arn=self.root_arn(CONSUMER),
            partition=self.partition,
            region=self.region,
            log_group_arn=self.log_group_arn(CONSUMER, f"/aws/apigateway/{props.api.api_name}/access"),
        )
        self.wiring = StreamConsumer(
            self,
            "",
            provider=self.consumer_provider,
            function=self.consumer,
            event_source_arn=self.shared.stream_consumer.arn,
            mapping=props.mapping,
            source=[self.shared.read_grant, self.consumer.grant_stream_read(self.shared)],
            sink_table=props.sink,
        )
        self.sink_table, self.mapping = self.wiring.sink_table, self.wiring.mapping
        self.alarms = self.watch("alarms", CONSUMER, self.consumer, props.alarms, retention_hours=props.stream.retention_period_hours,
                                 mapping=self.mapping, event_counts=props.mapping.event_count_metrics)
        # The authorizer's errors and throttles fail requests: its own alarms, and the stage's 5XX.
        self.authorizer_alarms = self.watch("authorizer-alarms", CONSUMER, self.authorizer, props.alarms)
        self.api_alarm = self.watch_api("api-alarms", CONSUMER, props.api.api_name, props.api.stage_name, props.alarms)
        self._build_outputs()

    def _build_outputs(self) -> None:
        api = self.api
        self.add_outputs({
            "api_invoke_url": (api.invoke_url, "POST the event body here with basic auth (consumer account's API)."),
            "api_id": (api.api.id, "Id of the REST API."),
            "api_access_log_group_name": (api.access_logs.name, "CloudWatch log group of the API's access logs."),
            "api_kms_key_arn": (api.key.arn, "ARN of the key of the secret and the access logs (consumer account)."),
            "basic_auth_secret_arn": (api.secret.arn, "Secrets Manager secret holding the API's username and password."),
            "integration_role_arn": (self.integration_role.arn, "Role API Gateway uses to put records; named in the stream's policy."),
            **self.function_outputs(self.authorizer, "the basic-auth authorizer function", CONSUMER, prefix="authorizer"),
            **self.stream_outputs(self.shared, "the Kinesis stream"),
            **self.function_outputs(self.consumer, "the consumer function", CONSUMER),
            "event_source_mapping_uuid": (self.mapping.mapping.uuid, "UUID of the event source mapping on the EFO consumer."),
            "sink_table_name": (self.sink_table.table.name, "DynamoDB table each event lands in (consumer account)."),
            "sink_table_arn": (self.sink_table.table.arn, "ARN of the sink table."),
            **self.finish_monitoring(self.props.alarms),
        })
