"""Typed, frozen props for each construct, validated when they are created.

This module imports nothing from cdktf, so a bad value is reported in milliseconds and
before the app touches any output directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import re
from typing import Any, Mapping, Optional

from xacct_streaming.settings import defaults
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.patterns import (
    AWS_MANAGED_KINESIS_KEY,
    EMAIL_ADDRESS,
    FUNCTION_ARN,
    FUNCTION_NAME as _FUNCTION_NAME,
    HTTPS_URL,
    SNS_TOPIC_ARN as SNS_TOPIC_ARN_PATTERN,
    SQS_QUEUE_ARN,
    KEY_ARN as KEY_ARN_PATTERN,
    KINESIS_NAME as _KINESIS_NAME,
    KMS_ALIAS as _KMS_ALIAS,
    KMS_ALIAS_TEXT as _KMS_ALIAS_TEXT,
    LAYER_ARN as _LAYER_ARN,
    ROLE_ARN as ROLE_ARN_PATTERN,
    SECURITY_GROUP_ID as _SECURITY_GROUP_ID,
    STREAM_ARN as STREAM_ARN_PATTERN,
    SUBNET_ID as _SUBNET_ID,
)
from xacct_streaming.settings.function_code import check_code
from xacct_streaming.settings.validation import (
    require_bool,
    require_environment,
    require_int,
    require_int_or_minus_one,
    require_list,
    require_match,
    require_number,
    require_one_of,
    require_region,
    require_tags,
)

STREAM_MODES = ("ON_DEMAND", "PROVISIONED")
# UpdateStreamWarmThroughput's default limit: no more than 10 GiB/s for an on-demand stream.
MAX_WARM_THROUGHPUT_MIB_PS = 10_240
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")
ARCHITECTURES = ("arm64", "x86_64")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# CloudWatch Logs accepts only these retention values; those under a year fail CKV_AWS_338.
LOG_RETENTION_DAYS = (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
BACKEND_KINDS = ("local", "s3")
ALARM_PERIODS = (60, 300, 900, 3600)

# function.reserved_concurrency that reserves nothing (Terraform's reserved_concurrent_executions = -1).
UNRESERVED = -1


@dataclass(frozen=True, kw_only=True)
class SharedStreamProps:
    """The producer side: KMS key, stream and its enhanced fan-out consumer."""

    stream_name: str = defaults.STREAM_NAME
    stream_mode: str = defaults.STREAM_MODE
    shard_count: Optional[int] = None
    retention_period_hours: int = defaults.STREAM_RETENTION_HOURS
    consumer_name: str = defaults.STREAM_CONSUMER_NAME
    key_alias: str = defaults.STREAM_KEY_ALIAS
    key_deletion_window_days: int = defaults.KEY_DELETION_WINDOW_DAYS
    # Tags of the stream and its key, over the stack's.
    tags: Mapping[str, str] = field(default_factory=dict)
    # GB the stream carries a month, a usage estimate: `make access-review` prices each enhanced fan-out
    # consumer's retrieval of it (0: retrieval not priced). Written into the stack as a Terraform local.
    monthly_data_gb: float = 0
    # The producer account runs Kinesis On-demand Advantage, an account-wide billing commitment (24 h
    # minimum) the toolkit does not switch on (UpdateAccountSettings): its on-demand streams take up to
    # 50 enhanced fan-out consumers instead of 20, and can be warmed.
    on_demand_advantage: bool = False
    # MiB/s of write capacity the stream keeps warm (UpdateStreamWarmThroughput: On-demand Advantage
    # only, at most 10 GiB/s). hashicorp/aws 6.x only: the CDK Terrain line (XACCT_FRAMEWORK=cdktn).
    warm_throughput_mib_ps: Optional[int] = None

    def __post_init__(self) -> None:
        require_tags("stream.tags", self.tags)
        require_number("stream.monthly_data_gb", self.monthly_data_gb, 0, 10_000_000)
        require_match("stream.stream_name", self.stream_name, _KINESIS_NAME, "1-128 of a-z A-Z 0-9 _ . -")
        require_one_of("stream.stream_mode", self.stream_mode, STREAM_MODES)
        if self.stream_mode == "PROVISIONED":
            require_int("stream.shard_count", self.shard_count, 1, 500)
        elif self.shard_count is not None:
            raise ConfigError("stream.shard_count", self.shard_count, "no value when stream_mode is 'ON_DEMAND'")
        require_int("stream.retention_period_hours", self.retention_period_hours, 24, 8760)
        require_match("stream.consumer_name", self.consumer_name, _KINESIS_NAME, "1-128 of a-z A-Z 0-9 _ . -")
        require_match("stream.key_alias", self.key_alias, _KMS_ALIAS, _KMS_ALIAS_TEXT)
        require_int("stream.key_deletion_window_days", self.key_deletion_window_days, 7, 30)
        self._require_advantage()

    def _require_advantage(self) -> None:
        require_bool("stream.on_demand_advantage", self.on_demand_advantage)
        if self.on_demand_advantage and self.stream_mode != "ON_DEMAND":
            raise ConfigError("stream.on_demand_advantage", True, "false when stream_mode is not 'ON_DEMAND' (the mode applies to on-demand streams)")
        if self.warm_throughput_mib_ps is None:
            return
        require_int("stream.warm_throughput_mib_ps", self.warm_throughput_mib_ps, 1, MAX_WARM_THROUGHPUT_MIB_PS)
        if not self.on_demand_advantage:
            raise ConfigError("stream.warm_throughput_mib_ps", self.warm_throughput_mib_ps,
                              "no value unless stream.on_demand_advantage = true (Kinesis warms on-demand streams in On-demand Advantage accounts only)")
        from xacct_streaming.framework import ENV, line  # loads no framework

        if line().aws_major < 6:
            raise ConfigError("stream.warm_throughput_mib_ps", self.warm_throughput_mib_ps,
                              f"no value on the {line().name} line (hashicorp/aws {line().aws_provider} has no "
                              f"warm_throughput_mib_ps): synthesize on CDK Terrain, {ENV}=cdktn (docs/migration.md)")




def parse_arn(field: str, value: Any, pattern: str, description: str) -> dict[str, str]:
    """The named parts of an ARN that matches `pattern`, its region inside its partition."""
    match = re.fullmatch(pattern, value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(field, value, description)
    parts = match.groupdict()
    require_region(field, value, parts["region"], parts["partition"])
    return parts


@dataclass(frozen=True, kw_only=True)
class ExistingStreamProps:
    """A stream this configuration does not manage: the stack adds the EFO consumer, the stream's
    resource policy and (for a customer-managed key) a KMS grant, and never touches the stream or
    the key's policy.

    A stream has one resource policy: `take_over_policy = true` says the one already on it (if
    any) may be replaced; `make preflight` refuses otherwise. The stream's account must be the
    producer account (the Terraform variables check it at plan time)."""

    stream_arn: str
    # The customer-managed key the stream is encrypted with; None for an unencrypted stream.
    key_arn: Optional[str] = None
    consumer_name: str = defaults.STREAM_CONSUMER_NAME
    take_over_policy: bool = False

    def __post_init__(self) -> None:
        stream = parse_arn(
            "existing_stream.stream_arn", self.stream_arn, STREAM_ARN_PATTERN,
            "a Kinesis stream ARN such as arn:aws:kinesis:eu-west-1:111111111111:stream/orders",
        )
        if self.key_arn is not None:
            key = parse_arn(
                "existing_stream.key_arn", self.key_arn, KEY_ARN_PATTERN,
                "a KMS key ARN such as arn:aws:kms:eu-west-1:111111111111:key/<key id>",
            )
            if key["resource"] == AWS_MANAGED_KINESIS_KEY:
                raise ConfigError(
                    "existing_stream.key_arn", self.key_arn,
                    "a customer-managed key: the AWS-managed aws/kinesis key's policy cannot be changed, so no "
                    "other account can ever decrypt the stream; re-encrypt it with a customer-managed key "
                    "(kinesis start-stream-encryption) and give that key's ARN",
                )
            if not key["resource"].startswith("key/"):
                raise ConfigError("existing_stream.key_arn", self.key_arn, "the key's own ARN (key/<key id>), not an alias (grants name the key)")
            for part in ("partition", "region", "account"):
                if key[part] != stream[part]:
                    raise ConfigError(
                        "existing_stream.key_arn", self.key_arn,
                        f"a key in the stream's {part} ({stream[part]}): Kinesis encrypts with a key of its own region and account",
                    )
        require_match("existing_stream.consumer_name", self.consumer_name, _KINESIS_NAME, "1-128 of a-z A-Z 0-9 _ . -")
        require_bool("existing_stream.take_over_policy", self.take_over_policy)

    @property
    def account_id(self) -> str:
        return self.stream_arn.split(":")[4]

    @property
    def region(self) -> str:
        return self.stream_arn.split(":")[3]

    @property
    def stream_name(self) -> str:
        return self.stream_arn.split(":stream/", 1)[1]


@dataclass(frozen=True, kw_only=True)
class ConsumerFunctionProps:
    """A function with its role, log group, key (and queues, for a stream consumer).

    Code: the built-in runtime of the function's place in the stack by default; or the user's
    `source_dir` (zipped, its requirements.txt vendored), `zip_file` or ECR `image_uri`, one of
    them, with `handler` (not for an image). Paths are as given (a settings file's are relative to
    that file). `subnet_ids` + `security_group_ids` place the function in a VPC.
    """

    function_name: str = defaults.FUNCTION_NAME
    runtime: str = defaults.FUNCTION_RUNTIME
    architecture: str = defaults.FUNCTION_ARCHITECTURE
    memory_size_mb: int = defaults.FUNCTION_MEMORY_MB
    timeout_seconds: int = defaults.FUNCTION_TIMEOUT_SECONDS
    reserved_concurrency: int = defaults.FUNCTION_RESERVED_CONCURRENCY
    log_level: str = defaults.FUNCTION_LOG_LEVEL
    log_retention_days: int = defaults.LOG_RETENTION_DAYS
    queue_message_retention_seconds: int = defaults.QUEUE_MESSAGE_RETENTION_SECONDS
    key_alias: str = defaults.FUNCTION_KEY_ALIAS
    key_deletion_window_days: int = defaults.KEY_DELETION_WINDOW_DAYS
    source_dir: Optional[str] = None
    zip_file: Optional[str] = None
    image_uri: Optional[str] = None
    # None: the built-in runtime's handler (required with source_dir or zip_file).
    handler: Optional[str] = None
    # Added to the variables the stack sets for its wiring (its runtime contract, lambda_src/xacct_contracts.py), never over them.
    environment: Mapping[str, str] = field(default_factory=dict)
    layers: tuple[str, ...] = ()
    # What of source_dir is packaged: everything but hidden files and directories (".env", ".git*",
    # ".venv"), caches and bytecode, and node_modules for a Python runtime; `package_exclude` leaves
    # out more, `package_include` puts hidden files back in (glob patterns on paths relative to source_dir).
    package_exclude: tuple[str, ...] = ()
    package_include: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    # Tags of this function's resources, over the stack's.
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_match("function.function_name", self.function_name, _FUNCTION_NAME, "1-53 of a-z A-Z 0-9 _ -")
        require_one_of("function.architecture", self.architecture, ARCHITECTURES)
        for name, pattern, text, most in (
            ("layers", _LAYER_ARN, "Lambda layer version ARNs (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)", 5),
            ("subnet_ids", _SUBNET_ID, "subnet ids such as 'subnet-0123456789abcdef0'", 16),
            ("security_group_ids", _SECURITY_GROUP_ID, "security group ids such as 'sg-0123456789abcdef0'", 5),
        ):
            # TOML gives lists; props stay hashable with tuples.
            object.__setattr__(self, name, require_list(f"function.{name}", getattr(self, name), pattern, f"at most {most} distinct {text}", most))
        for layer in self.layers:
            require_region("function.layers", layer, layer.split(":")[3], layer.split(":")[1])
        for name in ("package_exclude", "package_include"):
            object.__setattr__(self, name, require_list(
                f"function.{name}", getattr(self, name), r"[^\x00]{1,256}", "glob patterns on paths relative to source_dir, such as 'tests/**'", 50))
            if getattr(self, name) and self.source_dir is None:
                raise ConfigError(f"function.{name}", list(getattr(self, name)), "no value without source_dir (only a source directory is packaged here)")
        if bool(self.subnet_ids) != bool(self.security_group_ids):
            missing = "security_group_ids" if self.subnet_ids else "subnet_ids"
            raise ConfigError(f"function.{missing}", [], "at least one value when the other VPC setting is set (both or neither)")
        check_code("function", self)
        require_environment("function.environment", self.environment)
        require_tags("function.tags", self.tags)
        require_int("function.memory_size_mb", self.memory_size_mb, 128, 10240)
        require_int("function.timeout_seconds", self.timeout_seconds, 1, 900)
        # An account keeps at least 100 unreserved executions out of the default 1,000; -1 reserves none
        # (Terraform's own spelling), for accounts whose quota is too small to reserve any (new accounts
        # may have 10). 0 would stop the function altogether: not a setting for a consumer.
        require_int_or_minus_one("function.reserved_concurrency", self.reserved_concurrency, 1, 900, "unreserved: the account's shared pool")
        require_one_of("function.log_level", self.log_level, LOG_LEVELS)
        require_one_of("function.log_retention_days", self.log_retention_days, LOG_RETENTION_DAYS)
        require_int("function.queue_message_retention_seconds", self.queue_message_retention_seconds, 60, 1_209_600)
        require_match("function.key_alias", self.key_alias, _KMS_ALIAS, _KMS_ALIAS_TEXT)
        require_int("function.key_deletion_window_days", self.key_deletion_window_days, 7, 30)

    @property
    def in_vpc(self) -> bool:
        return bool(self.subnet_ids)

    @property
    def role_name(self) -> str:
        return f"{self.function_name}-role"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def dead_letter_queue_name(self) -> str:
        return f"{self.function_name}-dlq"

    @property
    def on_failure_queue_name(self) -> str:
        return f"{self.function_name}-on-failure"


@dataclass(frozen=True, kw_only=True)
class EventSourceMappingProps:
    """How Lambda reads the EFO consumer and what happens to batches that keep failing."""

    starting_position: str = defaults.STARTING_POSITION
    batch_size: int = defaults.BATCH_SIZE
    maximum_batching_window_seconds: int = defaults.MAXIMUM_BATCHING_WINDOW_SECONDS
    maximum_retry_attempts: int = defaults.MAXIMUM_RETRY_ATTEMPTS
    maximum_record_age_seconds: int = defaults.MAXIMUM_RECORD_AGE_SECONDS
    parallelization_factor: int = defaults.PARALLELIZATION_FACTOR
    enabled: bool = True
    # Lambda's event counts of the mapping (polled, filtered, invoked, failed, dropped, sent on failure):
    # CloudWatch metrics, billed as custom metrics. Off: no metrics_config.
    event_count_metrics: bool = True

    def __post_init__(self) -> None:
        require_one_of("mapping.starting_position", self.starting_position, STARTING_POSITIONS)
        require_int("mapping.batch_size", self.batch_size, 1, 10_000)
        require_int("mapping.maximum_batching_window_seconds", self.maximum_batching_window_seconds, 0, 300)
        # -1 (infinite) is what AWS allows too; it is excluded so a poison batch cannot block a shard.
        require_int("mapping.maximum_retry_attempts", self.maximum_retry_attempts, 0, 10_000)
        # -1: as long as the source holds the record (the default); AWS allows -1 or 60-604800.
        require_int_or_minus_one("mapping.maximum_record_age_seconds", self.maximum_record_age_seconds, 60, 604_800,
                                 "as long as the source holds the record")
        require_int("mapping.parallelization_factor", self.parallelization_factor, 1, 10)
        require_bool("mapping.enabled", self.enabled)
        require_bool("mapping.event_count_metrics", self.event_count_metrics)


def require_concurrency_for_shards(
    stream: SharedStreamProps, function: ConsumerFunctionProps, mapping: EventSourceMappingProps,
    function_table: str = "function", mapping_table: str = "mapping",
) -> None:
    """A mapping on a provisioned stream runs up to shards x parallelization factor invocations at once
    (Lambda's Kinesis docs: one batch per shard, up to the parallelization factor per shard). A function
    reserving fewer is throttled for good on some shards, whose records then only age."""
    reserved = function.reserved_concurrency
    if reserved == UNRESERVED or stream.stream_mode != "PROVISIONED" or stream.shard_count is None:
        return
    needed = stream.shard_count * mapping.parallelization_factor
    if reserved < needed:
        raise ConfigError(
            f"{function_table}.reserved_concurrency", reserved,
            f"at least {needed} (stream.shard_count {stream.shard_count} x {mapping_table}.parallelization_factor "
            f"{mapping.parallelization_factor}: the invocations the mapping runs at once) or -1 (unreserved)",
        )


# A new on-demand stream has 4 MB/s of write capacity (Kinesis Developer Guide, "Choose the data stream
# capacity mode") and a shard takes 1 MB/s ("Create and manage Kinesis data streams"): at least 4 shards,
# more as it scales, which no setting bounds.
ON_DEMAND_INITIAL_SHARDS = 4


def on_demand_concurrency_warnings(
    stack_name: str, stream: SharedStreamProps, function: ConsumerFunctionProps, mapping: EventSourceMappingProps,
    function_table: str = "function", mapping_table: str = "mapping",
) -> list[str]:
    """A reservation on an on-demand stream cannot be checked against its shards (they change):
    warn when it does not even cover the shards a new stream starts with."""
    reserved = function.reserved_concurrency
    if reserved == UNRESERVED or stream.stream_mode != "ON_DEMAND":
        return []
    needed = ON_DEMAND_INITIAL_SHARDS * mapping.parallelization_factor
    if reserved >= needed:
        return []
    return [
        f"{stack_name}: {function_table}.reserved_concurrency = {reserved} on an on-demand stream, which starts with at least "
        f"{ON_DEMAND_INITIAL_SHARDS} shards and adds more: the mapping runs up to shards x {mapping_table}.parallelization_factor "
        f"({mapping.parallelization_factor}) invocations at once, so some shards would wait; reserve at least {needed} or set -1 (unreserved)"
    ]


STREAM_VIEW_TYPES = ("NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY")


def require_distinct_aliases(taken: dict[str, str], candidates: tuple[tuple[str, str], ...]) -> None:
    """Keys of one stack live in two accounts, but one alias for two keys confuses every reader."""
    aliases = dict(taken)
    for name, alias in candidates:
        if alias in aliases.values():
            raise ConfigError(name, alias, "an alias not used by another key of this stack")
        aliases[name] = alias


def function_props(name: str, alias: str) -> ConsumerFunctionProps:
    """A kind's default function: its name and its key's alias (the rest the shared defaults)."""
    return ConsumerFunctionProps(function_name=name, key_alias=alias)


@dataclass(frozen=True, kw_only=True)
class SinkProps:
    """Where the consumer writes: a table in the consumer account, or one reached through a role."""

    table_name: str = defaults.SINK_TABLE_NAME
    # Set to write to a table in a third account by assuming this role (seed 001's pattern);
    # the stack then creates no table and grants sts:AssumeRole on exactly this ARN.
    role_arn: Optional[str] = None
    region: Optional[str] = None
    external_id: Optional[str] = None
    deletion_protection: bool = defaults.SINK_DELETION_PROTECTION

    def __post_init__(self) -> None:
        require_match("sink.table_name", self.table_name, r"[a-zA-Z0-9_.-]{3,255}", "3-255 of a-z A-Z 0-9 _ . -")
        if self.role_arn is not None:
            require_match("sink.role_arn", self.role_arn, ROLE_ARN_PATTERN, "an IAM role ARN such as arn:aws:iam::333333333333:role/sink-writer")
        if self.region is not None:
            require_region("sink.region", self.region)
        if self.external_id is not None:
            require_match("sink.external_id", self.external_id, r"[\w+=,.@:/-]{2,1224}", "2-1224 of letters, digits and +=,.@:/-")
            if self.role_arn is None:
                raise ConfigError("sink.external_id", self.external_id, "no value unless sink.role_arn is set")
        require_bool("sink.deletion_protection", self.deletion_protection)

    @property
    def creates_table(self) -> bool:
        return self.role_arn is None


# Where alarm notifications can go (SNS subscription protocols) and how each endpoint is written.
ALARM_ENDPOINTS = {
    "email": (EMAIL_ADDRESS, "an email address (SNS mails a confirmation link first)"),
    "https": (HTTPS_URL, "an https:// URL (SNS posts a confirmation request first)"),
    "sqs": (SQS_QUEUE_ARN, "an SQS queue ARN in the account the subscription names"),
    "lambda": (FUNCTION_ARN, "a Lambda function ARN in the account the subscription names"),
}
# A stack account's name: producer, consumer, or a fan-out account (consumers' `account`).
ACCOUNT_NAME = r"[a-z][a-z0-9_]{0,31}"


@dataclass(frozen=True, kw_only=True)
class AlarmSubscription:
    """Who hears an account's alarms: an SNS subscription of its alarm topic. `account` names the stack
    account whose topic it subscribes to; an email or https endpoint without one subscribes to every
    topic of the stack, a queue or function (which lives in one account) needs its account named."""

    protocol: str
    endpoint: str
    account: Optional[str] = None

    def __post_init__(self) -> None:
        require_one_of("alarms.subscriptions.protocol", self.protocol, tuple(ALARM_ENDPOINTS))
        pattern, text = ALARM_ENDPOINTS[self.protocol]
        require_match(f"alarms.subscriptions.endpoint ({self.protocol})", self.endpoint, pattern, text)
        if self.account is not None:
            require_match("alarms.subscriptions.account", self.account, ACCOUNT_NAME, "a stack account's name: producer, consumer or a fan-out account")
        elif self.protocol in ("sqs", "lambda"):
            raise ConfigError("alarms.subscriptions.account", None, f"the name of the stack account whose alarm topic the {self.protocol} endpoint subscribes to "
                                                                      "(the endpoint must be in that account)")

    @property
    def endpoint_account(self) -> Optional[str]:
        """The account id an ARN endpoint names (a queue's, a function's)."""
        return self.endpoint.split(":")[4] if self.protocol in ("sqs", "lambda") else None


@dataclass(frozen=True, kw_only=True)
class AlarmProps:
    """CloudWatch alarms on the consumer, each notifying an encrypted SNS topic of its account (one a
    stack and account, with its own key), its subscribers, and a dashboard."""

    # None: half the stream's retention (the time left to fix a reader before records expire).
    iterator_age_threshold_seconds: Optional[int] = None
    errors_threshold: int = defaults.ERRORS_ALARM_THRESHOLD
    throttles_threshold: int = defaults.THROTTLES_ALARM_THRESHOLD
    queue_messages_threshold: int = defaults.QUEUE_MESSAGES_ALARM_THRESHOLD
    read_throughput_exceeded_threshold: int = defaults.READ_THROUGHPUT_EXCEEDED_ALARM_THRESHOLD
    api_5xx_threshold: int = defaults.API_5XX_ALARM_THRESHOLD
    period_seconds: int = defaults.ALARM_PERIOD_SECONDS
    evaluation_periods: int = defaults.ALARM_EVALUATION_PERIODS
    # Off: the alarms notify nobody (their state shows only in the console).
    notification_topic: bool = True
    subscriptions: tuple[AlarmSubscription, ...] = ()
    # A stack account's name -> an SNS topic ARN in that account its alarms notify instead of one of the stack's.
    existing_topic_arns: Mapping[str, str] = field(default_factory=dict)
    dashboard: bool = True

    def __post_init__(self) -> None:
        if self.iterator_age_threshold_seconds is not None:
            require_int("alarms.iterator_age_threshold_seconds", self.iterator_age_threshold_seconds, 60, 31_536_000)
        require_int("alarms.errors_threshold", self.errors_threshold, 1, 100_000)
        require_int("alarms.throttles_threshold", self.throttles_threshold, 1, 100_000)
        require_int("alarms.queue_messages_threshold", self.queue_messages_threshold, 1, 1_000_000)
        require_int("alarms.read_throughput_exceeded_threshold", self.read_throughput_exceeded_threshold, 1, 1_000_000)
        require_int("alarms.api_5xx_threshold", self.api_5xx_threshold, 1, 1_000_000)
        require_one_of("alarms.period_seconds", self.period_seconds, ALARM_PERIODS)
        require_int("alarms.evaluation_periods", self.evaluation_periods, 1, 100)
        require_bool("alarms.notification_topic", self.notification_topic)
        require_bool("alarms.dashboard", self.dashboard)
        subscriptions_text = "a list of tables { protocol = \"email\" | \"https\" | \"sqs\" | \"lambda\", endpoint = ..., account = ... }"
        if not isinstance(self.subscriptions, (list, tuple)) or len(self.subscriptions) > 20:
            raise ConfigError("alarms.subscriptions", self.subscriptions, subscriptions_text + " (at most 20)")
        parsed = []
        for entry in self.subscriptions:
            if isinstance(entry, AlarmSubscription):
                parsed.append(entry)
                continue
            if not isinstance(entry, Mapping) or set(entry) - {"protocol", "endpoint", "account"} or not {"protocol", "endpoint"} <= set(entry):
                raise ConfigError("alarms.subscriptions", entry, subscriptions_text)
            parsed.append(AlarmSubscription(**entry))
        if len({(s.protocol, s.endpoint, s.account) for s in parsed}) != len(parsed):
            raise ConfigError("alarms.subscriptions", self.subscriptions, "distinct subscriptions (one is listed twice)")
        object.__setattr__(self, "subscriptions", tuple(parsed))
        topics_text = "a table of stack account names (producer, consumer or a fan-out account) to SNS topic ARNs in those accounts"
        if not isinstance(self.existing_topic_arns, Mapping):
            raise ConfigError("alarms.existing_topic_arns", self.existing_topic_arns, topics_text)
        for account, arn in self.existing_topic_arns.items():
            require_match("alarms.existing_topic_arns", account, ACCOUNT_NAME, topics_text)
            parse_arn(f"alarms.existing_topic_arns.{account}", arn, SNS_TOPIC_ARN_PATTERN, "an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)")
        if self.existing_topic_arns and not self.notification_topic:
            raise ConfigError("alarms.existing_topic_arns", dict(self.existing_topic_arns), "no value when alarms.notification_topic is false")
        if self.subscriptions and not self.notification_topic:
            raise ConfigError("alarms.subscriptions", self.subscriptions, "no value when alarms.notification_topic is false")

    def iterator_age_seconds(self, retention_hours: int) -> int:
        """The iterator-age threshold: the setting, or half the source's retention."""
        return self.iterator_age_threshold_seconds if self.iterator_age_threshold_seconds is not None else retention_hours * 3600 // 2


def require_iterator_age_within(alarms: AlarmProps, retention_hours: int, retention_field: str) -> None:
    """An iterator-age alarm at or past the source's retention fires only when records already expired."""
    threshold = alarms.iterator_age_threshold_seconds
    if threshold is not None and threshold >= retention_hours * 3600:
        raise ConfigError("alarms.iterator_age_threshold_seconds", threshold,
                          f"less than {retention_hours * 3600} ({retention_field} {retention_hours} h: records older than that are gone, "
                          "so the alarm would fire too late)")


@dataclass(frozen=True, kw_only=True)
class BackendProps:
    """Where Terraform keeps state. Local by default; S3 for teams: in a state account reached through
    its own role, encrypted with a customer-managed key, locked with a lock object, one state per stack
    and environment."""

    kind: str = defaults.BACKEND_KIND
    # local: a path relative to the directory that holds the output dir, i.e. the project root by
    # default (never absolute: the output must be portable).
    path: Optional[str] = None
    # s3:
    bucket: Optional[str] = None
    # Default `<environment>/<stack_name>/terraform.tfstate` (state_key): one state per stack and environment.
    key: Optional[str] = None
    region: Optional[str] = None
    role_arn: Optional[str] = None
    kms_key_id: Optional[str] = None
    environment: str = defaults.BACKEND_ENVIRONMENT

    def __post_init__(self) -> None:
        require_one_of("backend.kind", self.kind, BACKEND_KINDS)
        require_match("backend.environment", self.environment, r"[a-z0-9][a-z0-9-]{0,31}", "1-32 of a-z 0-9 -, such as 'prod'")
        s3_only = ("bucket", "key", "region", "role_arn", "kms_key_id")
        if self.kind == "local":
            if self.path is not None:
                require_match(
                    "backend.path", self.path, r"(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9_./-]{1,255}",
                    "a relative path inside the project without '..' (the output must not carry a machine path)",
                )
            for name in s3_only:
                if getattr(self, name) is not None:
                    raise ConfigError(f"backend.{name}", getattr(self, name), "no value when backend.kind is 'local'")
            return
        require_match("backend.bucket", self.bucket, r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "an S3 bucket name (3-63 of a-z 0-9 . -)")
        if self.key is not None:
            require_match("backend.key", self.key, r"[A-Za-z0-9!_.*'()/-]{1,1024}", "an S3 object key such as 'xacct/terraform.tfstate'")
        require_region("backend.region", self.region)
        require_match(
            "backend.role_arn", self.role_arn, ROLE_ARN_PATTERN,
            "the state account's role Terraform assumes for the state, such as arn:aws:iam::999999999999:role/terraform-state",
        )
        match = re.fullmatch(KEY_ARN_PATTERN, self.kms_key_id or "")
        if match is None or not match.group("resource").startswith("key/") or match.group("region") != self.region:
            raise ConfigError(
                "backend.kms_key_id", self.kms_key_id,
                f"the ARN of the customer-managed key that encrypts the state, in the bucket's region {self.region} "
                "(arn:aws:kms:<region>:<account>:key/<id>)",
            )
        if self.path is not None:
            raise ConfigError("backend.path", self.path, "no value when backend.kind is 's3'")

    def state_key(self, stack_name: str) -> str:
        """The S3 object key of `stack_name`'s state."""
        return self.key or f"{self.environment}/{stack_name}/terraform.tfstate"
