"""The table of what AWS sends (xacct_ops.iam.request_context): every synthesized policy conditions a call
only on keys that call carries, and the policy check cannot supply a key the table does not list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from xacct_ops.iam.request_context import TABLE, NotInTable, context_for, markdown_table, unsent_condition_keys


def _config(*statements: dict[str, Any]) -> dict[str, Any]:
    policy = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    return {"resource": {"aws_iam_role": {"r": {"assume_role_policy": policy}}}}


def _allow(principal: Any, action: Any, condition: dict[str, Any]) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": action, "Resource": "*", "Condition": condition}
    if principal is not None:
        statement["Principal"] = principal
    return statement


GOOD = [
    pytest.param(_allow({"Service": "firehose.amazonaws.com"}, "sts:AssumeRole", {"StringEquals": {"sts:ExternalId": "111111111111"}}), id="firehose-external-id"),
    pytest.param(_allow({"Service": "logs.${var.region}.amazonaws.com"}, ["kms:Encrypt", "kms:Decrypt"],
                        {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:1:log-group:g"}}), id="logs-encryption-context"),
    pytest.param(_allow({"Service": "ses.amazonaws.com"}, "SNS:Publish", {"ArnLike": {"aws:SourceArn": "arn:aws:ses:eu-west-1:1:configuration-set/s"}}), id="ses-publish-source-arn"),
    pytest.param(_allow(None, "kms:Decrypt", {"StringEquals": {"kms:ViaService": "kinesis.eu-west-1.amazonaws.com",
                                                               "kms:EncryptionContext:aws:kinesis:arn": "arn:aws:kinesis:eu-west-1:1:stream/s"}}), id="role-via-kinesis"),
    pytest.param(_allow({"AWS": "arn:aws:iam::1:role/f"}, "sts:AssumeRole", {"StringEquals": {"sts:ExternalId": "x"}}), id="own-function-external-id"),
]

BAD = [
    pytest.param(_allow({"Service": "apigateway.amazonaws.com"}, "sts:AssumeRole", {"StringEquals": {"aws:SourceAccount": "1"}}),
                 ["apigateway.amazonaws.com sts:AssumeRole: aws:SourceAccount"], id="api-gateway-trust-source-account"),
    pytest.param(_allow({"Service": "ses.amazonaws.com"}, ["kms:Decrypt"], {"ArnLike": {"aws:SourceArn": "arn:aws:ses:eu-west-1:1:configuration-set/s"}}),
                 ["ses.amazonaws.com kms:Decrypt: aws:SourceArn"], id="ses-key-source-arn"),
    pytest.param(_allow({"Service": "cloudwatch.amazonaws.com"}, ["kms:GenerateDataKey"], {"StringEquals": {"aws:SourceAccount": "1"}}),
                 ["cloudwatch.amazonaws.com kms:GenerateDataKey: aws:SourceAccount"], id="cloudwatch-key-source-account"),
    pytest.param(_allow({"Service": "lambda.amazonaws.com"}, "sts:AssumeRole", {"StringEquals": {"aws:SourceAccount": "1"}}),
                 ["lambda.amazonaws.com sts:AssumeRole: aws:SourceAccount"], id="lambda-trust-source-account"),
    pytest.param(_allow(None, "kms:Decrypt", {"StringEquals": {"kms:ViaService": "sqs.eu-west-1.amazonaws.com", "kms:EncryptionContext:aws:sqs:arn": "q"}}),
                 ["role via sqs kms:Decrypt: kms:EncryptionContext:aws:sqs:arn"], id="sqs-unsourced-encryption-context"),
    pytest.param(_allow({"Service": "events.amazonaws.com"}, "sns:Publish", {"StringEquals": {"aws:SourceAccount": "1"}}),
                 ["events.amazonaws.com sns:Publish: aws:SourceAccount (no row for this call)"], id="service-without-a-row"),
]


@pytest.mark.parametrize("statement", GOOD)
def test_a_condition_on_a_key_the_call_carries_passes(statement: dict[str, Any]) -> None:
    # GIVEN a policy conditioning a call on a key the table says that call carries
    # WHEN / THEN
    assert unsent_condition_keys(_config(statement)) == []


@pytest.mark.parametrize("statement, problems", BAD)
def test_a_condition_on_a_key_the_call_never_carries_is_named(statement: dict[str, Any], problems: list[str]) -> None:
    # GIVEN a policy conditioning a call on a key the table does not list for it
    # WHEN
    found = unsent_condition_keys(_config(statement))
    # THEN exactly that call and key are named
    assert found == problems


def test_every_synthesized_policy_conditions_only_on_keys_its_call_carries(cli_outdir: Path, library_outdir: Path) -> None:
    # GIVEN every stack the suite synthesizes: the built-in ones and the variants (encrypted alarm topic,
    # existing stream, fan-out single and split, API logging role)
    stacks = sorted((cli_outdir / "stacks").glob("*/cdk.tf.json")) + sorted((library_outdir / "stacks").glob("*/cdk.tf.json"))
    assert len(stacks) >= 10
    # WHEN each is read against the table THEN no condition depends on a key AWS does not send
    problems = {path.parent.name: unsent_condition_keys(json.loads(path.read_text())) for path in stacks}
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_check_cannot_supply_a_key_the_table_does_not_list() -> None:
    # GIVEN the call that once hid a trust policy denying every request
    # WHEN the policy check builds its context with aws:SourceAccount THEN it is refused
    with pytest.raises(ValueError, match=r"apigateway.amazonaws.com sts:AssumeRole does not send \['aws:SourceAccount'\]"):
        context_for("apigateway.amazonaws.com", "sts:AssumeRole", {"aws:SourceAccount": "111111111111"})
    # AND a call with no row has no context at all
    with pytest.raises(NotInTable, match="no row for events.amazonaws.com sns:Publish"):
        context_for("events.amazonaws.com", "sns:Publish", {})
    # AND what the table lists is passed through unchanged
    assert context_for("logs.eu-west-1.amazonaws.com", "kms:GenerateDataKey", {"kms:EncryptionContext:aws:logs:arn": "g"}) == {
        "kms:EncryptionContext:aws:logs:arn": "g"
    }


def test_every_row_cites_an_aws_page_a_live_report_or_the_code_that_sends_it() -> None:
    for row in TABLE:
        assert row.sources, row.what
        for source in row.sources:
            assert source.quote.strip(), row.what
            assert source.url.startswith(("https://docs.aws.amazon.com/", "https://repost.aws/", "https://github.com/")) or (ROOT / source.url).is_file(), source.url
    # the documented table lists every row
    assert markdown_table().count("\n") == len(TABLE) + 1
