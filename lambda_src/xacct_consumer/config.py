"""Runtime settings, read once per container from the environment the stack sets."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, TypeVar

TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
QUEUE_URL = re.compile(r"https?://[^/\s]+/\d{12}/[a-zA-Z0-9_-]{1,80}(\.fifo)?")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[a-zA-Z0-9+=,.@_/-]{1,512}")
REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d")
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
NAMESPACE = re.compile(r"[A-Za-z0-9_./#:-]{1,255}")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigurationError(ValueError):
    """An environment variable is missing or malformed; `variable` names it."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        super().__init__(f"{variable}: {problem}")


@dataclass(frozen=True)
class Settings:
    table_name: str
    dead_letter_queue_url: str
    region: str
    sink_region: str
    sink_role_arn: Optional[str] = None
    sink_external_id: Optional[str] = None
    log_level: str = "INFO"
    metrics_namespace: str = "XacctStreaming"
    function_name: str = "local"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        read = EnvReader(env)
        common = read.common()
        external_id = read.optional("SINK_EXTERNAL_ID", EXTERNAL_ID, "an STS external id (2-1224 characters)")
        role = read.optional("SINK_ROLE_ARN", ROLE_ARN, "an IAM role ARN")
        if external_id and not role:
            raise ConfigurationError("SINK_EXTERNAL_ID", "is set but SINK_ROLE_ARN is not; the external id is for assuming that role")
        return cls(
            table_name=read.required("TABLE_NAME", TABLE_NAME, "a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)"),
            sink_region=read.optional("SINK_REGION", REGION, "an AWS region such as eu-west-1") or common["region"],
            sink_role_arn=role,
            sink_external_id=external_id,
            **common,
        )


@dataclass(frozen=True)
class EnvReader:
    """Reads and checks environment variables; every problem names the variable."""

    env: Mapping[str, str]

    def required(self, name: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.env.get(name, "")
        if not value:
            raise ConfigurationError(name, f"is not set; expected {what}")
        if not pattern.fullmatch(value):
            raise ConfigurationError(name, f"{value!r} is not {what}")
        return value

    def optional(self, name: str, pattern: re.Pattern[str], what: str) -> Optional[str]:
        value = self.env.get(name, "")
        if not value:
            return None
        if not pattern.fullmatch(value):
            raise ConfigurationError(name, f"{value!r} is not {what}")
        return value

    def common(self) -> dict[str, str]:
        """What every handler of this package reads: region, dead-letter queue, logging, metrics."""
        log_level = self.env.get("LOG_LEVEL", "INFO") or "INFO"
        if log_level not in LOG_LEVELS:
            raise ConfigurationError("LOG_LEVEL", f"{log_level!r} is not one of {', '.join(LOG_LEVELS)}")
        return {
            "region": self.required("AWS_REGION", REGION, "an AWS region such as eu-west-1"),
            "dead_letter_queue_url": self.required("DEAD_LETTER_QUEUE_URL", QUEUE_URL, "an SQS queue URL"),
            "log_level": log_level,
            "metrics_namespace": self.optional("METRICS_NAMESPACE", NAMESPACE, "a CloudWatch namespace") or "XacctStreaming",
            "function_name": self.env.get("AWS_LAMBDA_FUNCTION_NAME", "local") or "local",
        }


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
