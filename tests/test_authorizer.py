"""The basic-auth Lambda authorizer against moto's Secrets Manager."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from moto import mock_aws

from xacct_consumer.config import ConfigurationError
from xacct_ingest.authorizer import Authorizer, AuthorizerSettings, Unauthorized, basic_credentials

REGION = "eu-west-1"
SAMPLE = json.loads((Path(__file__).parent / "events" / "apigw_authorizer_request.json").read_text())
METHOD_ARN = SAMPLE["methodArn"]
USER, PASSWORD = "ingest", "correct-horse-battery-staple"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingSecrets:
    def __init__(self, real: Any) -> None:
        self.real, self.calls = real, 0

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        self.calls += 1
        return self.real.get_secret_value(SecretId=SecretId)


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


@pytest.mark.parametrize(
    "env, variable, message",
    [
        pytest.param({}, "SECRET_ID", "is not set", id="no-secret"),
        pytest.param({"SECRET_ID": "name with spaces"}, "SECRET_ID", "is not a Secrets Manager secret name or ARN", id="bad-name"),
        pytest.param({"SECRET_ID": "xacct-ingest/basic-auth", "SECRET_CACHE_SECONDS": "-1"}, "SECRET_CACHE_SECONDS", "is not a number of seconds", id="negative-cache"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], variable: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        AuthorizerSettings.from_env(env)
    assert raised.value.variable == variable
