"""Lambda entry point: `handler.lambda_handler`, for a Kinesis stream shared from another account.

Settings come from the environment (see xacct_consumer/config.py) and are checked at cold
start: a missing or malformed variable is logged once, naming it, and every invocation then
fails, so Lambda keeps the records instead of acknowledging them. AWS clients are created on
the first invocation and reused by every later one in the same container.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from xacct_consumer.config import Settings, load_at_cold_start
from xacct_consumer.runtime import Runtime

SETTINGS, CONFIGURATION_ERROR = load_at_cold_start(Settings.from_env, os.environ)

_runtime: Optional[Runtime] = None


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        if CONFIGURATION_ERROR is not None or SETTINGS is None:
            raise RuntimeError(f"invalid configuration: {CONFIGURATION_ERROR}")
        _runtime = Runtime.from_settings(SETTINGS)
    return _runtime


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    return runtime().process(event, context)
