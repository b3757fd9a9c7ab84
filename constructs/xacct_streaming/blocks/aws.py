"""The AWS provider bindings the constructs use, loaded in one place.

Constructs import provider classes from here, never from `cdktf_cdktf_provider_aws` directly:
`provider_bindings` loads just these submodules (see its docstring for why and how).
"""

from __future__ import annotations

from xacct_streaming.synthesis.provider_bindings import symbol

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
LambdaEventSourceMappingDestinationConfig = symbol(
    "lambda_event_source_mapping", "LambdaEventSourceMappingDestinationConfig"
)
LambdaEventSourceMappingDestinationConfigOnFailure = symbol(
    "lambda_event_source_mapping", "LambdaEventSourceMappingDestinationConfigOnFailure"
)
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
FirehoseExtendedS3Configuration = symbol(
    "kinesis_firehose_delivery_stream", "KinesisFirehoseDeliveryStreamExtendedS3Configuration"
)
FirehoseCloudwatchLoggingOptions = symbol(
    "kinesis_firehose_delivery_stream", "KinesisFirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptions"
)
FirehoseServerSideEncryption = symbol("kinesis_firehose_delivery_stream", "KinesisFirehoseDeliveryStreamServerSideEncryption")
S3Bucket = symbol("s3_bucket", "S3Bucket")
S3BucketLifecycleConfiguration = symbol("s3_bucket_lifecycle_configuration", "S3BucketLifecycleConfiguration")
S3BucketLifecycleRule = symbol("s3_bucket_lifecycle_configuration", "S3BucketLifecycleConfigurationRule")
S3BucketLifecycleRuleAbortIncompleteMultipartUpload = symbol(
    "s3_bucket_lifecycle_configuration", "S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload"
)
S3BucketLifecycleRuleFilter = symbol("s3_bucket_lifecycle_configuration", "S3BucketLifecycleConfigurationRuleFilter")
S3BucketLifecycleRuleNoncurrentVersionExpiration = symbol(
    "s3_bucket_lifecycle_configuration", "S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration"
)
S3BucketOwnershipControls = symbol("s3_bucket_ownership_controls", "S3BucketOwnershipControls")
S3BucketOwnershipControlsRule = symbol("s3_bucket_ownership_controls", "S3BucketOwnershipControlsRule")
S3BucketPublicAccessBlock = symbol("s3_bucket_public_access_block", "S3BucketPublicAccessBlock")
S3BucketServerSideEncryptionConfiguration = symbol(
    "s3_bucket_server_side_encryption_configuration", "S3BucketServerSideEncryptionConfigurationA"
)
S3BucketServerSideEncryptionRule = symbol(
    "s3_bucket_server_side_encryption_configuration", "S3BucketServerSideEncryptionConfigurationRuleA"
)
S3BucketServerSideEncryptionByDefault = symbol(
    "s3_bucket_server_side_encryption_configuration",
    "S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA",
)
S3BucketVersioning = symbol("s3_bucket_versioning", "S3BucketVersioningA")
S3BucketVersioningConfiguration = symbol("s3_bucket_versioning", "S3BucketVersioningVersioningConfiguration")
LambdaPermission = symbol("lambda_permission", "LambdaPermission")
SesConfigurationSet = symbol("ses_configuration_set", "SesConfigurationSet")
SesEventDestination = symbol("ses_event_destination", "SesEventDestination")
SesEventDestinationSnsDestination = symbol("ses_event_destination", "SesEventDestinationSnsDestination")
SnsTopicPolicy = symbol("sns_topic_policy", "SnsTopicPolicy")
SnsTopicSubscription = symbol("sns_topic_subscription", "SnsTopicSubscription")
LambdaFunctionEventInvokeConfig = symbol("lambda_function_event_invoke_config", "LambdaFunctionEventInvokeConfig")
LambdaFunctionEventInvokeConfigDestinationConfig = symbol(
    "lambda_function_event_invoke_config", "LambdaFunctionEventInvokeConfigDestinationConfig"
)
LambdaFunctionEventInvokeConfigDestinationConfigOnFailure = symbol(
    "lambda_function_event_invoke_config", "LambdaFunctionEventInvokeConfigDestinationConfigOnFailure"
)
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
DataAwsSecretsmanagerRandomPassword = symbol("data_aws_secretsmanager_random_password", "DataAwsSecretsmanagerRandomPassword")
SecretsmanagerSecret = symbol("secretsmanager_secret", "SecretsmanagerSecret")
SecretsmanagerSecretVersion = symbol("secretsmanager_secret_version", "SecretsmanagerSecretVersion")
ApiGatewayRequestValidator = symbol("api_gateway_request_validator", "ApiGatewayRequestValidator")
