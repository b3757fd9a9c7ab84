"""Lambda entry point `changes_handler.lambda_handler`, for a DynamoDB stream (any account).

Forwards each change, flattened to plain JSON, to a change-log table or a Firehose
stream (xacct_contracts.ChangeSettings: exactly one); see xacct_changes/. Settings are checked at cold start as in
handler.py: a bad variable is logged once, naming it, and every invocation then fails, so Lambda
keeps the records instead of acknowledging them.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from xacct_changes.config import ChangeSettings
from xacct_changes.runtime import ChangeRuntime
from xacct_contracts import load_at_cold_start

SETTINGS, CONFIGURATION_ERROR = load_at_cold_start(ChangeSettings.from_env, os.environ)

_runtime: Optional[ChangeRuntime] = None


def runtime() -> ChangeRuntime:
    global _runtime
    if _runtime is None:
        if CONFIGURATION_ERROR is not None or SETTINGS is None:
            raise RuntimeError(f"invalid configuration: {CONFIGURATION_ERROR}")
        _runtime = ChangeRuntime.from_settings(SETTINGS)
    return _runtime


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    return runtime().process(event, context)
