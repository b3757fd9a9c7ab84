"""Settings of the change forwarder, read once per container from the environment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional

from xacct_consumer.config import TABLE_NAME, ConfigurationError, EnvReader

DELIVERY_STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,64}")
SINKS = ("TABLE_NAME", "DELIVERY_STREAM_NAME")


@dataclass(frozen=True)
class ChangeSettings:
    """Exactly one sink: a change-log table (TABLE_NAME) or a Firehose stream (DELIVERY_STREAM_NAME)."""

    dead_letter_queue_url: str
    region: str
    table_name: Optional[str] = None
    delivery_stream_name: Optional[str] = None
    log_level: str = "INFO"
    metrics_namespace: str = "XacctStreaming"
    function_name: str = "local"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "ChangeSettings":
        read = EnvReader(env)
        common = read.common()
        table = read.optional("TABLE_NAME", TABLE_NAME, "a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)")
        stream = read.optional("DELIVERY_STREAM_NAME", DELIVERY_STREAM_NAME, "a Firehose stream name (1-64 of a-z A-Z 0-9 _ . -)")
        if (table is None) == (stream is None):
            raise ConfigurationError("TABLE_NAME", "exactly one of TABLE_NAME and DELIVERY_STREAM_NAME must be set")
        return cls(table_name=table, delivery_stream_name=stream, **common)
