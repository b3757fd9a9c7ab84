"""Sharing a stream this configuration does not manage (README quick start: examples/existing-stream.toml)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, Synth, run_main

STREAM_ARN = "arn:aws:kinesis:eu-west-1:111111111111:stream/orders"
KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/0f3b1c2d-1111-2222-3333-444455556666"


def test_nothing_of_the_stream_or_its_key_is_managed(existing_synth: Synth) -> None:
    # THEN the producer account gets the EFO consumer, its resource policy and one KMS grant: nothing else.
    # Not the stream's policy: a stream has one, its owner's, and writing it would replace theirs.
    producer = sorted(
        f"{type_}.{body['//']['metadata']['path'].split('/', 1)[1]}"
        for type_, bodies in existing_synth.config["resource"].items()
        for body in bodies.values()
        if body.get("provider") == "aws.producer"
    )
    assert producer == [
        "aws_kinesis_resource_policy.shared-stream/consumer-policy",
        "aws_kinesis_stream_consumer.shared-stream/consumer",
        "aws_kms_grant.shared-stream/reader-key-grant",
    ]


def test_the_key_is_shared_by_a_grant_bound_to_the_stream(existing_synth: Synth) -> None:
    _, grant = existing_synth.only("aws_kms_grant")
    assert grant["key_id"] == KEY_ARN
    assert grant["grantee_principal"] == existing_synth.ref("aws_iam_role", "consumer-function/role", "arn")
    assert grant["operations"] == ["Decrypt"]
    # Kinesis passes the stream ARN as the encryption context: the grant decrypts this stream only.
    assert grant["constraints"] == [{"encryption_context_equals": {"aws:kinesis:arn": STREAM_ARN}}]


def test_the_owner_gets_the_statement_to_add_and_the_consumer_policy_names_the_reader(existing_synth: Synth) -> None:
    # THEN the statement the owner must add is an output, naming the reader role and the stream, read actions only
    role = existing_synth.ref("aws_iam_role", "consumer-function/role", "arn")
    output = existing_synth.config["output"]["stream_policy_statements_for_owner"]
    assert json.loads(output["value"])["Statement"] == [{
        "Sid": "ShareStreamWithConsumerRole", "Effect": "Allow", "Principal": {"AWS": role},
        "Action": ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
        "Resource": STREAM_ARN,
    }]
    assert "take_over_policy is false" in output["description"]
    _, consumer = existing_synth.only("aws_kinesis_stream_consumer")
    assert (consumer["stream_arn"], consumer["name"]) == (STREAM_ARN, "orders-audit-lambda-consumer")
    _, consumer_policy = existing_synth.only("aws_kinesis_resource_policy", "consumer-policy")
    assert [s["Principal"] for s in json.loads(consumer_policy["policy"])["Statement"]] == [{"AWS": role}]
    _, read = existing_synth.only("aws_iam_role_policy", "stream-read-policy")
    decrypt = json.loads(read["policy"])["Statement"][2]
    assert (decrypt["Action"], decrypt["Resource"]) == ("kms:Decrypt", KEY_ARN)


def test_mapping_waits_for_the_consumer_policy_and_the_grant(existing_synth: Synth) -> None:
    _, mapping = existing_synth.only("aws_lambda_event_source_mapping")
    assert mapping["event_source_arn"] == existing_synth.ref("aws_kinesis_stream_consumer", "", "arn")
    assert {
        existing_synth.address("aws_kinesis_resource_policy", "consumer-policy"),
        existing_synth.address("aws_kms_grant"),
    } <= set(mapping["depends_on"])


@pytest.mark.slow
def test_take_over_policy_puts_the_streams_policy_in_the_plan(tmp_path: Path) -> None:
    # GIVEN the example with take_over_policy = true
    settings = tmp_path / "take-over.toml"
    settings.write_text((ROOT / "examples" / "existing-stream.toml").read_text().replace(
        "[existing_stream]\n", "[existing_stream]\ntake_over_policy = true\n").replace('"orders_reader"', f'"{ROOT / "examples" / "orders_reader"}"'))
    # WHEN synthesized
    result = run_main("--config", str(settings), "--outdir", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "out" / "stacks" / "orders-audit" / "cdk.tf.json").read_text())
    # THEN the plan writes the stream's policy (replacing the owner's) and hands the owner nothing
    (policy,) = [p for p in config["resource"]["aws_kinesis_resource_policy"].values() if p["resource_arn"] == STREAM_ARN]
    assert [s["Sid"] for s in json.loads(policy["policy"])["Statement"]] == ["ShareStreamWithConsumerRole"]
    assert "stream_policy_statements_for_owner" not in config["output"]


def test_own_handler_and_derived_names(existing_synth: Synth) -> None:
    _, function = existing_synth.only("aws_lambda_function")
    assert (function["function_name"], function["handler"], function["runtime"]) == ("orders-audit-stream-consumer", "app.lambda_handler", "python3.13")
    assert function["environment"]["variables"]["TEAM"] == "orders"
    assert existing_synth.config["output"]["stream_arn"]["value"] == STREAM_ARN
    assert "kms_key_arn" not in existing_synth.config["output"]


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param('region = "eu-west-1"', 'region = "eu-central-1"', "region must be eu-west-1, the region of existing_stream.stream_arn", id="stream-in-another-region"),
        pytest.param('producer_account_id = "111111111111"', 'producer_account_id = "333333333333"', "producer_account_id must be 111111111111, the account of existing_stream.stream_arn", id="stream-not-in-producer-account"),
        pytest.param('consumer_account_id = "222222222222"', 'consumer_account_id = "111111111111"', "consumer_account_id must not be 111111111111: that account holds existing_stream.stream_arn", id="stream-in-consumer-account"),
    ],
)
def test_tfvars_must_match_the_streams_account_and_region(
    existing_synth: Synth, terraform_env: dict[str, str], tmp_path: Path, old: str, new: str, message: str
) -> None:
    # GIVEN the stack's variable blocks alone (their rules are what is under test) and the example tfvars with one change
    (tmp_path / "variables.tf.json").write_text(json.dumps({"variable": existing_synth.config["variable"]}))
    example = (ROOT / "terraform.tfvars.example").read_text()
    assert old in example
    (tmp_path / "test.tfvars").write_text(example.replace(old, new))
    # WHEN planned
    result = subprocess.run(
        ["terraform", "plan", "-input=false", "-no-color", "-var-file=test.tfvars"], cwd=tmp_path, env=terraform_env, capture_output=True, text=True, timeout=120
    )
    # THEN the rule that the settings added says what to fix
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 1
    assert message in output
