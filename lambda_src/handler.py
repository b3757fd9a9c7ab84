"""Lambda entry point: `handler.lambda_handler`, for a Kinesis stream shared from another account.

Settings come from the environment (see xacct_consumer/config.py) and are checked at cold
start: a missing or malformed variable is logged once, naming it, and every invocation then
fails, so Lambda keeps the records instead of acknowledging them. AWS clients are created on
the first invocation and reused by every later one in the same container.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Optional

from xacct_consumer.config import ConfigurationError, Settings
from xacct_consumer.runtime import Runtime

logger = logging.getLogger()

try:
    SETTINGS: Optional[Settings] = Settings.from_env(os.environ)
    CONFIGURATION_ERROR: Optional[ConfigurationError] = None
    logger.setLevel(SETTINGS.log_level)
except ConfigurationError as error:
    SETTINGS, CONFIGURATION_ERROR = None, error
    print(json.dumps({"level": "ERROR", "message": "invalid configuration", "variable": error.variable, "error": str(error)}), flush=True)

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
