"""Basic-auth Lambda authorizer (REQUEST type) with the credentials held in Secrets Manager.

The secret is a JSON object {"username": ..., "password": ...}, read once and kept for
`cache_seconds` (settings: xacct_contracts.AuthorizerSettings). A rotation (a new version: AWSCURRENT moves to it, the old one becomes
AWSPREVIOUS) must not lock callers out while a warm authorizer still holds the old version:
- credentials that do not match a cached secret older than `refresh_seconds` make it read the
  secret again at once (so at most one extra read per that many seconds, whatever a caller sends);
- for `previous_grace_seconds` after the current version was created, the AWSPREVIOUS
  password is still let in (callers switch over), then refused (0: never).
So a rotated-out password is refused at most max(grace, cache) after the rotation (defaults 300 s
and 60 s), and at once after the grace window on an authorizer that has seen the new one.
Both the user name and the password are compared in constant time (`hmac.compare_digest`), and both
always, so the time taken does not tell which one was wrong. Nothing from the Authorization header or
the secret is ever logged: the log line says allowed or denied, and why in general terms.

Answers, as API Gateway expects: an IAM policy allowing `execute-api:Invoke` on exactly the
called method for good credentials; a Deny policy (403) for wrong ones; `Unauthorized` (401)
when there is no usable Basic header.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from xacct_contracts import AuthorizerSettings


class Unauthorized(Exception):
    """Raised with exactly this message, API Gateway answers 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@dataclass(frozen=True)
class Credentials:
    user: bytes
    password: bytes
    version_id: str
    created: float  # when this version was created (epoch seconds): the rotation's time for AWSCURRENT

    @classmethod
    def of(cls, answer: Mapping[str, Any]) -> "Credentials":
        secret = json.loads(answer["SecretString"])
        created = answer.get("CreatedDate")
        return cls(secret["username"].encode("utf-8"), secret["password"].encode("utf-8"), str(answer.get("VersionId", "")),
                   created.timestamp() if hasattr(created, "timestamp") else float("-inf"))

    def matches(self, given: tuple[bytes, bytes]) -> bool:
        # Both comparisons always run: the time taken must not tell which one failed.
        user_ok = hmac.compare_digest(given[0], self.user)
        password_ok = hmac.compare_digest(given[1], self.password)
        return bool(user_ok & password_ok)


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
    monotonic: Callable[[], float] = time.monotonic  # the cache's clock
    clock: Callable[[], float] = time.time  # wall time, to compare with a version's creation
    _current: Optional[Credentials] = field(default=None, repr=False)
    _fetched_at: float = field(default=float("-inf"), repr=False)
    _previous: Optional[tuple[str, Optional[Credentials]]] = field(default=None, repr=False)  # (of which current version, AWSPREVIOUS)

    def _read_current(self, force: bool = False) -> Credentials:
        now = self.monotonic()
        if force or self._current is None or now - self._fetched_at >= self.settings.cache_seconds:
            self._current = Credentials.of(self.secrets.get_secret_value(SecretId=self.settings.secret_id))
            self._fetched_at = now
        return self._current

    def _read_previous(self, current: Credentials) -> Optional[Credentials]:
        """AWSPREVIOUS, read once for each current version (none before a first rotation)."""
        if self._previous is None or self._previous[0] != current.version_id:
            try:
                previous: Optional[Credentials] = Credentials.of(self.secrets.get_secret_value(SecretId=self.settings.secret_id, VersionStage="AWSPREVIOUS"))
            except Exception as error:  # noqa: BLE001 - only "no such version" means none; anything else is raised
                if getattr(error, "response", {}).get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
                previous = None
            self._previous = (current.version_id, previous)
        return self._previous[1]

    def authorize(self, event: Mapping[str, Any]) -> dict[str, Any]:
        method_arn = event["methodArn"]
        given = basic_credentials(event.get("headers"))
        if given is None:
            log("denied", "no basic credentials", event)
            raise Unauthorized()
        current = self._read_current()
        if current.matches(given):
            log("allowed", "credentials match", event)
            return policy(current.user.decode("utf-8"), "Allow", method_arn)
        # A rotation since the secret was cached: read it again, at most once every refresh_seconds.
        if self.monotonic() - self._fetched_at >= self.settings.refresh_seconds:
            current = self._read_current(force=True)
            if current.matches(given):
                log("allowed", "credentials match the secret read again", event)
                return policy(current.user.decode("utf-8"), "Allow", method_arn)
        if self.clock() - current.created < self.settings.previous_grace_seconds:
            previous = self._read_previous(current)
            if previous is not None and previous.matches(given):
                log("allowed", "credentials match the previous password, within the grace window after a rotation", event)
                return policy(previous.user.decode("utf-8"), "Allow", method_arn)
        log("denied", "credentials do not match", event)
        return policy("anonymous", "Deny", method_arn)


def log(decision: str, reason: str, event: Mapping[str, Any]) -> None:
    context = event.get("requestContext") or {}
    print(json.dumps({"level": "INFO", "message": f"request {decision}", "reason": reason,
                      "request_id": context.get("requestId"), "source_ip": (context.get("identity") or {}).get("sourceIp")}), flush=True)

