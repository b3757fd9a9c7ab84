"""Basic-auth Lambda authorizer (REQUEST type) with the credentials held in Secrets Manager.

The secret is a JSON object {"username": ..., "password": ...}, read once and kept for
`SECRET_CACHE_SECONDS` (rotation shows up within that time). Both the user name and the password
are compared in constant time (`hmac.compare_digest`), and both always, so the time taken does
not tell which one was wrong. Nothing from the Authorization header or the secret is ever
logged: the log line says allowed or denied, and why in general terms.

Answers, as API Gateway expects: an IAM policy allowing `execute-api:Invoke` on exactly the
called method for good credentials; a Deny policy (403) for wrong ones; `Unauthorized` (401)
when there is no usable Basic header.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from xacct_consumer.config import EnvReader

# A secret's name or ARN (GetSecretValue takes either).
SECRET_ID = re.compile(r"(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[a-zA-Z0-9/_+=.@-]{1,512}")
CACHE_SECONDS = re.compile(r"\d{1,4}")
DEFAULT_CACHE_SECONDS = 300


class Unauthorized(Exception):
    """Raised with exactly this message, API Gateway answers 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@dataclass(frozen=True)
class AuthorizerSettings:
    secret_id: str
    cache_seconds: int = DEFAULT_CACHE_SECONDS
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "AuthorizerSettings":
        read = EnvReader(env)
        cache = read.optional("SECRET_CACHE_SECONDS", CACHE_SECONDS, "a number of seconds (0-9999)")
        log_level = env.get("LOG_LEVEL", "INFO") or "INFO"
        return cls(
            secret_id=read.required("SECRET_ID", SECRET_ID, "a Secrets Manager secret name or ARN"),
            cache_seconds=int(cache) if cache is not None else DEFAULT_CACHE_SECONDS,
            log_level=log_level,
        )


def policy(principal: str, effect: str, method_arn: str) -> dict[str, Any]:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}],
        },
    }


def basic_credentials(headers: Mapping[str, Any] | None) -> Optional[tuple[bytes, bytes]]:
    """(user, password) from an `Authorization: Basic ...` header (any case), or None."""
    value = next((v for k, v in (headers or {}).items() if isinstance(k, str) and k.lower() == "authorization"), None)
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    return (user, password) if colon else None


@dataclass
class Authorizer:
    settings: AuthorizerSettings
    secrets: Any  # a Secrets Manager client
    monotonic: Callable[[], float] = time.monotonic
    _cached: Optional[tuple[bytes, bytes]] = field(default=None, repr=False)
    _fetched_at: float = field(default=float("-inf"), repr=False)

    def _expected(self) -> tuple[bytes, bytes]:
        now = self.monotonic()
        if self._cached is None or now - self._fetched_at >= self.settings.cache_seconds:
            secret = json.loads(self.secrets.get_secret_value(SecretId=self.settings.secret_id)["SecretString"])
            self._cached = (secret["username"].encode("utf-8"), secret["password"].encode("utf-8"))
            self._fetched_at = now
        return self._cached

    def authorize(self, event: Mapping[str, Any]) -> dict[str, Any]:
        method_arn = event["methodArn"]
        given = basic_credentials(event.get("headers"))
        if given is None:
            log("denied", "no basic credentials", event)
            raise Unauthorized()
        user, password = self._expected()
        # Both comparisons always run: the time taken must not tell which one failed.
        user_ok = hmac.compare_digest(given[0], user)
        password_ok = hmac.compare_digest(given[1], password)
        if user_ok & password_ok:
            log("allowed", "credentials match", event)
            return policy(user.decode("utf-8"), "Allow", method_arn)
        log("denied", "credentials do not match", event)
        return policy("anonymous", "Deny", method_arn)


def log(decision: str, reason: str, event: Mapping[str, Any]) -> None:
    context = event.get("requestContext") or {}
    print(json.dumps({"level": "INFO", "message": f"request {decision}", "reason": reason,
                      "request_id": context.get("requestId"), "source_ip": (context.get("identity") or {}).get("sourceIp")}), flush=True)

