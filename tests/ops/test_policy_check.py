"""make policy-check: every data-plane call, decided by an independent IAM engine (iam-simulate)."""

from __future__ import annotations

import copy
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import ALL_STACKS, DEFAULT_STACK, POLICY_COUNTS, PROVISIONED_STACK, REPLICATION_STACK, ROOT, TESTS, run_make

sys.path.insert(0, str(TESTS / "harness"))

import policy_check  # noqa: E402

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir(),
    reason="needs node and the npm tools (make node_modules/.installed)",
)

COUNTS = POLICY_COUNTS


def _config(outdir: Path, stack: str) -> dict[str, Any]:
    return json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text())


def _rows(config: dict[str, Any], stack: str) -> list[dict[str, Any]]:
    return policy_check.check_stack(policy_check.Stack(stack, config))


def _row(rows: list[dict[str, Any]], action: str, what: str) -> dict[str, Any]:
    (row,) = [r for r in rows if r["action"] == action and r["what"] == what]
    return row


@pytest.fixture(scope="module")
def make_policy_check(cli_outdir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict[str, Any]]]:
    reports = tmp_path_factory.mktemp("policy-reports")
    result = run_make("policy-check", OUTDIR=cli_outdir, REPORTS=reports)
    return result, json.loads((reports / "policy-check.json").read_text())


def test_make_policy_check_decides_every_call_as_expected(make_policy_check: tuple[Any, list[dict[str, Any]]]) -> None:
    # GIVEN the five stacks WHEN make policy-check runs
    result, rows = make_policy_check
    # THEN every expected call is allowed, every variant denied, per stack exactly these many
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert policy_check.summarize(rows) == {stack: {"allowed": a, "denied": d, "wrong": 0} for stack, (a, d) in COUNTS.items()}
    assert sorted(COUNTS) == sorted(ALL_STACKS)
    for stack, (allowed, denied) in COUNTS.items():
        assert denied >= allowed, stack
        assert f"{stack}: {allowed} allowed and {denied} denied as expected, 0 wrong" in result.stdout
    assert all(not row["errors"] for row in rows), [row["errors"] for row in rows if row["errors"]][:3]
    # AND docs/security.md's table says the same (it once kept a stale count)
    security = (ROOT / "docs" / "security.md").read_text()
    for stack, (allowed, denied) in COUNTS.items():
        assert f"| `{stack}` | {allowed} | {denied} | 0 |" in security, stack


def test_cross_account_reads_are_allowed_by_both_sides_and_denied_to_everyone_else(make_policy_check: tuple[Any, list[dict[str, Any]]]) -> None:
    _, rows = make_policy_check
    core = [r for r in rows if r["stack"] == DEFAULT_STACK]
    role = "arn:aws:iam::222222222222:role/xacct-stream-consumer-role"
    subscribe = [r for r in core if r["action"] == "kinesis:SubscribeToShard"]
    allowed = [r for r in subscribe if r["expected"] == "Allowed"]
    assert [(r["caller"], r["got"]) for r in allowed] == [(role, "Allowed")]
    # both the role's policy and the EFO consumer's resource policy are needed, and named
    assert allowed[0]["decided_by"] == ["identity read-shared-stream:ReadSharedStreamConsumer", "resource resource policy:ShareConsumerWithConsumerRole"]
    denied = {r["caller"]: r["got"] for r in subscribe if r["expected"] == "Denied"}
    assert denied == {
        "arn:aws:iam::444455556666:role/intruder": "Denied",
        "arn:aws:iam::222222222222:role/other-team": "Denied",
        "arn:aws:iam::222222222222:root": "Denied",
        role: "Denied",  # on another EFO consumer
    }
    # the stream key: only through Kinesis in this region
    (stream_key_decrypt,) = [r for r in core if r["action"] == "kms:Decrypt" and r["expected"] == "Allowed" and ":111111111111:key/" in r["resource"]]
    variants = {(r["context"]["kms:ViaService"], r["got"]) for r in core if r["resource"] == stream_key_decrypt["resource"] and r["caller"] == role}
    assert variants == {("kinesis.eu-west-1.amazonaws.com", "Allowed"), ("kinesis.us-east-1.amazonaws.com", "Denied")}
    # a reader of the shared stream cannot write to it
    (write,) = [r for r in core if r["action"] == "kinesis:PutRecord"]
    assert (write["caller"], write["expected"], write["got"]) == (role, "Denied", "Denied")


def test_firehose_and_external_id_calls(make_policy_check: tuple[Any, list[dict[str, Any]]]) -> None:
    _, rows = make_policy_check
    replication = [r for r in rows if r["stack"] == REPLICATION_STACK]
    kms = [r for r in replication if r["what"].startswith("S3 encrypts Firehose's objects (Bucket Key)") and r["action"] == "kms:GenerateDataKey"]
    by_variant = {r["what"]: (r["expected"], r["got"]) for r in kms if r["caller"].endswith(":role/xacct-web-analytics-archive-firehose")}
    assert by_variant == {
        "S3 encrypts Firehose's objects (Bucket Key)": ("Allowed", "Allowed"),
        "S3 encrypts Firehose's objects (Bucket Key) [on another resource of the kind]": ("Denied", "Denied"),
        "S3 encrypts Firehose's objects (Bucket Key) [through the service in another region]": ("Denied", "Denied"),
        "S3 encrypts Firehose's objects (Bucket Key) [another encryption context]": ("Denied", "Denied"),
    }
    sink = {r["what"]: r["got"] for r in replication if r["action"] == "sts:AssumeRole" and r["what"].startswith("xacct-replica-writer assumes the sink role")}
    externals = {what.removeprefix("xacct-replica-writer assumes the sink role with the external id"): got for what, got in sink.items()
                 if "external id]" in what or "[" not in what}
    assert externals == {"": "Allowed", " [without the external id]": "Denied", " [with a wrong external id]": "Denied"}


def test_cloudwatch_may_publish_each_alarm_and_use_the_topic_key_only_for_its_topic(library_outdir: Path) -> None:
    # GIVEN a stack's encrypted alarm topic (the provisioned variant: five alarms on the consumer)
    rows = _rows(_config(library_outdir, PROVISIONED_STACK), PROVISIONED_STACK)
    cloudwatch = [r for r in rows if r["caller"] == "cloudwatch.amazonaws.com"]
    allowed = [r for r in cloudwatch if r["expected"] == "Allowed"]
    assert {r["got"] for r in allowed} == {"Allowed"}
    # THEN each alarm may publish, as CloudWatch with the alarm as its source (the topic policy: this account's alarms)
    publish = [r for r in allowed if r["action"] == "sns:Publish"]
    assert len(publish) == 5 and {tuple(sorted(r["context"])) for r in publish} == {("aws:SourceAccount", "aws:SourceArn")}
    assert {r["context"]["aws:SourceArn"].split(":alarm:")[1] for r in publish} == {
        f"xacct-provisioned-stream-consumer-{suffix}" for suffix in ("iterator-age", "errors", "throttles", "dead-letter-messages", "on-failure-messages")}
    # AND an alarm of another account may not
    other_account = [r for r in cloudwatch if r["what"].endswith("[for another source account]")]
    assert len(other_account) == 5 and {r["got"] for r in other_account} == {"Denied"}
    # AND SNS may use the key for each publication, with exactly the context it sends (the topic ARN)
    kms = [r for r in allowed if r["action"].startswith("kms:")]
    assert len(kms) == 10 and {tuple(r["context"]) for r in kms} == {("kms:EncryptionContext:aws:sns:topicArn",)}  # 5 alarms x GenerateDataKey, Decrypt
    # AND not for another topic's messages (a confused deputy: another account's topic on this key)
    other_topic = [r for r in cloudwatch if r["what"].endswith("[another encryption context]")]
    assert len(other_topic) == 10 and {r["got"] for r in other_topic} == {"Denied"}
    assert all(r["ok"] for r in rows)


def _without_statement(config: dict[str, Any], type_: str, sid: str) -> dict[str, Any]:
    changed = copy.deepcopy(config)
    for body in changed["resource"][type_].values():
        document = json.loads(body["policy"])
        document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != sid]
        body["policy"] = json.dumps(document)
    return changed


def test_check_reports_a_removed_grant(cli_outdir: Path) -> None:
    # GIVEN the core stack whose EFO consumer policy no longer names the consumer role
    config = _without_statement(_config(cli_outdir, DEFAULT_STACK), "aws_kinesis_resource_policy", "ShareConsumerWithConsumerRole")
    # WHEN checked
    rows = _rows(config, DEFAULT_STACK)
    # THEN exactly the reads of the consumer are reported wrong: denied where they must be allowed
    wrong = sorted((r["action"], r["expected"], r["got"]) for r in rows if not r["ok"])
    assert wrong == [("kinesis:DescribeStreamConsumer", "Allowed", "Denied"), ("kinesis:SubscribeToShard", "Allowed", "Denied")]


def test_check_reports_a_wrong_condition(cli_outdir: Path) -> None:
    # GIVEN the replication stack with the key grant conditioned as before the fix (object ARNs)
    config = copy.deepcopy(_config(cli_outdir, REPLICATION_STACK))
    for body in config["resource"]["aws_iam_role_policy"].values():
        if "EncryptObjectsViaS3" in body["policy"]:
            document = json.loads(body["policy"])
            statement = next(s for s in document["Statement"] if s["Sid"] == "EncryptObjectsViaS3")
            (bucket,) = statement["Condition"].pop("ArnEquals").values()
            statement["Condition"]["ArnLike"] = {"kms:EncryptionContext:aws:s3:arn": f"{bucket}/*"}
            body["policy"] = json.dumps(document)
    # WHEN checked THEN the Firehose delivery's key use is reported denied
    wrong = [r for r in _rows(config, REPLICATION_STACK) if not r["ok"]]
    assert [(r["caller"], r["action"], r["what"], r["got"]) for r in wrong] == [
        ("arn:aws:iam::222222222222:role/xacct-web-analytics-archive-firehose", "kms:GenerateDataKey", "S3 encrypts Firehose's objects (Bucket Key)", "Denied")
    ]


def test_a_broader_grant_is_reported_too(cli_outdir: Path) -> None:
    # GIVEN the stream's resource policy opened to the consumer account's root
    config = copy.deepcopy(_config(cli_outdir, DEFAULT_STACK))
    for body in config["resource"]["aws_kinesis_resource_policy"].values():
        document = json.loads(body["policy"])
        document["Statement"][0]["Principal"] = {"AWS": "arn:aws:iam::222222222222:root"}
        body["policy"] = json.dumps(document)
    # WHEN checked THEN another role of the consumer account gets in: the denied variants say so
    wrong = {(r["caller"], r["expected"], r["got"]) for r in _rows(config, DEFAULT_STACK) if not r["ok"]}
    assert ("arn:aws:iam::222222222222:role/other-team", "Denied", "Allowed") in wrong
    assert ("arn:aws:iam::222222222222:root", "Denied", "Allowed") in wrong


def test_existing_streams_key_is_usable_through_the_grant_only_for_that_stream(library_outdir: Path) -> None:
    # GIVEN the quick start: an existing stream whose key this configuration shares with a KMS grant
    from conftest import EXISTING_STACK

    rows = _rows(_config(library_outdir, EXISTING_STACK), EXISTING_STACK)
    decrypt = {r["what"]: r["got"] for r in rows if r["action"] == "kms:Decrypt" and r["what"].startswith("Lambda decrypts the stream's records")}
    # THEN the reader decrypts the stream's records through Kinesis, and any other context, region,
    # principal or key is denied
    base = "Lambda decrypts the stream's records for orders-audit-stream-consumer"
    assert decrypt == {
        base: "Allowed",
        f"{base} [another encryption context]": "Denied",
        f"{base} [through the service in another region]": "Denied",
        f"{base} [on another resource of the kind]": "Denied",
        f"{base} [by a role in a third account, same identity policies]": "Denied",
        f"{base} [by another role of the caller's account, same identity policies]": "Denied",
        f"{base} [by the caller account's root]": "Denied",
    }
    reads = {r["action"] for r in rows if r["expected"] == "Allowed" and r["what"].startswith("Lambda reads")}
    assert reads == {"kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard", "kinesis:DescribeStream",
                     "kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:GetShardIterator", "kinesis:GetRecords"}
    assert all(r["ok"] for r in rows), [r["what"] for r in rows if not r["ok"]]


def test_fanout_readers_use_their_own_efo_consumer_and_no_other(library_outdir: Path) -> None:
    # GIVEN the fan-out example: analytics and billing through EFO in accounts of their own,
    # audit polling in the producer account
    from conftest import FANOUT_STACK

    rows = _rows(_config(library_outdir, FANOUT_STACK), FANOUT_STACK)
    # THEN every expected call is allowed and every variant denied
    assert all(r["ok"] for r in rows), [(r["what"], r["got"]) for r in rows if not r["ok"]][:5]
    subscribe = {r["what"]: r["got"] for r in rows if r["action"] == "kinesis:SubscribeToShard"}
    for reader in ("analytics", "billing"):
        own = f"Lambda reads the EFO consumer for orders-fanout-{reader}"
        assert subscribe[own] == "Allowed"
        others = {what: got for what, got in subscribe.items() if what.startswith(own + " [on ") and what.endswith("'s EFO consumer]")}
        # each reader is denied on the other reader's EFO consumer
        assert others == {f"{own} [on orders-fanout-{o}'s EFO consumer]": "Denied" for o in ("analytics", "billing") if o != reader}
    # every reader decrypts the stream's records, and none may write to the stream
    decrypt = {r["caller"].rsplit("/", 1)[-1] for r in rows if r["action"] == "kms:Decrypt" and r["expected"] == "Allowed" and "stream's records" in r["what"]}
    assert decrypt == {f"orders-fanout-{reader}-role" for reader in ("analytics", "billing", "audit")}
    writes = [r for r in rows if r["what"].endswith("[a write by a reader]")]
    assert len(writes) == 2 and {r["got"] for r in writes} == {"Denied"}
