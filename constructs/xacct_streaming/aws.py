"""The AWS provider bindings the constructs use, loaded in one place.

Constructs import provider classes from here, never from `cdktf_cdktf_provider_aws` directly:
`provider_bindings` loads just these submodules (see its docstring for why and how).
"""

from __future__ import annotations

from xacct_streaming.provider_bindings import symbol

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
AwsProvider = symbol("provider", "AwsProvider")
AwsProviderAssumeRole = symbol("provider", "AwsProviderAssumeRole")
AwsProviderDefaultTags = symbol("provider", "AwsProviderDefaultTags")
SnsTopic = symbol("sns_topic", "SnsTopic")
SqsQueue = symbol("sqs_queue", "SqsQueue")
