"""Props of the ingest API kind (xacct-api-ingest, seed 002): the API and the stack.

Frozen, keyword-only, validated on creation, no cdktf import; the consumer-side pieces (function,
mapping, sink table, alarms, backend) are the shared props of `props.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from xacct_streaming.settings import defaults
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.naming import check_stack
from xacct_streaming.settings.patterns import KMS_ALIAS as _KMS_ALIAS, KMS_ALIAS_TEXT as _KMS_ALIAS_TEXT
from xacct_streaming.settings.props import (
    LOG_RETENTION_DAYS,
    AlarmProps,
    BackendProps,
    ConsumerFunctionProps,
    EventSourceMappingProps,
    SharedStreamProps,
    UNRESERVED,
    SinkProps,
    on_demand_concurrency_warnings,
    require_concurrency_for_shards,
    require_distinct_aliases,
    require_iterator_age_within,
    function_props,
)

from xacct_streaming.settings.validation import require_bool, require_int, require_match, require_one_of


@dataclass(frozen=True, kw_only=True)
class IngestApiProps:
    """The REST API in front of the stream: route, basic-auth secret, throttling, logs (seed 002)."""

    api_name: str = defaults.API_NAME
    stage_name: str = defaults.API_STAGE_NAME
    route: str = defaults.API_ROUTE
    username: str = defaults.API_USERNAME
    secret_name: str = defaults.API_SECRET_NAME
    password_length: int = defaults.API_PASSWORD_LENGTH
    # Terraform writes a fresh password when this changes (and only then): rotate by raising it.
    password_version: int = 1
    # After a rotation the authorizer still lets the previous password in for this long (callers switch
    # over); 0: refused as soon as an authorizer holds the new secret (within its 60 s cache).
    previous_password_grace_seconds: int = defaults.API_PREVIOUS_PASSWORD_GRACE_SECONDS
    throttling_rate_limit: int = defaults.API_THROTTLE_RATE
    throttling_burst_limit: int = defaults.API_THROTTLE_BURST
    access_log_retention_days: int = defaults.LOG_RETENTION_DAYS
    key_alias: str = defaults.API_KEY_ALIAS
    key_deletion_window_days: int = defaults.KEY_DELETION_WINDOW_DAYS
    # API Gateway writes access logs through one CloudWatch role per account and region
    # (aws_api_gateway_account): managing it here would take logging from every other API there.
    # Off: the account must have it set (make preflight checks); on: this stack manages it.
    manage_account_logging_role: bool = False

    def __post_init__(self) -> None:
        require_match("api.api_name", self.api_name, r"[a-zA-Z0-9_-]{1,64}", "1-64 of a-z A-Z 0-9 _ -")
        require_match("api.stage_name", self.stage_name, r"[a-zA-Z0-9_]{1,128}", "1-128 of a-z A-Z 0-9 _")
        require_match("api.route", self.route, r"[a-z0-9-]{1,64}", "one path segment: 1-64 of a-z 0-9 -")
        require_match("api.username", self.username, r"[a-zA-Z0-9._-]{3,64}", "3-64 of a-z A-Z 0-9 . _ - (no ':', which ends the user in a Basic header)")
        require_match("api.secret_name", self.secret_name, r"[a-zA-Z0-9/_+=.@-]{1,512}", "a Secrets Manager name (1-512 of a-z A-Z 0-9 / _ + = . @ -)")
        require_int("api.password_length", self.password_length, 24, 128)
        require_int("api.password_version", self.password_version, 1, 2**31 - 1)
        require_int("api.previous_password_grace_seconds", self.previous_password_grace_seconds, 0, 86_400)
        require_int("api.throttling_rate_limit", self.throttling_rate_limit, 1, 10_000)
        require_int("api.throttling_burst_limit", self.throttling_burst_limit, 1, 5_000)
        require_one_of("api.access_log_retention_days", self.access_log_retention_days, LOG_RETENTION_DAYS)
        require_match("api.key_alias", self.key_alias, _KMS_ALIAS, _KMS_ALIAS_TEXT)
        require_int("api.key_deletion_window_days", self.key_deletion_window_days, 7, 30)
        require_bool("api.manage_account_logging_role", self.manage_account_logging_role)

def _authorizer() -> ConsumerFunctionProps:
    return ConsumerFunctionProps(
        function_name=defaults.API_AUTHORIZER_FUNCTION_NAME,
        key_alias=defaults.API_AUTHORIZER_KEY_ALIAS,
        memory_size_mb=defaults.AUTHORIZER_MEMORY_MB,
        timeout_seconds=defaults.AUTHORIZER_TIMEOUT_SECONDS,
        # Every request waits for it: a reservation below the stage's burst turns requests into errors
        # (authorizer_concurrency_warnings); unreserved, the API's own throttling bounds it.
        reserved_concurrency=UNRESERVED,
    )


def authorizer_concurrency_warnings(stack_name: str, api: IngestApiProps, authorizer: ConsumerFunctionProps) -> list[str]:
    """API Gateway calls the authorizer for every request (no result cache here) and retries no
    invocation Lambda refuses (Lambda Developer Guide, "Handling errors with an API Gateway API"): a
    reservation below what the stage lets through at once (its burst, or its rate) fails requests."""
    reserved = authorizer.reserved_concurrency
    needed = max(api.throttling_burst_limit, api.throttling_rate_limit)
    if reserved == UNRESERVED or reserved >= needed:
        return []
    return [f"{stack_name}: authorizer.reserved_concurrency = {reserved} is below api.throttling_burst_limit = {api.throttling_burst_limit} "
            f"(api.throttling_rate_limit = {api.throttling_rate_limit}): a burst the stage lets through would find the authorizer throttled "
            f"and get errors; reserve at least {needed}, set -1 (unreserved), or lower the API's limits"]

@dataclass(frozen=True, kw_only=True)
class ApiIngestStackProps:
    """Seed 002: stream (shared both ways) in the producer account; API, authorizer, consumer, table in the consumer's."""

    stack_name: str = defaults.API_STACK_NAME
    stream: SharedStreamProps = field(
        default_factory=lambda: SharedStreamProps(
            stream_name=defaults.API_STREAM_NAME, key_alias=defaults.API_STREAM_KEY_ALIAS, consumer_name=defaults.API_STREAM_CONSUMER_NAME
        )
    )
    api: IngestApiProps = field(default_factory=IngestApiProps)
    authorizer: ConsumerFunctionProps = field(default_factory=_authorizer)
    function: ConsumerFunctionProps = field(
        default_factory=lambda: function_props(defaults.API_CONSUMER_FUNCTION_NAME, defaults.API_CONSUMER_KEY_ALIAS)
    )
    mapping: EventSourceMappingProps = field(default_factory=EventSourceMappingProps)
    sink: SinkProps = field(default_factory=lambda: SinkProps(table_name=defaults.API_SINK_TABLE_NAME))
    alarms: AlarmProps = field(default_factory=AlarmProps)
    backend: BackendProps = field(default_factory=BackendProps)
    # Tags of every resource of this stack, over the `tags` variable's (provider default_tags).
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_stack(self)
        require_iterator_age_within(self.alarms, self.stream.retention_period_hours, "stream.retention_period_hours")
        require_concurrency_for_shards(self.stream, self.function, self.mapping)
        if self.authorizer.function_name == self.function.function_name:
            raise ConfigError("authorizer.function_name", self.authorizer.function_name, "a name different from function.function_name")
        require_distinct_aliases(
            {"function.key_alias": self.function.key_alias},
            (("authorizer.key_alias", self.authorizer.key_alias), ("api.key_alias", self.api.key_alias)),
        )
        if not self.sink.creates_table:
            raise ConfigError("sink.role_arn", self.sink.role_arn, "no value: this stack keeps its table in the consumer account")

    @property
    def warnings(self) -> list[str]:
        return (on_demand_concurrency_warnings(self.stack_name, self.stream, self.function, self.mapping)
                + authorizer_concurrency_warnings(self.stack_name, self.api, self.authorizer))
