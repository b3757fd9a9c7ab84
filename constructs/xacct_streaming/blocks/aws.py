"""The AWS provider bindings the constructs use, loaded in one place.

Constructs import provider classes from here, never from `cdktf_cdktf_provider_aws` directly:
`provider_bindings` loads just these submodules (see its docstring for why and how). Type checkers
and editors see the classes themselves (the TYPE_CHECKING imports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xacct_streaming.synthesis.provider_bindings import symbol

if TYPE_CHECKING:
    from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
    from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
    from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
    from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTableAttribute
    from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTablePointInTimeRecovery
    from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTableServerSideEncryption
    from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
    from cdktf_cdktf_provider_aws.iam_role import IamRole
    from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
    from cdktf_cdktf_provider_aws.kinesis_resource_policy import KinesisResourcePolicy
    from cdktf_cdktf_provider_aws.kinesis_stream import KinesisStream
    from cdktf_cdktf_provider_aws.kinesis_stream import KinesisStreamStreamModeDetails
    from cdktf_cdktf_provider_aws.kinesis_stream_consumer import KinesisStreamConsumer
    from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
    from cdktf_cdktf_provider_aws.kms_key import KmsKey
    from cdktf_cdktf_provider_aws.kms_key_policy import KmsKeyPolicy
    from cdktf_cdktf_provider_aws.lambda_event_source_mapping import LambdaEventSourceMapping
    from cdktf_cdktf_provider_aws.lambda_event_source_mapping import LambdaEventSourceMappingDestinationConfig
    from cdktf_cdktf_provider_aws.lambda_event_source_mapping import LambdaEventSourceMappingDestinationConfigOnFailure
    from cdktf_cdktf_provider_aws.lambda_event_source_mapping import LambdaEventSourceMappingMetricsConfig
    from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
    from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
    from cdktf_cdktf_provider_aws.lambda_function import LambdaFunctionDeadLetterConfig
    from cdktf_cdktf_provider_aws.lambda_function import LambdaFunctionEnvironment
    from cdktf_cdktf_provider_aws.lambda_function import LambdaFunctionLoggingConfig
    from cdktf_cdktf_provider_aws.lambda_function import LambdaFunctionTracingConfig
    from cdktf_cdktf_provider_aws.lambda_function import LambdaFunctionVpcConfig
    from cdktf_cdktf_provider_aws.kms_grant import KmsGrant
    from cdktf_cdktf_provider_aws.kms_grant import KmsGrantConstraints
    from cdktf_cdktf_provider_aws.provider import AwsProvider
    from cdktf_cdktf_provider_aws.provider import AwsProviderAssumeRole
    from cdktf_cdktf_provider_aws.provider import AwsProviderDefaultTags
    from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
    from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
    from cdktf_cdktf_provider_aws.cloudwatch_log_stream import CloudwatchLogStream
    from cdktf_cdktf_provider_aws.dynamodb_resource_policy import DynamodbResourcePolicy
    from cdktf_cdktf_provider_aws.kinesis_firehose_delivery_stream import KinesisFirehoseDeliveryStream
    from cdktf_cdktf_provider_aws.kinesis_firehose_delivery_stream import KinesisFirehoseDeliveryStreamExtendedS3Configuration as FirehoseExtendedS3Configuration
    from cdktf_cdktf_provider_aws.kinesis_firehose_delivery_stream import KinesisFirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptions as FirehoseCloudwatchLoggingOptions
    from cdktf_cdktf_provider_aws.kinesis_firehose_delivery_stream import KinesisFirehoseDeliveryStreamServerSideEncryption as FirehoseServerSideEncryption
    from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
    from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import S3BucketLifecycleConfiguration
    from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import S3BucketLifecycleConfigurationRule as S3BucketLifecycleRule
    from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload as S3BucketLifecycleRuleAbortIncompleteMultipartUpload
    from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import S3BucketLifecycleConfigurationRuleFilter as S3BucketLifecycleRuleFilter
    from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration as S3BucketLifecycleRuleNoncurrentVersionExpiration
    from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls
    from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControlsRule
    from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
    from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration
    from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import S3BucketServerSideEncryptionConfigurationRuleA as S3BucketServerSideEncryptionRule
    from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA as S3BucketServerSideEncryptionByDefault
    from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA as S3BucketVersioning
    from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningVersioningConfiguration as S3BucketVersioningConfiguration
    from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
    from cdktf_cdktf_provider_aws.ses_configuration_set import SesConfigurationSet
    from cdktf_cdktf_provider_aws.ses_event_destination import SesEventDestination
    from cdktf_cdktf_provider_aws.ses_event_destination import SesEventDestinationSnsDestination
    from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
    from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
    from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import LambdaFunctionEventInvokeConfig
    from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import LambdaFunctionEventInvokeConfigDestinationConfig
    from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import LambdaFunctionEventInvokeConfigDestinationConfigOnFailure
    from cdktf_cdktf_provider_aws.ses_configuration_set import SesConfigurationSetDeliveryOptions
    from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
    from cdktf_cdktf_provider_aws.api_gateway_authorizer import ApiGatewayAuthorizer
    from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
    from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
    from cdktf_cdktf_provider_aws.api_gateway_integration_response import ApiGatewayIntegrationResponse
    from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
    from cdktf_cdktf_provider_aws.api_gateway_method_response import ApiGatewayMethodResponse
    from cdktf_cdktf_provider_aws.api_gateway_method_settings import ApiGatewayMethodSettings
    from cdktf_cdktf_provider_aws.api_gateway_method_settings import ApiGatewayMethodSettingsSettings
    from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
    from cdktf_cdktf_provider_aws.api_gateway_rest_api import ApiGatewayRestApi
    from cdktf_cdktf_provider_aws.api_gateway_rest_api import ApiGatewayRestApiEndpointConfiguration
    from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage
    from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStageAccessLogSettings
    from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
    from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
    from cdktf_cdktf_provider_aws.api_gateway_request_validator import ApiGatewayRequestValidator
else:
    CloudwatchLogGroup = symbol("cloudwatch_log_group", "CloudwatchLogGroup")
    CloudwatchMetricAlarm = symbol("cloudwatch_metric_alarm", "CloudwatchMetricAlarm")
    DynamodbTable = symbol("dynamodb_table", "DynamodbTable")
    DynamodbTableAttribute = symbol("dynamodb_table", "DynamodbTableAttribute")
    DynamodbTablePointInTimeRecovery = symbol("dynamodb_table", "DynamodbTablePointInTimeRecovery")
    DynamodbTableServerSideEncryption = symbol("dynamodb_table", "DynamodbTableServerSideEncryption")
    DataAwsPartition = symbol("data_aws_partition", "DataAwsPartition")
    IamRole = symbol("iam_role", "IamRole")
    IamRolePolicy = symbol("iam_role_policy", "IamRolePolicy")
    KinesisResourcePolicy = symbol("kinesis_resource_policy", "KinesisResourcePolicy")
    KinesisStream = symbol("kinesis_stream", "KinesisStream")
    KinesisStreamStreamModeDetails = symbol("kinesis_stream", "KinesisStreamStreamModeDetails")
    KinesisStreamConsumer = symbol("kinesis_stream_consumer", "KinesisStreamConsumer")
    KmsAlias = symbol("kms_alias", "KmsAlias")
    KmsKey = symbol("kms_key", "KmsKey")
    KmsKeyPolicy = symbol("kms_key_policy", "KmsKeyPolicy")
    LambdaEventSourceMapping = symbol("lambda_event_source_mapping", "LambdaEventSourceMapping")
    LambdaEventSourceMappingDestinationConfig = symbol("lambda_event_source_mapping", "LambdaEventSourceMappingDestinationConfig")
    LambdaEventSourceMappingDestinationConfigOnFailure = symbol("lambda_event_source_mapping", "LambdaEventSourceMappingDestinationConfigOnFailure")
    LambdaEventSourceMappingMetricsConfig = symbol("lambda_event_source_mapping", "LambdaEventSourceMappingMetricsConfig")
    CloudwatchDashboard = symbol("cloudwatch_dashboard", "CloudwatchDashboard")
    LambdaFunction = symbol("lambda_function", "LambdaFunction")
    LambdaFunctionDeadLetterConfig = symbol("lambda_function", "LambdaFunctionDeadLetterConfig")
    LambdaFunctionEnvironment = symbol("lambda_function", "LambdaFunctionEnvironment")
    LambdaFunctionLoggingConfig = symbol("lambda_function", "LambdaFunctionLoggingConfig")
    LambdaFunctionTracingConfig = symbol("lambda_function", "LambdaFunctionTracingConfig")
    LambdaFunctionVpcConfig = symbol("lambda_function", "LambdaFunctionVpcConfig")
    KmsGrant = symbol("kms_grant", "KmsGrant")
    KmsGrantConstraints = symbol("kms_grant", "KmsGrantConstraints")
    AwsProvider = symbol("provider", "AwsProvider")
    AwsProviderAssumeRole = symbol("provider", "AwsProviderAssumeRole")
    AwsProviderDefaultTags = symbol("provider", "AwsProviderDefaultTags")
    SnsTopic = symbol("sns_topic", "SnsTopic")
    SqsQueue = symbol("sqs_queue", "SqsQueue")
    CloudwatchLogStream = symbol("cloudwatch_log_stream", "CloudwatchLogStream")
    DynamodbResourcePolicy = symbol("dynamodb_resource_policy", "DynamodbResourcePolicy")
    KinesisFirehoseDeliveryStream = symbol("kinesis_firehose_delivery_stream", "KinesisFirehoseDeliveryStream")
    FirehoseExtendedS3Configuration = symbol("kinesis_firehose_delivery_stream", "KinesisFirehoseDeliveryStreamExtendedS3Configuration")
    FirehoseCloudwatchLoggingOptions = symbol("kinesis_firehose_delivery_stream", "KinesisFirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptions")
    FirehoseServerSideEncryption = symbol("kinesis_firehose_delivery_stream", "KinesisFirehoseDeliveryStreamServerSideEncryption")
    S3Bucket = symbol("s3_bucket", "S3Bucket")
    S3BucketLifecycleConfiguration = symbol("s3_bucket_lifecycle_configuration", "S3BucketLifecycleConfiguration")
    S3BucketLifecycleRule = symbol("s3_bucket_lifecycle_configuration", "S3BucketLifecycleConfigurationRule")
    S3BucketLifecycleRuleAbortIncompleteMultipartUpload = symbol("s3_bucket_lifecycle_configuration", "S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload")
    S3BucketLifecycleRuleFilter = symbol("s3_bucket_lifecycle_configuration", "S3BucketLifecycleConfigurationRuleFilter")
    S3BucketLifecycleRuleNoncurrentVersionExpiration = symbol("s3_bucket_lifecycle_configuration", "S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration")
    S3BucketOwnershipControls = symbol("s3_bucket_ownership_controls", "S3BucketOwnershipControls")
    S3BucketOwnershipControlsRule = symbol("s3_bucket_ownership_controls", "S3BucketOwnershipControlsRule")
    S3BucketPublicAccessBlock = symbol("s3_bucket_public_access_block", "S3BucketPublicAccessBlock")
    S3BucketServerSideEncryptionConfiguration = symbol("s3_bucket_server_side_encryption_configuration", "S3BucketServerSideEncryptionConfigurationA")
    S3BucketServerSideEncryptionRule = symbol("s3_bucket_server_side_encryption_configuration", "S3BucketServerSideEncryptionConfigurationRuleA")
    S3BucketServerSideEncryptionByDefault = symbol("s3_bucket_server_side_encryption_configuration", "S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA")
    S3BucketVersioning = symbol("s3_bucket_versioning", "S3BucketVersioningA")
    S3BucketVersioningConfiguration = symbol("s3_bucket_versioning", "S3BucketVersioningVersioningConfiguration")
    LambdaPermission = symbol("lambda_permission", "LambdaPermission")
    SesConfigurationSet = symbol("ses_configuration_set", "SesConfigurationSet")
    SesEventDestination = symbol("ses_event_destination", "SesEventDestination")
    SesEventDestinationSnsDestination = symbol("ses_event_destination", "SesEventDestinationSnsDestination")
    SnsTopicPolicy = symbol("sns_topic_policy", "SnsTopicPolicy")
    SnsTopicSubscription = symbol("sns_topic_subscription", "SnsTopicSubscription")
    LambdaFunctionEventInvokeConfig = symbol("lambda_function_event_invoke_config", "LambdaFunctionEventInvokeConfig")
    LambdaFunctionEventInvokeConfigDestinationConfig = symbol("lambda_function_event_invoke_config", "LambdaFunctionEventInvokeConfigDestinationConfig")
    LambdaFunctionEventInvokeConfigDestinationConfigOnFailure = symbol("lambda_function_event_invoke_config", "LambdaFunctionEventInvokeConfigDestinationConfigOnFailure")
    SesConfigurationSetDeliveryOptions = symbol("ses_configuration_set", "SesConfigurationSetDeliveryOptions")
    ApiGatewayAccount = symbol("api_gateway_account", "ApiGatewayAccount")
    ApiGatewayAuthorizer = symbol("api_gateway_authorizer", "ApiGatewayAuthorizer")
    ApiGatewayDeployment = symbol("api_gateway_deployment", "ApiGatewayDeployment")
    ApiGatewayIntegration = symbol("api_gateway_integration", "ApiGatewayIntegration")
    ApiGatewayIntegrationResponse = symbol("api_gateway_integration_response", "ApiGatewayIntegrationResponse")
    ApiGatewayMethod = symbol("api_gateway_method", "ApiGatewayMethod")
    ApiGatewayMethodResponse = symbol("api_gateway_method_response", "ApiGatewayMethodResponse")
    ApiGatewayMethodSettings = symbol("api_gateway_method_settings", "ApiGatewayMethodSettings")
    ApiGatewayMethodSettingsSettings = symbol("api_gateway_method_settings", "ApiGatewayMethodSettingsSettings")
    ApiGatewayResource = symbol("api_gateway_resource", "ApiGatewayResource")
    ApiGatewayRestApi = symbol("api_gateway_rest_api", "ApiGatewayRestApi")
    ApiGatewayRestApiEndpointConfiguration = symbol("api_gateway_rest_api", "ApiGatewayRestApiEndpointConfiguration")
    ApiGatewayStage = symbol("api_gateway_stage", "ApiGatewayStage")
    ApiGatewayStageAccessLogSettings = symbol("api_gateway_stage", "ApiGatewayStageAccessLogSettings")
    SecretsmanagerSecret = symbol("secretsmanager_secret", "SecretsmanagerSecret")
    SecretsmanagerSecretVersion = symbol("secretsmanager_secret_version", "SecretsmanagerSecretVersion")
    ApiGatewayRequestValidator = symbol("api_gateway_request_validator", "ApiGatewayRequestValidator")
