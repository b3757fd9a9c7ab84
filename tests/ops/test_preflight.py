"""make preflight against moto: roles, accounts, region, names still free, and each account's
prerequisites (Lambda concurrency, API Gateway's logging role, a verified SES identity), for every stack."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from moto import mock_aws

from conftest import ALL_STACKS, API_STACK, DEFAULT_STACK, EXISTING_STACK, FANOUT_STACK, ROOT, SES_STACK, assumed_session
from xacct_ops import preflight, preflight_existing
from xacct_ops.iam.stack import OWNER_STATEMENTS_OUTPUT

sys.path.insert(0, str(ROOT / "tests" / "harness"))

import moto_extensions  # noqa: E402  (Lambda GetAccountSettings, which moto lacks)

moto_extensions.install()

EXAMPLE = (ROOT / "terraform.tfvars.example").read_text()


def _tfvars(tmp_path: Path, text: str = EXAMPLE) -> Path:
    path = tmp_path / "terraform.tfvars"
    path.write_text(text)
    return path


def _main(tmp_path: Path, stack_dir: Path, *extra: str, tfvars: str = EXAMPLE) -> int:
    return preflight.main(["--tfvars", str(_tfvars(tmp_path, tfvars)), "--stack-dir", str(stack_dir), *extra])


@pytest.fixture(scope="module")
def stacks(cli_outdir: Path) -> Path:
    return cli_outdir / "stacks"


def test_everything_free_passes(aws_env: None, tmp_path: Path, stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        assert _main(tmp_path, stacks / DEFAULT_STACK) == 0
    out = capsys.readouterr().out.splitlines()
    assert "PASS  producer: assume arn:aws:iam::111111111111:role/terraform-deploy: assumed" in out
    assert "PASS  consumer: lands in consumer_account_id 222222222222: yes" in out
    assert "PASS  name free: producer: stream xacct-shared-stream: free" in out
    assert "PASS  name free: consumer: table xacct-stream-sink: free" in out
    assert "PASS  name free: consumer: alarm xacct-stream-consumer-errors: free" in out
    assert ("PASS  consumer: Lambda concurrency leaves 100 unreserved: the stack reserves 10 of 1000 unreserved "
            "(account quota 1000), leaving 990") in out
    # AND nothing is deployed yet: every policy the plan writes is not there, so the apply removes nothing
    assert "PASS  live policies: the apply removes no access they grant: 0 read, 10 not there yet" in out
    assert out[-1] == "preflight checks: 24 ok, 0 failing"


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_stack_checks_each_name_it_creates_in_its_account(aws_env: None, tmp_path: Path, stacks: Path, capsys: pytest.CaptureFixture[str], stack: str) -> None:
    # GIVEN fresh accounts that meet the API and SES prerequisites
    config = json.loads((stacks / stack / "cdk.tf.json").read_text())
    with mock_aws():
        consumer = assumed_session("222222222222")
        consumer.client("apigateway").update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": "arn:aws:iam::222222222222:role/apigw-logs"}])
        consumer.client("ses").verify_email_identity(EmailAddress="sender@example.com")
        status = _main(tmp_path, stacks / stack)
    out = capsys.readouterr().out.splitlines()
    # THEN every literal name of every checked type is looked up in its provider's account
    expected = sorted(
        f"PASS  name free: {body.get('provider', 'aws.producer').removeprefix('aws.')}: {lookup.label} {body[lookup.argument]}: free"
        for type_, lookup in preflight.NAME_LOOKUPS.items() if type_ != "aws_kinesis_stream_consumer"
        for body in config["resource"].get(type_, {}).values()
        if "${" not in body[lookup.argument]  # a name made of variables is not known before the plan
    )
    assert sorted(line for line in out if line.startswith("PASS  name free: ")) == expected
    assert status == 0, out
    functions = len(config["resource"]["aws_lambda_function"])
    assert sum(line.startswith("PASS  ") and "Lambda concurrency leaves 100 unreserved" in line for line in out) == len(
        {body["provider"] for body in config["resource"]["aws_lambda_function"].values()}), functions


def test_a_new_accounts_concurrency_quota_fails_the_reservation(aws_env: None, tmp_path: Path, stacks: Path, capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN accounts with a quota of 10 concurrent executions, as new accounts can have
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "10")
    with mock_aws():
        status = _main(tmp_path, stacks / DEFAULT_STACK)
    out = capsys.readouterr().out.splitlines()
    # THEN the function's reservation of 10 is refused before the plan, with what to do
    assert status == 1
    assert ("FAIL  consumer: Lambda concurrency leaves 100 unreserved: the stack reserves 10 of 10 unreserved (account quota 10), "
            "leaving 0: the reservation would be refused; ask for a higher quota (Service Quotas: Lambda concurrent executions), "
            "lower each function's reserved_concurrency, or set it to -1 (unreserved)") in out


@pytest.mark.parametrize("verified", [False, True], ids=["no-identity", "verified-sender"])
def test_ses_stack_needs_a_verified_identity(aws_env: None, tmp_path: Path, stacks: Path, capsys: pytest.CaptureFixture[str], verified: bool) -> None:
    with mock_aws():
        if verified:
            assumed_session("222222222222").client("ses").verify_email_identity(EmailAddress="orders@example.com")
        status = _main(tmp_path, stacks / SES_STACK)
    out = capsys.readouterr().out.splitlines()
    name = "consumer: SES has a verified identity (for configuration set xacct-mail)"
    if verified:
        assert (status, f"PASS  {name}: orders@example.com" in out) == (0, True)
    else:
        assert status == 1
        assert (f"FAIL  {name}: none verified: SES sends nothing from an unverified identity, so nothing is notified; "
                "verify the sender (aws ses verify-domain-identity or verify-email-identity)") in out


def test_a_missing_stack_dir_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(tmp_path, tmp_path / "cdktf.out" / "stacks" / "nothing") == 2
    assert "a synthesized stack directory with cdk.tf.json (run make synth)" in capsys.readouterr().err


def test_taken_names_fail_in_the_right_account(aws_env: None, tmp_path: Path, stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        # GIVEN a stream of that name in the producer account and a queue in the consumer account
        assumed_session("111111111111").client("kinesis").create_stream(StreamName="xacct-shared-stream", ShardCount=1)
        assumed_session("222222222222").client("sqs").create_queue(QueueName="xacct-stream-consumer-dlq")
        # AND the same stream name in the consumer account, which does not matter
        assumed_session("222222222222").client("kinesis").create_stream(StreamName="other", ShardCount=1)
        assert _main(tmp_path, stacks / DEFAULT_STACK) == 1
    out = capsys.readouterr().out.splitlines()
    assert "FAIL  name free: producer: stream xacct-shared-stream: already exists" in out
    assert "FAIL  name free: consumer: queue xacct-stream-consumer-dlq: already exists" in out
    assert "PASS  name free: consumer: function xacct-stream-consumer: free" in out
    assert out[-1] == "preflight checks: 22 ok, 2 failing"


def test_a_statement_added_by_hand_to_the_live_stream_policy_fails_naming_what_the_apply_removes(
        aws_env: None, tmp_path: Path, stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stream = "arn:aws:kinesis:eu-west-1:111111111111:stream/xacct-shared-stream"
    with mock_aws():
        # GIVEN the stream deployed, its policy holding only a statement someone added by hand
        kinesis = assumed_session("111111111111").client("kinesis")
        kinesis.create_stream(StreamName="xacct-shared-stream", ShardCount=1)
        kinesis.put_resource_policy(ResourceARN=stream, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "ByHand", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:role/analyst"},
            "Action": "kinesis:GetRecords", "Resource": stream}]}))
        assert _main(tmp_path, stacks / DEFAULT_STACK) == 1
    out = capsys.readouterr().out.splitlines()
    # THEN the live check fails, naming the grant the apply would take away
    (line,) = [line for line in out if "live policies" in line]
    assert line.startswith("FAIL  live policies: the apply removes no access they grant: 1 read, 9 not there yet; the apply would remove "
                           f"1 grant(s) the live policies hold: arn:aws:iam::222222222222:role/analyst kinesis:GetRecords on {stream} (resource policy). "
                           "Added by hand?"), line


def test_role_in_another_account_than_the_tfvars_name(aws_env: None, tmp_path: Path, stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = EXAMPLE.replace('producer_account_id = "111111111111"', 'producer_account_id = "333333333333"')
    with mock_aws():
        assert _main(tmp_path, stacks / DEFAULT_STACK, tfvars=text) == 1
    out = capsys.readouterr().out.splitlines()
    assert "FAIL  producer: lands in producer_account_id 333333333333: lands in 111111111111" in out
    assert not any("name free" in line for line in out)  # names are only checked in the right accounts


def test_incomplete_tfvars_is_a_usage_error(tmp_path: Path, stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(tmp_path, stacks / DEFAULT_STACK, tfvars='region = "eu-west-1"\n') == 2
    assert "producer_account_id, producer_deploy_role_arn, consumer_account_id, consumer_deploy_role_arn" in capsys.readouterr().err


@pytest.mark.parametrize("role_set", [False, True], ids=["no-logging-role", "logging-role-set"])
def test_api_stack_needs_the_accounts_api_gateway_logging_role(aws_env: None, tmp_path: Path, stacks: Path, capsys: pytest.CaptureFixture[str], role_set: bool) -> None:
    # GIVEN the API stack (manage_account_logging_role left false)
    with mock_aws():
        role = "arn:aws:iam::222222222222:role/apigateway-cloudwatch"
        if role_set:
            # AND the consumer account has API Gateway's CloudWatch role set
            assumed_session("222222222222").client("apigateway").update_account(
                patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
            )
        # WHEN
        status = _main(tmp_path, stacks / API_STACK)
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


def _existing_stream(encryption: str) -> tuple[str, str | None]:
    """A stream in the producer account (moto), encrypted as `encryption` says; its ARN and key ARN."""
    producer = assumed_session("111111111111")
    kinesis = producer.client("kinesis")
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"]["StreamARN"]
    key_arn = None
    if encryption == "customer-key":
        key_arn = producer.client("kms").create_key()["KeyMetadata"]["Arn"]
        kinesis.start_stream_encryption(StreamName="orders", EncryptionType="KMS", KeyId=key_arn)
    elif encryption == "aws-managed":
        kinesis.start_stream_encryption(StreamName="orders", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    return arn, key_arn


def _settings(tmp_path: Path, arn: str, key_arn: str | None, take_over: bool = False) -> Path:
    lines = [f'stack_name = "{EXISTING_STACK}"', "[existing_stream]", f'stream_arn = "{arn}"']
    if key_arn:
        lines.append(f'key_arn = "{key_arn}"')
    if take_over:
        lines.append("take_over_policy = true")
    path = tmp_path / "existing.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


POLICY = '{"Version":"2012-10-17","Statement":[{"Sid":"AnalyticsTeam","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:role/analytics"},"Action":"kinesis:GetRecords","Resource":"%s"}]}'


READER_ROLE = "arn:aws:iam::222222222222:role/orders-audit-stream-consumer-role"
OWNER_STATEMENT = {
    "Sid": "ShareStreamWithConsumerRole", "Effect": "Allow", "Principal": {"AWS": READER_ROLE},
    "Action": ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
}


@pytest.mark.parametrize(
    ("owner_policy", "status", "line"),
    [
        pytest.param(None, 1, "FAIL  producer: existing stream's resource policy lets this stack's readers in: missing 1 of 1 statement(s) (ShareStreamWithConsumerRole) (written to ", id="no-policy"),
        pytest.param("other-team", 1, "FAIL  producer: existing stream's resource policy lets this stack's readers in: missing 1 of 1 statement(s)", id="only-another-teams-statement"),
        pytest.param("with-ours", 0, "PASS  producer: existing stream's resource policy lets this stack's readers in: the owner's policy has the 1 statement(s) (this plan does not write it)", id="owner-added-ours"),
    ],
)
def test_existing_stream_policy_stays_the_owners_and_must_let_the_reader_in(
    aws_env: None, tmp_path: Path, library_outdir: Path, capsys: pytest.CaptureFixture[str], owner_policy: str | None, status: int, line: str
) -> None:
    stack_dir = tmp_path / EXISTING_STACK
    shutil.copytree(library_outdir / "stacks" / EXISTING_STACK, stack_dir, ignore=shutil.ignore_patterns(".terraform", preflight_existing.OWNER_STATEMENTS_FILE))
    with mock_aws():
        # GIVEN an existing encrypted stream whose owner's policy has nothing, another team's statement, or also ours
        arn, key_arn = _existing_stream("customer-key")
        statements = [] if owner_policy is None else [json.loads(POLICY % arn)["Statement"][0]]
        if owner_policy == "with-ours":
            statements.append({**OWNER_STATEMENT, "Resource": arn})
        if statements:
            assumed_session("111111111111").client("kinesis").put_resource_policy(
                ResourceARN=arn, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))
        # WHEN preflight checks the settings that share it
        result = _main(tmp_path, stack_dir, "--config", str(_settings(tmp_path, arn, key_arn)))
    # THEN
    out = capsys.readouterr().out.splitlines()
    assert (result, [l for l in out if l.startswith("FAIL")]) == (status, [l for l in out if l.startswith("FAIL") and status])
    assert any(l.startswith(line) for l in out), out
    # AND the owner gets the exact statement to add, in a file next to the stack (ARNs from the tfvars)
    written = json.loads((stack_dir / preflight_existing.OWNER_STATEMENTS_FILE).read_text())
    assert written == {"Version": "2012-10-17", "Statement": [{**OWNER_STATEMENT, "Resource": "arn:aws:kinesis:eu-west-1:111111111111:stream/orders"}]}
    assert f"PASS  producer: existing stream's key: {key_arn}" in out
    assert "PASS  name free: producer: stream consumer orders-audit-lambda-consumer: free" in out
    assert [l for l in out if "name free: producer: stream " in l and "stream consumer" not in l] == []  # not created, not checked


@pytest.mark.parametrize(
    ("existing_policy", "status", "line"),
    [
        pytest.param(False, 0, "PASS  producer: existing stream's resource policy: none: this stack writes the only one", id="no-policy"),
        pytest.param(True, 0, "PASS  producer: existing stream's resource policy: replaced by this stack's (existing_stream.take_over_policy = true); it held: {", id="policy-taken-over"),
    ],
)
def test_a_taken_over_policy_is_printed_before_it_is_replaced(
    aws_env: None, tmp_path: Path, library_outdir: Path, capsys: pytest.CaptureFixture[str], existing_policy: bool, status: int, line: str
) -> None:
    # GIVEN the stack as take_over_policy = true synthesizes it: the stream's policy in the plan, no statements for an owner
    stack_dir = tmp_path / EXISTING_STACK
    shutil.copytree(library_outdir / "stacks" / EXISTING_STACK, stack_dir, ignore=shutil.ignore_patterns(".terraform", preflight_existing.OWNER_STATEMENTS_FILE))
    config = json.loads((stack_dir / "cdk.tf.json").read_text())
    del config["output"][OWNER_STATEMENTS_OUTPUT]
    (stack_dir / "cdk.tf.json").write_text(json.dumps(config))
    with mock_aws():
        arn, key_arn = _existing_stream("customer-key")
        if existing_policy:
            assumed_session("111111111111").client("kinesis").put_resource_policy(ResourceARN=arn, Policy=POLICY % arn)
        # WHEN
        result = _main(tmp_path, stack_dir, "--config", str(_settings(tmp_path, arn, key_arn, take_over=True)))
    # THEN the old policy is printed, and no owner file is written
    out = capsys.readouterr().out.splitlines()
    assert result == status
    assert any(l.startswith(line) for l in out), out
    assert not (stack_dir / preflight_existing.OWNER_STATEMENTS_FILE).exists()


@pytest.mark.parametrize(
    ("encryption", "settings_key", "detail"),
    [
        pytest.param("aws-managed", False, "encrypted with the AWS-managed aws/kinesis key, which no other account can use", id="aws-managed-key"),
        pytest.param("customer-key", False, "encrypted with arn:aws:kms:eu-west-1:111111111111:key/", id="key-not-in-settings"),
        pytest.param("none", True, "the stream is not encrypted, but existing_stream.key_arn is set", id="unencrypted-with-key"),
    ],
)
def test_existing_stream_encryption_must_match_the_settings(
    aws_env: None, tmp_path: Path, library_outdir: Path, capsys: pytest.CaptureFixture[str], encryption: str, settings_key: bool, detail: str
) -> None:
    with mock_aws():
        arn, _ = _existing_stream(encryption)
        key_arn = "arn:aws:kms:eu-west-1:111111111111:key/0f3b1c2d-1111-2222-3333-444455556666" if settings_key else None
        result = _main(tmp_path, library_outdir / "stacks" / EXISTING_STACK, "--config", str(_settings(tmp_path, arn, key_arn)))
    out = capsys.readouterr().out.splitlines()
    assert result == 1
    assert any(l.startswith("FAIL  producer: existing stream's key: " + detail) for l in out), out


FANOUT_TFVARS = """region = "eu-west-1"
producer_account_id = "111111111111"
producer_deploy_role_arn = "arn:aws:iam::111111111111:role/terraform-deploy"
consumer_accounts = {
  analytics = { account_id = "333333333333", deploy_role_arn = "arn:aws:iam::333333333333:role/terraform-deploy" }
  billing   = { account_id = "444444444444", deploy_role_arn = "arn:aws:iam::444444444444:role/terraform-deploy" }
}
"""


def test_fanout_checks_every_account_and_each_consumers_names(aws_env: None, tmp_path: Path, library_outdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        # GIVEN the fan-out example, and a table of billing's name already in billing's account
        assumed_session("444444444444").client("dynamodb").create_table(
            TableName="orders-fanout-billing-sink", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        )
        status = _main(tmp_path, library_outdir / "stacks" / FANOUT_STACK, tfvars=FANOUT_TFVARS)
    out = capsys.readouterr().out.splitlines()
    # THEN each of the three accounts is assumed and checked, and the taken name fails in billing's account only
    assert status == 1
    for side, account, where in (("producer", "111111111111", "producer_account_id"), ("analytics", "333333333333", "consumer_accounts.analytics"), ("billing", "444444444444", "consumer_accounts.billing")):
        assert f"PASS  {side}: lands in {where} {account}: yes" in out
    assert "FAIL  name free: billing: table orders-fanout-billing-sink: already exists" in out
    assert "PASS  name free: analytics: table orders-fanout-analytics-sink: free" in out
    assert "PASS  name free: producer: function orders-fanout-audit: free" in out
    assert "PASS  name free: producer: stream orders-fanout-fanout-stream: free" in out


def test_fanout_tfvars_must_name_every_account(tmp_path: Path, library_outdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = FANOUT_TFVARS.replace('  billing   = { account_id = "444444444444", deploy_role_arn = "arn:aws:iam::444444444444:role/terraform-deploy" }\n', "")
    assert _main(tmp_path, library_outdir / "stacks" / FANOUT_STACK, tfvars=text) == 2
    assert "consumer_accounts: 'billing' is not allowed; expected an entry for every account the settings name (analytics, billing)" in capsys.readouterr().err
