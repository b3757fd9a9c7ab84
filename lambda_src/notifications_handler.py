"""Lambda entry point `notifications_handler.lambda_handler`: SES notifications from SNS into a
Kinesis stream of another account (seed 004; see xacct_notifications/forwarder.py).

Settings are checked at cold start as in handler.py: a bad variable is logged once, naming it,
and every invocation then fails, so SNS/Lambda retry and nothing is dropped silently.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from xacct_contracts import load_at_cold_start
from xacct_notifications.forwarder import Forwarder, ForwarderSettings

SETTINGS, CONFIGURATION_ERROR = load_at_cold_start(ForwarderSettings.from_env, os.environ)

_forwarder: Optional[Forwarder] = None


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    global _forwarder
    if _forwarder is None:
        if SETTINGS is None:
            raise RuntimeError(f"invalid configuration: {CONFIGURATION_ERROR}")
        _forwarder = Forwarder.from_settings(SETTINGS)
    return _forwarder.process(event, context)
