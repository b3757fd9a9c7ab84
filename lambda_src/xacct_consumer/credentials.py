"""A boto3 session on an assumed role whose credentials are cached and refreshed before expiry.

Seed 001 called sts:AssumeRole on every invocation. Here the role is assumed once per container;
botocore's RefreshableCredentials renews it only when it gets close to expiry (15 minutes).
"""

from __future__ import annotations

from typing import Any, Optional

import boto3
import botocore.session
from botocore.credentials import RefreshableCredentials

SESSION_SECONDS = 3600


def assumed_role_session(sts: Any, role_arn: str, session_name: str, region: str, external_id: Optional[str] = None) -> boto3.Session:
    def fetch() -> dict[str, str]:
        kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name[:64], "DurationSeconds": SESSION_SECONDS}
        if external_id:
            kwargs["ExternalId"] = external_id
        credentials = sts.assume_role(**kwargs)["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    core = botocore.session.get_session()
    core._credentials = RefreshableCredentials.create_from_metadata(  # noqa: SLF001 (botocore's documented pattern)
        metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
    )
    return boto3.Session(botocore_session=core, region_name=region)
