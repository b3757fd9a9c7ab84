"""Every default of the product in one place; override with dataclasses.replace or a config file."""

from __future__ import annotations

STACK_NAME = "xacct-kinesis-efo"

# Producer account: the shared stream.
STREAM_NAME = "xacct-shared-stream"
STREAM_MODE = "ON_DEMAND"
STREAM_RETENTION_HOURS = 24
STREAM_CONSUMER_NAME = "xacct-lambda-consumer"
STREAM_KEY_ALIAS = "alias/xacct-shared-stream"
KEY_DELETION_WINDOW_DAYS = 30

# Consumer account: the function and its failure handling.
FUNCTION_NAME = "xacct-stream-consumer"
FUNCTION_KEY_ALIAS = "alias/xacct-stream-consumer"
FUNCTION_RUNTIME = "python3.12"
FUNCTION_ARCHITECTURE = "arm64"
FUNCTION_MEMORY_MB = 256
FUNCTION_TIMEOUT_SECONDS = 60
FUNCTION_RESERVED_CONCURRENCY = 10
FUNCTION_LOG_LEVEL = "INFO"
# One year: the shortest retention the scan accepts (CKV_AWS_338).
LOG_RETENTION_DAYS = 365
# The SQS maximum: failed-batch pointers and dead letters are worth keeping as long as possible.
QUEUE_MESSAGE_RETENTION_SECONDS = 1_209_600

# The sink the consumer writes to: a DynamoDB table in the consumer account unless a role in
# another account is given. Deletion protection on: the table holds the stream's history.
SINK_TABLE_NAME = "xacct-stream-sink"
SINK_DELETION_PROTECTION = True

# Alarms, in the account of what they watch. Iterator age: half the source's retention unless set
# (AlarmProps.iterator_age_seconds): CloudWatch's recommended Kinesis alarms warn that "if an iterator's
# age passes 50% of the retention period ... there is risk for data loss due to record expiration"
# (CloudWatch User Guide, "Best practice alarm recommendations"). A DynamoDB stream keeps 24 hours.
DYNAMODB_STREAM_RETENTION_HOURS = 24
ERRORS_ALARM_THRESHOLD = 1
THROTTLES_ALARM_THRESHOLD = 1
QUEUE_MESSAGES_ALARM_THRESHOLD = 1
READ_THROUGHPUT_EXCEEDED_ALARM_THRESHOLD = 1
API_5XX_ALARM_THRESHOLD = 1
ALARM_PERIOD_SECONDS = 300
ALARM_EVALUATION_PERIODS = 1
METRICS_NAMESPACE = "XacctStreaming"

# Event source mapping on the EFO consumer.
STARTING_POSITION = "TRIM_HORIZON"
BATCH_SIZE = 100
MAXIMUM_BATCHING_WINDOW_SECONDS = 1
# Finite on purpose: -1 (retry forever) would block the shard until the records expire. A batch that
# keeps failing is split (bisection) and, after these retries, its coordinates go to the on-failure queue.
MAXIMUM_RETRY_ATTEMPTS = 3
# -1: a record is given up for age only when the source no longer holds it. Lambda discards records
# older than this without invoking the function (the on-failure queue gets their coordinates only), and
# keeps retrying a throttled or failing shard "until the records expire or exceed the maximum age"
# (Lambda's Kinesis event source docs): one hour dropped records after an hour of throttling or an
# outage while the stream still held them for 24 hours or more.
MAXIMUM_RECORD_AGE_SECONDS = -1
PARALLELIZATION_FACTOR = 1

# State backend: local, next to the project, relative so the output carries no machine path.
BACKEND_KIND = "local"
# The S3 backend's default state key is `<environment>/<stack_name>/terraform.tfstate`.
BACKEND_ENVIRONMENT = "default"

# Values used by `make synth` when no config file is given and by terraform.tfvars.example.
EXAMPLE_REGION = "eu-west-1"

# Seed 003: a DynamoDB table's stream read by a function in another account.
DDB_STACK_NAME = "xacct-dynamodb-streams"
SOURCE_TABLE_NAME = "xacct-orders"
SOURCE_TABLE_PARTITION_KEY = "pk"
SOURCE_TABLE_SORT_KEY = "sk"
SOURCE_TABLE_STREAM_VIEW = "NEW_AND_OLD_IMAGES"
SOURCE_TABLE_KEY_ALIAS = "alias/xacct-orders"
CHANGE_FUNCTION_NAME = "xacct-change-consumer"
CHANGE_FUNCTION_KEY_ALIAS = "alias/xacct-change-consumer"
CHANGE_LOG_TABLE_NAME = "xacct-change-log"
CHANGES_HANDLER = "changes_handler.lambda_handler"

# Seed 001: Kinesis -> writer -> replica table in another account -> flattener -> Firehose -> S3.
REPLICATION_STACK_NAME = "xacct-kinesis-replication"
REPLICATION_STREAM_NAME = "xacct-web-analytics"
REPLICATION_STREAM_KEY_ALIAS = "alias/xacct-web-analytics"
WRITER_FUNCTION_NAME = "xacct-replica-writer"
WRITER_FUNCTION_KEY_ALIAS = "alias/xacct-replica-writer"
REPLICA_TABLE_NAME = "xacct-web-analytics-replica"
REPLICA_WRITER_ROLE_NAME = "xacct-replica-table-writer"
# Not a secret (AWS: an external id guards against the confused deputy); set your own per pairing.
REPLICA_EXTERNAL_ID = "xacct-kinesis-replication"
REPLICA_STREAM_VIEW = "NEW_AND_OLD_IMAGES"
FLATTENER_FUNCTION_NAME = "xacct-replica-to-firehose"
FLATTENER_FUNCTION_KEY_ALIAS = "alias/xacct-replica-to-firehose"
DELIVERY_STREAM_NAME = "xacct-web-analytics-archive"
# The bucket is named <prefix>-<consumer account id>-<region>: unique without a random suffix.
DELIVERY_BUCKET_PREFIX = "xacct-web-analytics"
DELIVERY_PREFIX = "changes/"
DELIVERY_ERROR_PREFIX = "errors/"
# Seed 001's values: 5 MB or 300 s, whichever comes first.
DELIVERY_BUFFER_MB = 5
DELIVERY_BUFFER_SECONDS = 300
DELIVERY_COMPRESSION = "GZIP"
DELIVERY_NONCURRENT_VERSION_DAYS = 90
# The analytics data key: replica table, Firehose stream, bucket and delivery error logs.
DELIVERY_KEY_ALIAS = "alias/xacct-web-analytics-data"

# Seed 004: SES -> SNS -> Lambda (SES account) -> Kinesis stream in another account.
SES_STACK_NAME = "xacct-ses-notifications"
SES_STREAM_NAME = "xacct-ses-events"
SES_STREAM_KEY_ALIAS = "alias/xacct-ses-events"
SES_STREAM_WRITER_ROLE_NAME = "xacct-ses-stream-writer"
SES_FORWARDER_FUNCTION_NAME = "xacct-ses-forwarder"
SES_FORWARDER_KEY_ALIAS = "alias/xacct-ses-forwarder"
SES_CONFIGURATION_SET_NAME = "xacct-mail"
SES_TOPIC_NAME = "xacct-ses-notifications"
SES_TOPIC_KEY_ALIAS = "alias/xacct-ses-notifications"
# Every event type SES (v1 configuration sets) can publish to SNS.
SES_EVENT_TYPES = ("send", "reject", "bounce", "complaint", "delivery", "open", "click", "renderingFailure")
NOTIFICATIONS_HANDLER = "notifications_handler.lambda_handler"

# Seed 002: API Gateway (basic auth) -> Kinesis in another account -> Lambda -> DynamoDB.
API_STACK_NAME = "xacct-api-ingest"
API_STREAM_NAME = "xacct-ingest-events"
API_STREAM_KEY_ALIAS = "alias/xacct-ingest-events"
API_STREAM_CONSUMER_NAME = "xacct-ingest-consumer"
API_NAME = "xacct-ingest"
API_STAGE_NAME = "prod"
API_ROUTE = "submit"
API_USERNAME = "ingest"
API_SECRET_NAME = "xacct-ingest/basic-auth"
API_PASSWORD_LENGTH = 32
API_THROTTLE_RATE = 100
API_THROTTLE_BURST = 200
API_PREVIOUS_PASSWORD_GRACE_SECONDS = 300
# How long a warm authorizer trusts the secret it read (a password it does not match reads it again sooner).
API_SECRET_CACHE_SECONDS = 60
API_KEY_ALIAS = "alias/xacct-ingest-api"
API_AUTHORIZER_FUNCTION_NAME = "xacct-ingest-authorizer"
API_AUTHORIZER_KEY_ALIAS = "alias/xacct-ingest-authorizer"
API_CONSUMER_FUNCTION_NAME = "xacct-ingest-consumer"
API_CONSUMER_KEY_ALIAS = "alias/xacct-ingest-consumer-fn"
API_SINK_TABLE_NAME = "xacct-ingest-events"
AUTHORIZER_HANDLER = "authorizer_handler.lambda_handler"
AUTHORIZER_MEMORY_MB = 128
AUTHORIZER_TIMEOUT_SECONDS = 3

# Fan-out: one stream, consumers in several accounts (the producer's too), each with its own function.
FANOUT_STACK_NAME = "xacct-kinesis-fanout"
FANOUT_STREAM_NAME = "xacct-fanout-stream"
FANOUT_STREAM_KEY_ALIAS = "alias/xacct-fanout-stream"
FANOUT_READ_MODE = "enhanced_fan_out"
# The example fan-out: two teams in accounts of their own through EFO, an audit reader in the producer account.
FANOUT_CONSUMERS = (("analytics", "analytics", "enhanced_fan_out"), ("billing", "billing", "enhanced_fan_out"), ("audit", "producer", "polling"))
