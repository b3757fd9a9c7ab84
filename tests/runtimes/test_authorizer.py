"""The basic-auth Lambda authorizer against moto's Secrets Manager."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any, Iterator

import boto3
import pytest

from conftest import TESTS
from moto import mock_aws

from xacct_consumer.config import ConfigurationError
from xacct_ingest.authorizer import Authorizer, AuthorizerSettings, Unauthorized, basic_credentials

REGION = "eu-west-1"
SAMPLE = json.loads((TESTS / "events" / "apigw_authorizer_request.json").read_text())
METHOD_ARN = SAMPLE["methodArn"]
USER, PASSWORD = "ingest", "correct-horse-battery-staple"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingSecrets:
    def __init__(self, real: Any) -> None:
        self.real, self.calls, self.stages = real, 0, []

    def get_secret_value(self, SecretId: str, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        self.stages.append(kwargs.get("VersionStage", "AWSCURRENT"))
        return self.real.get_secret_value(SecretId=SecretId, **kwargs)


@pytest.fixture
def secrets(aws_env: None) -> Iterator[tuple[CountingSecrets, str]]:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        arn = client.create_secret(Name="xacct-api/basic-auth", SecretString=json.dumps({"username": USER, "password": PASSWORD}))["ARN"]
        yield CountingSecrets(client), arn


def request(header: str | None, header_name: str = "Authorization") -> dict[str, Any]:
    event = copy.deepcopy(SAMPLE)
    event["headers"] = {"Content-Type": "application/json"} | ({header_name: header} if header is not None else {})
    return event


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_sample_request_with_the_right_credentials_is_allowed_on_exactly_that_method(secrets: tuple[CountingSecrets, str], capsys: pytest.CaptureFixture[str]) -> None:
    client, arn = secrets
    # WHEN the sample request (its header holds ingest:correct-horse-battery-staple)
    answer = Authorizer(AuthorizerSettings(secret_id=arn), client).authorize(SAMPLE)
    # THEN
    assert answer == {
        "principalId": "ingest",
        "policyDocument": {"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}]},
    }
    # AND the log line holds the decision, never the credentials
    out = capsys.readouterr().out
    assert json.loads(out) == {"level": "INFO", "message": "request allowed", "reason": "credentials match", "request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "source_ip": "203.0.113.7"}
    assert PASSWORD not in out and "aW5nZXN0" not in out


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(basic(USER, "wrong"), id="wrong-password"),
        pytest.param(basic("admin", PASSWORD), id="wrong-user"),
        pytest.param(basic(USER, PASSWORD + "x"), id="password-with-suffix"),
        pytest.param(basic(USER, PASSWORD[:-1]), id="password-prefix"),
        pytest.param(basic("", ""), id="empty-credentials"),
    ],
)
def test_wrong_credentials_are_denied(secrets: tuple[CountingSecrets, str], header: str, capsys: pytest.CaptureFixture[str]) -> None:
    client, arn = secrets
    answer = Authorizer(AuthorizerSettings(secret_id=arn), client).authorize(request(header))
    assert answer["principalId"] == "anonymous"
    assert answer["policyDocument"]["Statement"] == [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": METHOD_ARN}]
    assert PASSWORD not in capsys.readouterr().out


@pytest.mark.parametrize(
    "header, name",
    [
        pytest.param(None, "Authorization", id="no-header"),
        pytest.param("Bearer abc", "Authorization", id="other-scheme"),
        pytest.param("Basic !!!not-base64", "Authorization", id="not-base64"),
        pytest.param("Basic " + base64.b64encode(b"no-colon").decode(), "Authorization", id="no-colon"),
        pytest.param("Basic", "Authorization", id="no-token"),
    ],
)
def test_missing_or_malformed_header_is_unauthorized(secrets: tuple[CountingSecrets, str], header: str | None, name: str) -> None:
    client, arn = secrets
    with pytest.raises(Unauthorized, match="^Unauthorized$"):
        Authorizer(AuthorizerSettings(secret_id=arn), client).authorize(request(header, name))


def test_header_name_is_case_insensitive_and_password_may_hold_colons() -> None:
    assert basic_credentials({"authorization": basic("u", "p:a:ss")}) == (b"u", b"p:a:ss")


def test_the_secret_is_read_once_per_cache_period(secrets: tuple[CountingSecrets, str]) -> None:
    client, arn = secrets
    clock = Clock()
    authorizer = Authorizer(AuthorizerSettings(secret_id=arn, cache_seconds=300), client, monotonic=clock)
    for _ in range(5):
        authorizer.authorize(SAMPLE)
    clock.now = 299.0
    authorizer.authorize(SAMPLE)
    assert client.calls == 1
    clock.now = 300.0
    authorizer.authorize(SAMPLE)
    assert client.calls == 2


NEW_PASSWORD = "a-fresh-password-of-the-rotation"


def _rotated(client: CountingSecrets, arn: str) -> float:
    """A rotation as Terraform writes it (a new version: AWSCURRENT moves, the old one is AWSPREVIOUS); its time."""
    client.real.put_secret_value(SecretId=arn, SecretString=json.dumps({"username": USER, "password": NEW_PASSWORD}))
    return client.real.describe_secret(SecretId=arn)["LastChangedDate"].timestamp()


def _effect(authorizer: Authorizer, password: str) -> str:
    return authorizer.authorize(request(basic(USER, password)))["policyDocument"]["Statement"][0]["Effect"]


def test_a_warm_authorizer_lets_the_new_password_in_at_once_and_the_old_one_for_the_grace_window(secrets: tuple[CountingSecrets, str]) -> None:
    # GIVEN a warm authorizer holding the secret (cache 300 s), then a rotation
    client, arn = secrets
    cache, wall = Clock(), Clock()
    authorizer = Authorizer(AuthorizerSettings(secret_id=arn, cache_seconds=300, refresh_seconds=5, previous_grace_seconds=120),
                            client, monotonic=cache, clock=wall)
    assert _effect(authorizer, PASSWORD) == "Allow"
    rotated_at = _rotated(client, arn)
    cache.now, wall.now = 6.0, rotated_at + 1
    # WHEN callers use the new password 6 s later (the old secret is still cached for 294 s)
    # THEN it is let in at once: the mismatch made the authorizer read the secret again
    assert _effect(authorizer, NEW_PASSWORD) == "Allow"
    # AND the old password works until the grace window after the rotation ends, then never again
    assert _effect(authorizer, PASSWORD) == "Allow"
    wall.now = rotated_at + 119
    assert _effect(authorizer, PASSWORD) == "Allow"
    wall.now = rotated_at + 120
    assert _effect(authorizer, PASSWORD) == "Deny"
    assert _effect(authorizer, NEW_PASSWORD) == "Allow"
    # (the current version read twice, the previous once)
    assert client.stages == ["AWSCURRENT", "AWSCURRENT", "AWSPREVIOUS"]


def test_wrong_passwords_read_the_secret_again_at_most_once_per_refresh_interval(secrets: tuple[CountingSecrets, str]) -> None:
    # GIVEN a warm authorizer, no rotation, no grace window
    client, arn = secrets
    cache = Clock()
    authorizer = Authorizer(AuthorizerSettings(secret_id=arn, refresh_seconds=5, previous_grace_seconds=0), client, monotonic=cache)
    assert _effect(authorizer, PASSWORD) == "Allow"
    # WHEN a caller floods it with wrong passwords for 12 s
    for tick in range(120):
        cache.now = tick / 10
        assert _effect(authorizer, "guess") == "Deny"
    # THEN the secret was read again only at 5 s and 10 s, not once a request
    assert client.calls == 3


def test_without_a_grace_window_the_old_password_is_refused_once_the_new_one_is_seen_or_the_cache_expires(secrets: tuple[CountingSecrets, str]) -> None:
    # GIVEN no grace window, two warm authorizers (cache 60 s) and a rotation
    client, arn = secrets
    first, second = Clock(), Clock()
    authorizers = [Authorizer(AuthorizerSettings(secret_id=arn, cache_seconds=60, previous_grace_seconds=0), client, monotonic=clock) for clock in (first, second)]
    assert [_effect(a, PASSWORD) for a in authorizers] == ["Allow", "Allow"]
    _rotated(client, arn)
    # THEN until an authorizer reads the secret again the old password is what it holds (at most the cache time)
    first.now = second.now = 10.0
    assert _effect(authorizers[0], PASSWORD) == "Allow"
    # AND once a caller uses the new password it is read again: the old one is refused from then on
    assert (_effect(authorizers[0], NEW_PASSWORD), _effect(authorizers[0], PASSWORD)) == ("Allow", "Deny")
    # AND the one nobody sends the new password to refuses the old one when its cache expires
    second.now = 60.0
    assert _effect(authorizers[1], PASSWORD) == "Deny"
    assert "AWSPREVIOUS" not in client.stages


def test_settings_from_the_environment() -> None:
    settings = AuthorizerSettings.from_env({"SECRET_ID": "xacct-ingest/basic-auth", "SECRET_CACHE_SECONDS": "60", "SECRET_REFRESH_SECONDS": "2",
                                            "PREVIOUS_PASSWORD_GRACE_SECONDS": "0"})
    assert (settings.cache_seconds, settings.refresh_seconds, settings.previous_grace_seconds) == (60, 2, 0)
    assert AuthorizerSettings.from_env({"SECRET_ID": "s"}) == AuthorizerSettings(secret_id="s", cache_seconds=60, refresh_seconds=5, previous_grace_seconds=300)


@pytest.mark.parametrize(
    "env, variable, message",
    [
        pytest.param({}, "SECRET_ID", "is not set", id="no-secret"),
        pytest.param({"SECRET_ID": "name with spaces"}, "SECRET_ID", "is not a Secrets Manager secret name or ARN", id="bad-name"),
        pytest.param({"SECRET_ID": "xacct-ingest/basic-auth", "SECRET_CACHE_SECONDS": "-1"}, "SECRET_CACHE_SECONDS", "is not a number of seconds", id="negative-cache"),
        pytest.param({"SECRET_ID": "s", "PREVIOUS_PASSWORD_GRACE_SECONDS": "five"}, "PREVIOUS_PASSWORD_GRACE_SECONDS", "is not a number of seconds", id="grace-words"),
        pytest.param({"SECRET_ID": "s", "SECRET_REFRESH_SECONDS": "1.5"}, "SECRET_REFRESH_SECONDS", "is not a number of seconds", id="refresh-fraction"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], variable: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        AuthorizerSettings.from_env(env)
    assert raised.value.variable == variable
