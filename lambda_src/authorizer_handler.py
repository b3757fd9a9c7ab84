"""Lambda entry point `authorizer_handler.lambda_handler`: the API's basic-auth authorizer
(seed 002; see xacct_ingest/authorizer.py). A bad setting is logged once at cold start, naming
the variable, and every request is then refused (401), never let through."""

from __future__ import annotations

import json
import os
from typing import Any, Optional

import boto3
from botocore.config import Config

from xacct_ingest.authorizer import Authorizer, Unauthorized, settings_or_error

SETTINGS, CONFIGURATION_ERROR = settings_or_error(os.environ)
if CONFIGURATION_ERROR is not None:
    print(json.dumps({"level": "ERROR", "message": "invalid configuration", "variable": CONFIGURATION_ERROR.variable, "error": str(CONFIGURATION_ERROR)}), flush=True)

_authorizer: Optional[Authorizer] = None


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _authorizer
    if SETTINGS is None:
        raise Unauthorized()
    if _authorizer is None:
        client = boto3.client("secretsmanager", config=Config(connect_timeout=2, read_timeout=3, retries={"total_max_attempts": 2}))
        _authorizer = Authorizer(SETTINGS, client)
    return _authorizer.authorize(event)
