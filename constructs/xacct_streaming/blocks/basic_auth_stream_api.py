"""BasicAuthStreamApi: a REST API whose one route puts the request body to a Kinesis stream.

`POST /<route>/{eventId}` (seed 002 had `/submit/{streamName}/{eventId}`: here the stream is fixed
by the stack, since a caller-chosen stream name would reach every stream the role may write).
A REQUEST Lambda authorizer checks basic-auth credentials held in Secrets Manager; the
integration is an AWS service integration (`kinesis:PutRecord`, by stream ARN, so the stream may
live in another account) with a role of its own; the stage writes JSON access logs.
"""

from __future__ import annotations

import json
from typing import Any

from xacct_streaming import framework
from xacct_streaming.framework import TerraformProvider, TerraformResourceLifecycle, TerraformStack
from constructs import Construct

from xacct_streaming.blocks.aws import (
    ApiGatewayAccount,
    ApiGatewayAuthorizer,
    ApiGatewayDeployment,
    ApiGatewayIntegration,
    ApiGatewayIntegrationResponse,
    ApiGatewayMethod,
    ApiGatewayMethodResponse,
    ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings,
    ApiGatewayRequestValidator,
    ApiGatewayResource,
    ApiGatewayRestApi,
    ApiGatewayRestApiEndpointConfiguration,
    ApiGatewayStage,
    ApiGatewayStageAccessLogSettings,
    CloudwatchLogGroup,
    IamRole,
    IamRolePolicy,
    LambdaPermission,
    SecretsmanagerSecret,
    SecretsmanagerSecretVersion,
)
from xacct_streaming.blocks.customer_managed_key import CustomerManagedKey
from xacct_streaming.blocks.policy import STREAM_WRITE_ACTIONS, Statement, logs_key_grant, policy_document, trust_policy
from xacct_streaming.settings.api_ingest import IngestApiProps
from xacct_streaming.blocks.shared_stream import kinesis_service
from xacct_streaming.blocks.synchronous_function import SynchronousFunction

# Characters a Basic header or the secret's JSON would need escaped.
EXCLUDED_PASSWORD_CHARACTERS = "\"'\\:"

# One JSON object per request; no header, body or credential is ever in it.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "principal": "$context.authorizer.principalId",
        "authorizerError": "$context.authorizer.error",
        "integrationStatus": "$context.integration.status",
    },
    separators=(",", ":"),
)
# API Gateway's answers, chosen from Kinesis' status (4xx: the request; 5xx: the service).
RESPONSES = (("200", None), ("400", "4\\d{2}"), ("502", "5\\d{2}"))
# `$util.escapeJavaScript` escapes `'` as `\'`, which is not valid JSON: AWS's mapping template reference
# has it turned back (`.replaceAll("\\'","'")`), or an eventId with a quote gets a 400.
EVENT_ID_IN_JSON = "$util.escapeJavaScript($input.params('eventId')).replaceAll(\"\\\\'\",\"'\")"
SUCCESS_TEMPLATE = (
    '{"eventId":"' + EVENT_ID_IN_JSON + '",'
    '"sequenceNumber":"$input.path(\'$.SequenceNumber\')","shardId":"$input.path(\'$.ShardId\')"}'
)
ERROR_TEMPLATE = '{"message":"the event was not accepted","requestId":"$context.requestId"}'
LOGGING_ROLE_ACTIONS = (
    "logs:CreateLogStream",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
)
# DescribeLogGroups has no resource-level permission: granted on one log group it is never allowed.
LOGGING_ROLE_LIST_ACTIONS = ("logs:DescribeLogGroups",)


# Arguments that do not shape what a deployment serves (or that every resource shares).
_NOT_SHAPING = {"//", "provider", "depends_on", "lifecycle", "rest_api_id", "count", "for_each"}


def _shaping_values(resources: list[Any]) -> list[str]:
    """`type.name.id` and `type.name.<argument>` for every argument set on each resource."""
    values = []
    for resource in resources:
        address = f"{resource.terraform_resource_type}.{resource.friendly_unique_id}"
        arguments = resource.to_terraform()["resource"][resource.terraform_resource_type][resource.friendly_unique_id]
        values.append(f"{address}.id")
        values.extend(f"{address}.{name}" for name in sorted(arguments) if name not in _NOT_SHAPING)
    return values


class BasicAuthStreamApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: TerraformProvider,
        props: IngestApiProps,
        authorizer: SynchronousFunction,
        integration_role: IamRole,
        stream_arn: str,
        stream_key_arn: str,
        owner_root_arn: str,
        partition: str,
        region: str,
        log_group_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        self._provider = provider
        self.props = props
        self._region = region
        self.key = self._build_key(owner_root_arn, log_group_arn)
        self.secret, self.secret_version = self._build_secret()
        self.authorizer_policy = authorizer.add_role_policy(
            "secret-read-policy",
            "read-basic-auth-secret",
            [
                Statement(sid="ReadBasicAuthSecret", actions=["secretsmanager:GetSecretValue"], resources=[self.secret.arn]),
                Statement(
                    sid="DecryptSecretViaSecretsManager",
                    actions=["kms:Decrypt"],
                    resources=[self.key.arn],
                    conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
                ),
            ],
        )
        self.integration_role_policy = IamRolePolicy(
            self,
            "integration-role-policy",
            provider=provider,
            name="put-to-stream",
            role=integration_role.id,
            policy=policy_document(
                [
                    Statement(sid="PutToStream", actions=STREAM_WRITE_ACTIONS, resources=[stream_arn]),
                    Statement(
                        sid="EncryptViaKinesis",
                        actions=["kms:GenerateDataKey"],
                        resources=[stream_key_arn],
                        conditions={"StringEquals": {"kms:ViaService": kinesis_service(region)}},
                    ),
                ]
            ),
        )
        self.access_logs = CloudwatchLogGroup(
            self,
            "access-logs",
            provider=provider,
            name=self.access_log_group_name,
            retention_in_days=props.access_log_retention_days,
            kms_key_id=self.key.arn,
            depends_on=[self.key.policy],
        )
        self.account_settings = self._build_account_logging_role() if props.manage_account_logging_role else None
        self.api = ApiGatewayRestApi(
            self,
            "api",
            provider=provider,
            name=props.api_name,
            description="Puts each authorized request body to the Kinesis stream in the producer account",
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.request_authorizer = self._build_authorizer(authorizer)
        # Everything a deployment snapshots (set by _build_route): the deployment's trigger hashes these.
        self.shaping_resources: list[Any] = [self.request_authorizer]
        self.method, self.integration, self.integration_responses = self._build_route(integration_role, stream_arn, partition)
        self.stage = self._build_stage()

    @property
    def access_log_group_name(self) -> str:
        return f"/aws/apigateway/{self.props.api_name}/access"

    @property
    def invoke_url(self) -> str:
        return f"{self.stage.invoke_url}/{self.props.route}/{{eventId}}"

    def _build_key(self, owner_root_arn: str, log_group_arn: str) -> CustomerManagedKey:
        logs = logs_key_grant("CloudWatchLogsForAccessLogGroup", self._region, log_group_arn)
        return CustomerManagedKey(
            self,
            "key",
            provider=self._provider,
            alias=self.props.key_alias,
            description=f"Encrypts the basic-auth secret and access logs of API {self.props.api_name}",
            deletion_window_days=self.props.key_deletion_window_days,
            owner_root_arn=owner_root_arn,
            grants=[logs],
        )

    def _build_secret(self) -> tuple[SecretsmanagerSecret, SecretsmanagerSecretVersion]:
        secret = SecretsmanagerSecret(
            self,
            "secret",
            provider=self._provider,
            name=self.props.secret_name,
            description=f"Basic-auth credentials of API {self.props.api_name}: JSON with username and password",
            kms_key_id=self.key.arn,
            recovery_window_in_days=7,
        )
        # The password is drawn by an ephemeral resource and written through a write-only argument
        # (hashicorp/aws >= 5.88; synthesis requires the Terraform that has them): it is never in a plan
        # or in state. cdktf 0.21 has no ephemeral resources, so the block is an override of the stack's JSON.
        password = f"{self.node.id}-password"
        stack = TerraformStack.of(self)
        stack.add_override(
            f"ephemeral.aws_secretsmanager_random_password.{password}",
            {
                "provider": self._provider.fqn,
                "password_length": self.props.password_length,
                "exclude_characters": EXCLUDED_PASSWORD_CHARACTERS,
                "require_each_included_type": True,
            },
        )
        version = SecretsmanagerSecretVersion(
            self,
            "secret-version",
            provider=self._provider,
            secret_id=secret.id,
            secret_string_wo=(
                f"${{jsonencode({{username = {json.dumps(self.props.username)}, "
                f"password = ephemeral.aws_secretsmanager_random_password.{password}.random_password}})}}"
            ),
            # Terraform writes a new password only when this number changes: rotation is a reviewed
            # settings change (api.password_version), never a value Terraform could write back.
            secret_string_wo_version=self.props.password_version,
        )
        return secret, version

    def _build_account_logging_role(self) -> ApiGatewayAccount:
        trust = Statement(
            sid="TrustApiGateway",
            principals={"Service": ["apigateway.amazonaws.com"]},
            actions=["sts:AssumeRole"],
            resources=(),
        )
        role = IamRole(
            self,
            "logging-role",
            provider=self._provider,
            name=f"{self.props.api_name}-apigateway-logs"[:64],
            description="API Gateway's account-wide role for writing access logs",
            assume_role_policy=trust_policy([trust]),
        )
        policy = IamRolePolicy(
            self,
            "logging-role-policy",
            provider=self._provider,
            name="write-access-logs",
            role=role.id,
            policy=policy_document(
                [
                    Statement(
                        sid="WriteAccessLogs",
                        actions=LOGGING_ROLE_ACTIONS,
                        resources=[self.access_logs.arn, f"{self.access_logs.arn}:log-stream:*"],
                    ),
                    Statement(sid="ListLogGroupsNoResourceLevelPermissions", actions=LOGGING_ROLE_LIST_ACTIONS, resources=["*"]),
                ]
            ),
        )
        # reset_on_delete: a destroy puts the account's setting back (hashicorp/aws 5.75.1 added it);
        # without it the account would keep pointing at the role this stack deletes. 6.0 removed the
        # argument: its destroy always resets (the provider's version 6 upgrade guide).
        reset = {"reset_on_delete": True} if framework.line().aws_major < 6 else {}
        return ApiGatewayAccount(
            self, "account-settings", provider=self._provider, cloudwatch_role_arn=role.arn, depends_on=[policy], **reset
        )

    def _build_authorizer(self, authorizer: SynchronousFunction) -> ApiGatewayAuthorizer:
        request_authorizer = ApiGatewayAuthorizer(
            self,
            "authorizer",
            provider=self._provider,
            name="basic-auth",
            rest_api_id=self.api.id,
            type="REQUEST",
            authorizer_uri=authorizer.function.invoke_arn,
            identity_source="method.request.header.Authorization",
            # 0: every request is checked (seed 002's ReauthorizeEvery: 0); a cached Allow would be
            # for one method ARN, i.e. one eventId, anyway.
            authorizer_result_ttl_in_seconds=0,
        )
        LambdaPermission(
            self,
            "authorizer-permission",
            provider=self._provider,
            statement_id="AllowApiGatewayAuthorizer",
            action="lambda:InvokeFunction",
            function_name=authorizer.function.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=f"{self.api.execution_arn}/authorizers/{request_authorizer.id}",
        )
        return request_authorizer

    def _build_route(
        self, integration_role: IamRole, stream_arn: str, partition: str
    ) -> tuple[ApiGatewayMethod, ApiGatewayIntegration, list[ApiGatewayIntegrationResponse]]:
        route = ApiGatewayResource(
            self, "route", provider=self._provider, rest_api_id=self.api.id, parent_id=self.api.root_resource_id, path_part=self.props.route
        )
        event = ApiGatewayResource(self, "event-id", provider=self._provider, rest_api_id=self.api.id, parent_id=route.id, path_part="{eventId}")
        validator = ApiGatewayRequestValidator(
            self, "request-validator", provider=self._provider, rest_api_id=self.api.id, name="path-and-headers",
            validate_request_parameters=True, validate_request_body=False,
        )
        method = ApiGatewayMethod(
            self,
            "post",
            provider=self._provider,
            rest_api_id=self.api.id,
            resource_id=event.id,
            http_method="POST",
            authorization="CUSTOM",
            authorizer_id=self.request_authorizer.id,
            request_parameters={"method.request.path.eventId": True, "method.request.header.Authorization": True},
            request_validator_id=validator.id,
        )
        template = (
            f'{{"StreamARN":"{stream_arn}",'
            '"PartitionKey":"' + EVENT_ID_IN_JSON + '",'
            '"Data":"$util.base64Encode($input.body)"}'
        )
        integration = ApiGatewayIntegration(
            self,
            "integration",
            provider=self._provider,
            rest_api_id=self.api.id,
            resource_id=event.id,
            http_method=method.http_method,
            type="AWS",
            integration_http_method="POST",
            uri=f"arn:{partition}:apigateway:{self._region}:kinesis:action/PutRecord",
            credentials=integration_role.arn,
            passthrough_behavior="NEVER",
            # The Kinesis API's JSON protocol version, as AWS's Kinesis proxy tutorial sets it (its
            # OpenAPI export: integration.request.header.Content-Type 'application/x-amz-json-1.1').
            request_parameters={"integration.request.header.Content-Type": "'application/x-amz-json-1.1'"},
            request_templates={"application/json": template},
        )
        responses, method_responses = [], []
        for status, pattern in RESPONSES:
            method_response = ApiGatewayMethodResponse(
                self, f"response-{status}", provider=self._provider, rest_api_id=self.api.id, resource_id=event.id,
                http_method=method.http_method, status_code=status,
            )
            method_responses.append(method_response)
            responses.append(
                ApiGatewayIntegrationResponse(
                    self, f"integration-response-{status}", provider=self._provider, rest_api_id=self.api.id,
                    resource_id=event.id, http_method=method.http_method, status_code=method_response.status_code,
                    selection_pattern=pattern,
                    response_templates={"application/json": SUCCESS_TEMPLATE if status == "200" else ERROR_TEMPLATE},
                    depends_on=[integration],
                )
            )
        self.shaping_resources += [route, event, validator, method, integration, *method_responses, *responses]
        return method, integration, responses

    def _build_stage(self) -> ApiGatewayStage:
        deployment = ApiGatewayDeployment(
            self,
            "deployment",
            provider=self._provider,
            rest_api_id=self.api.id,
            # A stage serves a snapshot of the API taken at deployment: a new one is needed whenever
            # anything it serves changes. Ids change only on replacement, not on in-place edits (a
            # template, credentials, a response, the authorizer), so the trigger hashes every argument
            # this construct sets on every shaping resource, references resolved, plus its id. Not the
            # whole objects: the provider reads unset arguments back as null where it created them
            # as {} or [], and that alone would redeploy on every plan.
            triggers={"redeployment": "${sha1(jsonencode([" + ", ".join(_shaping_values(self.shaping_resources)) + "]))}"},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=[self.method, self.integration, *self.integration_responses],
        )
        stage = ApiGatewayStage(
            self,
            "stage",
            provider=self._provider,
            rest_api_id=self.api.id,
            deployment_id=deployment.id,
            stage_name=self.props.stage_name,
            xray_tracing_enabled=True,
            access_log_settings=ApiGatewayStageAccessLogSettings(destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT),
            depends_on=[self.account_settings] if self.account_settings is not None else [],
        )
        self.method_settings = ApiGatewayMethodSettings(
            self,
            "method-settings",
            provider=self._provider,
            rest_api_id=self.api.id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings=ApiGatewayMethodSettingsSettings(
                metrics_enabled=True,
                throttling_rate_limit=self.props.throttling_rate_limit,
                throttling_burst_limit=self.props.throttling_burst_limit,
                # Execution logs would hold request bodies; the access log holds none.
                data_trace_enabled=False,
                logging_level="OFF",
            ),
        )
        return stage
