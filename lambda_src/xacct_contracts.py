"""What each built-in Lambda runtime reads from its environment, and the AWS calls it makes: one frozen
class per runtime, the one place its environment variables are named.

- The stacks set a function's environment from it: `Settings.environment(table_name=..., ...)` gives
  the variables of the fields the stack sets (values may be Terraform references: nothing is checked);
- the runtime reads it at cold start: `Settings.from_env(os.environ)`, every value checked, each
  problem naming its variable (ConfigurationError);
- the IAM model (xacct_ops.iam) reads the calls it declares: `settings.calls()`, what the function's
  role (or a role it assumes) is expected to be allowed.

Standard library only: the runtimes' archives and the constructs both load this module.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Optional, TypeVar

TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
QUEUE_URL = re.compile(r"https?://[^/\s]+/\d{12}/[a-zA-Z0-9_-]{1,80}(\.fifo)?")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[a-zA-Z0-9+=,.@_/-]{1,512}")
REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d")
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
NAMESPACE = re.compile(r"[A-Za-z0-9_./#:-]{1,255}")
STREAM_ARN = re.compile(r"arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/[a-zA-Z0-9_.-]{1,128}")
DELIVERY_STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,64}")
SECRET_ID = re.compile(r"(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[a-zA-Z0-9/_+=.@-]{1,512}")
SECONDS = re.compile(r"\d{1,5}")
ANY = re.compile(r".+")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_LEVEL = re.compile("|".join(LOG_LEVELS))


class ConfigurationError(ValueError):
    """An environment variable is missing or malformed; `variable` names it."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        super().__init__(f"{variable}: {problem}")


def variable(name: str, pattern: re.Pattern[str], what: str, *, default: Any = dataclasses.MISSING, set_by_lambda: bool = False,
             convert: Callable[[str], Any] = str) -> Any:
    """A field read from the environment variable `name` (`what` says what it must be, `convert` turns
    the text into the field's value). `set_by_lambda`: Lambda sets it (AWS_REGION), the stack never does."""
    metadata = {"variable": name, "pattern": pattern, "what": what, "set_by_lambda": set_by_lambda, "convert": convert}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class RuntimeCall:
    """AWS calls a runtime makes: `actions` on `target` (a value of its settings) of `kind` table, role,
    stream, delivery_stream or secret; `what` it does, as a reviewer reads it; `as_role`: made with this
    assumed role's credentials instead of the function's own; `context`: request-context keys the caller
    itself sends (sts:ExternalId)."""

    actions: tuple[str, ...]
    target: str
    kind: str
    what: str
    as_role: Optional[str] = None
    context: Mapping[str, str] = field(default_factory=dict)


S = TypeVar("S", bound="RuntimeSettings")


@dataclass(frozen=True)
class RuntimeSettings:
    """The environment every runtime of this package reads (region and function name set by Lambda)."""

    region: str = variable("AWS_REGION", REGION, "an AWS region such as eu-west-1", default="", set_by_lambda=True)
    log_level: str = variable("LOG_LEVEL", LOG_LEVEL, "one of " + ", ".join(LOG_LEVELS), default="INFO")
    metrics_namespace: str = variable("METRICS_NAMESPACE", NAMESPACE, "a CloudWatch namespace", default="XacctStreaming")
    function_name: str = variable("AWS_LAMBDA_FUNCTION_NAME", ANY, "a function name", default="local", set_by_lambda=True)

    # The fields a function's environment must have (a missing one: ConfigurationError naming it).
    REQUIRED: ClassVar[tuple[str, ...]] = ("region",)

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Field name -> environment variable, for every field read from the environment."""
        return {f.name: f.metadata["variable"] for f in dataclasses.fields(cls) if "variable" in f.metadata}

    @classmethod
    def stack_variables(cls) -> dict[str, str]:
        """The variables a stack sets (not those Lambda sets), by field."""
        return {f.name: f.metadata["variable"] for f in dataclasses.fields(cls) if "variable" in f.metadata and not f.metadata["set_by_lambda"]}

    @classmethod
    def environment(cls, **values: Any) -> dict[str, str]:
        """The variables a stack sets for these fields (None left out, numbers as text); values are not
        checked (they may be Terraform references), `from_env` checks them in the function."""
        names, settable = cls.variables(), cls.stack_variables()
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise TypeError(f"{cls.__name__} has no field {', '.join(unknown)}")
        for name in values:
            if name not in settable:
                raise TypeError(f"{cls.__name__}.{name} is set by Lambda ({names[name]}), not by the stack")
        return {names[name]: str(value) if isinstance(value, int) else value for name, value in values.items() if value is not None}

    @classmethod
    def from_env(cls: type[S], env: Mapping[str, str], *, check: bool = True) -> S:
        """The settings from `env`, every value checked; a problem names its variable. `check=False`:
        as written, unchecked (the IAM model reads a synthesized function's environment, whose values
        may be stand-ins), a value that does not convert kept as text."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if "variable" not in f.metadata:
                continue
            raw = env.get(f.metadata["variable"], "")
            if not raw:
                if check and f.name in cls.REQUIRED:
                    raise ConfigurationError(f.metadata["variable"], f"is not set; expected {f.metadata['what']}")
                continue
            if check and not f.metadata["pattern"].fullmatch(raw):
                raise ConfigurationError(f.metadata["variable"], f"{raw!r} is not {f.metadata['what']}")
            try:
                values[f.name] = f.metadata["convert"](raw)
            except ValueError:
                values[f.name] = raw
        settings = cls(**values)
        if check:
            settings.check()
        return settings

    def name_of(self, field_name: str) -> str:
        return type(self).variables()[field_name]

    def check(self) -> None:
        """Rules between fields (the runtime's own): ConfigurationError naming the variable."""

    def calls(self) -> list[RuntimeCall]:
        """The AWS calls the runtime makes with these settings (the function's logs, queues and key are
        the stack's, not the runtime's)."""
        return []


@dataclass(frozen=True)
class QueuedRuntimeSettings(RuntimeSettings):
    """A runtime that parks what it cannot deliver in a dead-letter queue."""

    dead_letter_queue_url: str = variable("DEAD_LETTER_QUEUE_URL", QUEUE_URL, "an SQS queue URL", default="")

    REQUIRED: ClassVar[tuple[str, ...]] = ("region", "dead_letter_queue_url")


@dataclass(frozen=True)
class ConsumerSettings(QueuedRuntimeSettings):
    """The Kinesis consumer (handler.lambda_handler): writes each record into a table, its own account's
    or, through a role it assumes with an external id, another's."""

    table_name: str = variable("TABLE_NAME", TABLE_NAME, "a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)", default="")
    sink_region: str = variable("SINK_REGION", REGION, "an AWS region such as eu-west-1", default="")
    sink_role_arn: Optional[str] = variable("SINK_ROLE_ARN", ROLE_ARN, "an IAM role ARN", default=None)
    sink_external_id: Optional[str] = variable("SINK_EXTERNAL_ID", EXTERNAL_ID, "an STS external id (2-1224 characters)", default=None)

    REQUIRED: ClassVar[tuple[str, ...]] = ("region", "dead_letter_queue_url", "table_name")

    def __post_init__(self) -> None:
        if not self.sink_region:
            object.__setattr__(self, "sink_region", self.region)

    def check(self) -> None:
        if self.sink_external_id and not self.sink_role_arn:
            raise ConfigurationError(self.name_of("sink_external_id"),
                                     f"is set but {self.name_of('sink_role_arn')} is not; the external id is for assuming that role")

    def calls(self) -> list[RuntimeCall]:
        if not self.table_name:
            return []
        if not self.sink_role_arn:
            return [RuntimeCall(("dynamodb:BatchWriteItem",), self.table_name, "table", "writes its sink table")]
        return [
            RuntimeCall(("sts:AssumeRole",), self.sink_role_arn, "role", "assumes the sink role with the external id",
                        context={"sts:ExternalId": self.sink_external_id or ""}),
            RuntimeCall(("dynamodb:BatchWriteItem",), self.table_name, "table", "writes through the sink role", as_role=self.sink_role_arn),
        ]


@dataclass(frozen=True)
class ChangeSettings(QueuedRuntimeSettings):
    """The DynamoDB Streams forwarder (changes_handler.lambda_handler): each change into a change-log
    table or a Firehose stream, exactly one."""

    table_name: Optional[str] = variable("TABLE_NAME", TABLE_NAME, "a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)", default=None)
    delivery_stream_name: Optional[str] = variable("DELIVERY_STREAM_NAME", DELIVERY_STREAM_NAME, "a Firehose stream name (1-64 of a-z A-Z 0-9 _ . -)",
                                                   default=None)

    def check(self) -> None:
        if (self.table_name is None) == (self.delivery_stream_name is None):
            raise ConfigurationError(self.name_of("table_name"),
                                     f"exactly one of {self.name_of('table_name')} and {self.name_of('delivery_stream_name')} must be set")

    def calls(self) -> list[RuntimeCall]:
        if self.delivery_stream_name:
            return [RuntimeCall(("firehose:PutRecordBatch",), self.delivery_stream_name, "delivery_stream", "delivers changes to Firehose")]
        if self.table_name:
            return [RuntimeCall(("dynamodb:BatchWriteItem",), self.table_name, "table", "writes its sink table")]
        return []


@dataclass(frozen=True)
class ForwarderSettings(QueuedRuntimeSettings):
    """The SES notification forwarder (notifications_handler.lambda_handler): puts each notification into
    a stream of another account, through a role it assumes there."""

    stream_arn: str = variable("STREAM_ARN", STREAM_ARN, "a Kinesis stream ARN", default="")
    stream_role_arn: str = variable("STREAM_ROLE_ARN", ROLE_ARN, "an IAM role ARN", default="")

    REQUIRED: ClassVar[tuple[str, ...]] = ("region", "dead_letter_queue_url", "stream_arn", "stream_role_arn")

    def check(self) -> None:
        if self.stream_arn.split(":")[3] != self.region:
            raise ConfigurationError(self.name_of("stream_arn"), f"{self.stream_arn!r} is not in {self.name_of('region')} {self.region}")

    def calls(self) -> list[RuntimeCall]:
        if not (self.stream_arn and self.stream_role_arn):
            return []
        return [
            RuntimeCall(("sts:AssumeRole",), self.stream_role_arn, "role", "assumes the stream writer role"),
            RuntimeCall(("kinesis:PutRecord", "kinesis:PutRecords"), self.stream_arn, "stream", "puts records through the writer role",
                        as_role=self.stream_role_arn),
        ]


DEFAULT_CACHE_SECONDS = 60
DEFAULT_REFRESH_SECONDS = 5
DEFAULT_PREVIOUS_GRACE_SECONDS = 300


@dataclass(frozen=True)
class AuthorizerSettings(RuntimeSettings):
    """The API's basic-auth authorizer (authorizer_handler.lambda_handler): reads the secret holding the
    credentials (xacct_ingest/authorizer.py says how it caches it and rides a rotation)."""

    secret_id: str = variable("SECRET_ID", SECRET_ID, "a Secrets Manager secret name or ARN", default="")
    cache_seconds: int = variable("SECRET_CACHE_SECONDS", SECONDS, "a number of seconds (0-99999)", default=DEFAULT_CACHE_SECONDS,
                                  convert=int)
    refresh_seconds: int = variable("SECRET_REFRESH_SECONDS", SECONDS, "a number of seconds (0-99999)", default=DEFAULT_REFRESH_SECONDS,
                                    convert=int)
    previous_grace_seconds: int = variable("PREVIOUS_PASSWORD_GRACE_SECONDS", SECONDS, "a number of seconds (0-99999)",
                                           default=DEFAULT_PREVIOUS_GRACE_SECONDS, convert=int)

    REQUIRED: ClassVar[tuple[str, ...]] = ("secret_id",)

    def calls(self) -> list[RuntimeCall]:
        return [RuntimeCall(("secretsmanager:GetSecretValue",), self.secret_id, "secret", "reads the basic-auth secret")] if self.secret_id else []


# Each built-in runtime's handler -> the settings it reads. A function running your own code gets the
# Kinesis consumer's environment (the sink table the stack wires for it), and so its settings.
HANDLERS: dict[str, type[RuntimeSettings]] = {
    "handler.lambda_handler": ConsumerSettings,
    "changes_handler.lambda_handler": ChangeSettings,
    "notifications_handler.lambda_handler": ForwarderSettings,
    "authorizer_handler.lambda_handler": AuthorizerSettings,
}


def settings_for(handler: str) -> type[RuntimeSettings]:
    return HANDLERS.get(handler, ConsumerSettings)


T = TypeVar("T")


def load_at_cold_start(from_env: Callable[[Mapping[str, str]], T], env: Mapping[str, str]) -> tuple[Optional[T], Optional[ConfigurationError]]:
    """Every handler's cold start: settings from the environment, or the error logged once (one
    JSON line naming the variable) and returned, so each invocation can refuse to run."""
    try:
        settings = from_env(env)
    except ConfigurationError as error:
        print(json.dumps({"level": "ERROR", "message": "invalid configuration", "variable": error.variable, "error": str(error)}), flush=True)
        return None, error
    level: Any = getattr(settings, "log_level", "INFO")
    logging.getLogger().setLevel(level)
    return settings, None
