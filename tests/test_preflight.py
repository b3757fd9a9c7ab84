"""make preflight against moto: roles, accounts, region, and names still free."""

from __future__ import annotations

from pathlib import Path

import pytest
from moto import mock_aws

from conftest import ROOT, assumed_session
from xacct_ops import preflight

EXAMPLE = (ROOT / "terraform.tfvars.example").read_text()


def _tfvars(tmp_path: Path, text: str = EXAMPLE) -> Path:
    path = tmp_path / "terraform.tfvars"
    path.write_text(text)
    return path



def test_everything_free_passes(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        assert preflight.main(["--tfvars", str(_tfvars(tmp_path))]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "PASS  producer: assume arn:aws:iam::111111111111:role/terraform-deploy: assumed" in out
    assert "PASS  consumer: lands in consumer_account_id 222222222222: yes" in out
    assert "PASS  name free: producer: stream xacct-shared-stream: free" in out
    assert "PASS  name free: consumer: table xacct-stream-sink: free" in out
    assert out[-1] == "preflight checks: 15 ok, 0 failing"


def test_taken_names_fail_in_the_right_account(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        # GIVEN a stream of that name in the producer account and a queue in the consumer account
        assumed_session("111111111111").client("kinesis").create_stream(StreamName="xacct-shared-stream", ShardCount=1)
        assumed_session("222222222222").client("sqs").create_queue(QueueName="xacct-stream-consumer-dlq")
        # AND the same stream name in the consumer account, which does not matter
        assumed_session("222222222222").client("kinesis").create_stream(StreamName="other", ShardCount=1)
        assert preflight.main(["--tfvars", str(_tfvars(tmp_path))]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "FAIL  name free: producer: stream xacct-shared-stream: already exists" in out
    assert "FAIL  name free: consumer: queue xacct-stream-consumer-dlq: already exists" in out
    assert "PASS  name free: consumer: function xacct-stream-consumer: free" in out
    assert out[-1] == "preflight checks: 13 ok, 2 failing"


def test_role_in_another_account_than_the_tfvars_name(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = EXAMPLE.replace('producer_account_id = "111111111111"', 'producer_account_id = "333333333333"')
    with mock_aws():
        assert preflight.main(["--tfvars", str(_tfvars(tmp_path, text))]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "FAIL  producer: lands in producer_account_id 333333333333: lands in 111111111111" in out
    assert not any("name free" in line for line in out)  # names are only checked in the right accounts


def test_incomplete_tfvars_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert preflight.main(["--tfvars", str(_tfvars(tmp_path, 'region = "eu-west-1"\n'))]) == 2
    assert "producer_account_id, consumer_account_id, producer_deploy_role_arn, consumer_deploy_role_arn" in capsys.readouterr().err


@pytest.mark.parametrize("role_set", [False, True], ids=["no-logging-role", "logging-role-set"])
def test_api_stack_needs_the_accounts_api_gateway_logging_role(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], role_set: bool) -> None:
    # GIVEN the API stack's settings (manage_account_logging_role left false)
    config = tmp_path / "api.toml"
    config.write_text('kind = "xacct-api-ingest"\n')
    with mock_aws():
        role = "arn:aws:iam::222222222222:role/apigateway-cloudwatch"
        if role_set:
            # AND the consumer account has API Gateway's CloudWatch role set
            assumed_session("222222222222").client("apigateway").update_account(
                patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
            )
        # WHEN
        status = preflight.main(["--tfvars", str(_tfvars(tmp_path)), "--config", str(config)])
    # THEN
    out = capsys.readouterr().out.splitlines()
    if role_set:
        assert status == 0
        assert f"PASS  consumer: API Gateway account has a CloudWatch logging role: {role}" in out
    else:
        assert status == 1
        assert (
            "FAIL  consumer: API Gateway account has a CloudWatch logging role: none set: set it once for the account "
            "(aws apigateway update-account), or api.manage_account_logging_role = true"
        ) in out
