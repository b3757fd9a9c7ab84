"""Lambda entry point `authorizer_handler.lambda_handler`: the API's basic-auth authorizer
(seed 002; see xacct_ingest/authorizer.py). A bad setting is logged once at cold start, naming
the variable, and every request is then refused (401), never let through."""

from __future__ import annotations

import os
from typing import Any, Optional

import boto3
from botocore.config import Config

from xacct_contracts import load_at_cold_start
from xacct_ingest.authorizer import Authorizer, AuthorizerSettings, Unauthorized

SETTINGS, CONFIGURATION_ERROR = load_at_cold_start(AuthorizerSettings.from_env, os.environ)

_authorizer: Optional[Authorizer] = None


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _authorizer
    if SETTINGS is None:
        raise Unauthorized()
    if _authorizer is None:
        client = boto3.client("secretsmanager", config=Config(connect_timeout=2, read_timeout=3, retries={"total_max_attempts": 2}))
        _authorizer = Authorizer(SETTINGS, client)
    return _authorizer.authorize(event)
