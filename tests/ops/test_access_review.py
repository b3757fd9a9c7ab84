"""make access-review: who gains and who loses access, before and after a change."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, run_main
from xacct_ops.iam.resolver import stable_account_id
from xacct_ops.iam.sources import load_side
from xacct_ops.review.access import Access
from xacct_ops.review.decide import snapshot
from xacct_ops.review.diff import review

pytestmark = pytest.mark.slow  # five synths: make test

READERS = ["analytics", "billing"]
STREAM = "arn:aws:kinesis:eu-west-1:111111111111:stream/orders-fanout-fanout-stream"
PROVISIONED = 'stream_mode = "PROVISIONED"\nshard_count = 4\nmonthly_data_gb = 100\n'
READS = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]


def _fanout(readers: list[str], split: bool = False, memory: int | None = None, stream: str = "") -> str:
    lines = ['kind = "xacct-kinesis-fanout"', 'stack_name = "orders-fanout"', f"split = {str(split).lower()}", "consumers = ["]
    for name in readers:
        extra = f", function = {{ memory_size_mb = {memory} }}" if memory and name == "billing" else ""
        lines.append(f'  {{ name = "{name}", account = "{name}"{extra} }},')
    return "\n".join([*lines, "]", *([f"[stream]\n{stream}"] if stream else [])]) + "\n"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("access-review")
    variants = {
        "two": _fanout(READERS),
        "three": _fanout([*READERS, "search"]),
        "three-split": _fanout([*READERS, "search"], split=True),
        "more-memory": _fanout(READERS, memory=1024),
        "provisioned-two": _fanout(READERS, stream=PROVISIONED),
        "provisioned-three": _fanout([*READERS, "search"], stream=PROVISIONED),
    }
    out = {}
    for name, text in variants.items():
        (work / f"{name}.toml").write_text(text)
        result = run_main("--config", str(work / f"{name}.toml"), "--outdir", str(work / name))
        assert result.returncode == 0, result.stderr
        stacks = sorted((work / name / "stacks").iterdir())
        out[name] = work / name if len(stacks) > 1 else stacks[0]
    return out


def _review(before: Path, after: Path) -> Any:
    return review(snapshot(load_side(before)), snapshot(load_side(after)))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xacct_ops.access_review", *args], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "constructs"), "PATH": __import__("os").environ["PATH"]}, timeout=120)


def test_a_third_reader_adds_exactly_its_own_access(outputs: dict[str, Path]) -> None:
    # GIVEN a fan-out with two readers, then with a third (search)
    # WHEN reviewed
    result = _review(outputs["two"], outputs["three"])
    # THEN nothing is removed, and every added access is the new reader's: its role, its resources
    search_account = stable_account_id("search")
    role = f"arn:aws:iam::{search_account}:role/orders-fanout-search-role"
    assert result.removed == [] and result.unknown == [] and result.findings == []
    assert all(role == a.principal or search_account in a.resource for a in result.added), result.added
    # AND on the producer's side: its EFO consumer, the stream's reads, the stream key through Kinesis, nothing else
    producer_side = sorted((a.action, a.resource.replace(STREAM, "<stream>").split(":key/")[0], a.via) for a in result.added if a.account == "111111111111")
    assert producer_side == sorted([
        ("kinesis:DescribeStreamConsumer", "<stream>/consumer/orders-fanout-search:1767225600", ""),
        ("kinesis:SubscribeToShard", "<stream>/consumer/orders-fanout-search:1767225600", ""),
        *((action, "<stream>", "") for action in READS),
        ("kms:Decrypt", "arn:aws:kms:eu-west-1:111111111111", "kinesis"),
    ])
    assert {a.principal for a in result.added if a.account == "111111111111"} == {role}


def test_removing_a_reader_removes_exactly_its_access(outputs: dict[str, Path]) -> None:
    added = _review(outputs["two"], outputs["three"]).added
    result = _review(outputs["three"], outputs["two"])
    assert (result.added, result.removed, result.unknown) == ([], added, [])


def test_a_memory_change_is_no_access_change(outputs: dict[str, Path]) -> None:
    # GIVEN a reader's function given more memory (its configuration differs)
    assert (outputs["two"] / "cdk.tf.json").read_text() != (outputs["more-memory"] / "cdk.tf.json").read_text()
    # WHEN reviewed on the command line
    result = _cli("--before", str(outputs["two"]), "--after", str(outputs["more-memory"]))
    # THEN no access change, exit 0
    assert result.returncode == 0, result.stderr
    assert result.stdout == "## Access review\n\nNo access change.\n"


def test_split_plans_review_like_the_single_plan(outputs: dict[str, Path]) -> None:
    # GIVEN the same three readers as one plan and as a producer plan and three account plans
    single, split = snapshot(load_side(outputs["three"])), snapshot(load_side(outputs["three-split"]))
    # THEN the same access, entry for entry (the handoff's values wired between the plans)
    assert len(single.access) == 100
    assert single.access == split.access and single.unknown == split.unknown == set()


def _with_statement(source: Path, target: Path, statement: dict[str, Any]) -> Path:
    config = json.loads((source / "cdk.tf.json").read_text())
    (address, body), = [(k, v) for k, v in config["resource"]["aws_kinesis_resource_policy"].items() if "stream-policy" in k]
    policy = json.loads(body["policy"])
    policy["Statement"].append(statement)
    body["policy"] = json.dumps(policy)
    target.mkdir(parents=True)
    (target / "cdk.tf.json").write_text(json.dumps(config))
    return target


@pytest.mark.parametrize(
    ("principal", "action", "rule"),
    [
        pytest.param({"AWS": f"arn:aws:iam::{stable_account_id('billing')}:root"}, "kinesis:GetRecords", "another account's root", id="account-root"),
        pytest.param({"AWS": stable_account_id("billing")}, "kinesis:GetRecords", "another account's root", id="bare-account-id"),
        pytest.param("*", "kinesis:GetRecords", "wildcard principal", id="wildcard-principal"),
        pytest.param({"AWS": f"arn:aws:iam::{stable_account_id('billing')}:role/orders-fanout-billing-role"}, "kinesis:*", "wildcard action", id="wildcard-action"),
        pytest.param({"AWS": "arn:aws:iam::999988887777:role/partner"}, "kinesis:GetRecords", "principal outside the declared accounts", id="undeclared-account"),
    ],
)
def test_a_grant_too_wide_fails_the_review_naming_it(outputs: dict[str, Path], tmp_path: Path, principal: Any, action: str, rule: str) -> None:
    # GIVEN the stream policy with one more statement
    after = _with_statement(outputs["two"], tmp_path / "after", {"Sid": "Extra", "Effect": "Allow", "Principal": principal, "Action": action, "Resource": STREAM})
    # WHEN reviewed
    result = _cli("--before", str(outputs["two"]), "--after", str(after), "--format", "json")
    # THEN exit 1, the finding named with the access it is about
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    expected_principal = "*" if principal == "*" else principal["AWS"] if ":" in principal["AWS"] else f"arn:aws:iam::{principal['AWS']}:root"
    row = {"principal": expected_principal, "action": action, "resource": STREAM, "account": "111111111111", "granted_by": "resource policy"}
    assert report["findings"] == [{"rule": rule, **row}]
    assert row in report["added"]


@pytest.mark.parametrize(
    ("statement", "rule", "principal", "action"),
    [
        pytest.param({"Principal": {"AWS": "arn:aws:iam::111111111111:role/ops"}, "NotAction": "kinesis:DeleteStream"},
                     "wildcard action", "arn:aws:iam::111111111111:role/ops", "NotAction kinesis:DeleteStream", id="not-action"),
        pytest.param({"NotPrincipal": {"AWS": "arn:aws:iam::111111111111:role/ops"}, "Action": "kinesis:GetRecords"},
                     "wildcard principal", 'NotPrincipal {"AWS": "arn:aws:iam::111111111111:role/ops"}', "kinesis:GetRecords", id="not-principal"),
    ],
)
def test_an_allow_of_all_but_something_is_listed_as_written_and_fails(outputs: dict[str, Path], tmp_path: Path, statement: dict[str, Any],
                                                                     rule: str, principal: str, action: str) -> None:
    # GIVEN an Allow with NotAction or NotPrincipal in the stream policy (it grants all it does not name)
    after = _with_statement(outputs["two"], tmp_path / "after", {"Sid": "Broad", "Effect": "Allow", "Resource": STREAM, **statement})
    # WHEN reviewed
    result = _review(outputs["two"], after)
    # THEN the statement is an added entry as written, and a finding
    entry = Access(STREAM, principal, action, "", "111111111111")
    assert result.added == [entry]
    assert [(f.rule, f.access) for f in result.findings] == [(rule, entry)]


def test_a_bucket_is_owned_by_the_account_whose_provider_creates_it(cli_outdir: Path) -> None:
    # GIVEN the replication stack: Firehose's role writes the archive bucket (S3 ARNs name no account)
    access = snapshot(load_side(cli_outdir / "stacks" / "xacct-kinesis-replication")).access
    # THEN its writes are listed, the bucket in the consumer account
    firehose = "arn:aws:iam::222222222222:role/xacct-web-analytics-archive-firehose"
    objects = "arn:aws:s3:::xacct-web-analytics-222222222222-eu-west-1/*"
    assert {a.action for a in access if a.principal == firehose and a.resource == objects} == {"s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"}
    assert {a.account for a in access if a.resource.startswith("arn:aws:s3:::")} == {"222222222222"}


def test_the_markdown_puts_added_access_first_one_table_per_resource(outputs: dict[str, Path]) -> None:
    text = _review(outputs["two"], outputs["three"]).markdown()
    assert text.startswith("## Access review\n\n33 added, 0 removed, 0 unknown.\n")
    assert f"### `{STREAM}` (account 111111111111)\n\n| change | principal | action | granted by | via |\n|---|---|---|---|---|\n" in text
    assert text.count("### ") == 13  # twelve resources (X-Ray's "*", the log group's streams, the new account's alarm topic and its key among them) and the enhanced fan-out table


def test_an_empty_state_is_nothing_yet(outputs: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("")
    result = _review(tmp_path / "state.json", outputs["two"])
    assert result.removed == [] and len(result.added) == len(snapshot(load_side(outputs["two"])).access)
    assert Access(STREAM, f"arn:aws:iam::{stable_account_id('billing')}:role/orders-fanout-billing-role", "kinesis:GetRecords", "", "111111111111") in result.added


def test_unusable_input_is_one_line_exit_2(tmp_path: Path) -> None:
    result = _cli("--before", str(tmp_path / "nope"), "--after", str(tmp_path))
    assert (result.returncode, result.stderr.strip()) == (2, f"error: {tmp_path / 'nope'}: no such file or directory")


def test_a_new_efo_reader_is_priced(outputs: dict[str, Path]) -> None:
    # GIVEN a provisioned stream of 4 shards carrying 100 GB a month ([stream] monthly_data_gb), a third reader
    result = _review(outputs["provisioned-two"], outputs["provisioned-three"])
    # THEN one more EFO consumer: 4 x 730 consumer-shard hours at 0.015 and 100 GB at 0.013 a month
    assert result.efo_cost == [{
        "stream": STREAM, "mode": "PROVISIONED", "shards": 4, "efo_consumers_before": 2, "efo_consumers_after": 3,
        "consumer_shard_hours_per_month": 2920, "retrieval_gb_per_month": 100.0, "usd_per_month": 45.10,
    }]
    assert "| 2 -> 3 | +2,920 | +100 | +45.10 |" in result.markdown()


def test_an_on_demand_reader_without_a_usage_figure_costs_nothing_known(outputs: dict[str, Path]) -> None:
    # GIVEN the default on-demand stream and no monthly_data_gb: no shard hours, retrieval not priced
    (row,) = _review(outputs["two"], outputs["three"]).efo_cost
    assert (row["mode"], row["consumer_shard_hours_per_month"], row["retrieval_gb_per_month"], row["usd_per_month"]) == ("ON_DEMAND", 0, 0, 0)
    # AND a change that adds no EFO consumer prices nothing
    assert _review(outputs["two"], outputs["more-memory"]).efo_cost == []


def _plan_of(config: dict[str, Any], producer: str, consumer: str, leave_out: str = "") -> dict[str, Any]:
    """A `terraform show -json` plan of a first apply of `config` (every value computed), as Terraform
    writes one: resource_changes, the variables, each provider's allowed_account_ids reference."""
    changes = [{"address": f"{type_}.{name}", "mode": "managed", "type": type_, "name": name,
                "change": {"actions": ["create"], "after": {}, "after_unknown": {}}}
               for type_, group in config["resource"].items() for name in group if not (leave_out and type_ == leave_out)]
    providers = {f"aws.{p['alias']}": {"name": "aws", "alias": p["alias"], "expressions": {
        "allowed_account_ids": {"references": [f"var.{p['alias']}_account_id"]}}} for p in config["provider"]["aws"]}
    return {"format_version": "1.2", "resource_changes": changes, "configuration": {"provider_config": providers},
            "variables": {"producer_account_id": {"value": producer}, "consumer_account_id": {"value": consumer}, "region": {"value": "eu-west-1"}}}


def test_a_plan_is_read_with_its_variables_and_only_what_it_creates(cli_outdir: Path, tmp_path: Path) -> None:
    # GIVEN the core stack's first plan for accounts 999999999999 / 888888888888, next to its configuration
    config = json.loads((cli_outdir / "stacks" / "xacct-kinesis-efo" / "cdk.tf.json").read_text())
    (tmp_path / "cdk.tf.json").write_text(json.dumps(config))
    (tmp_path / "plan.json").write_text(json.dumps(_plan_of(config, "999999999999", "888888888888")))
    (tmp_path / "empty.json").write_text("")
    # WHEN reviewed against nothing
    result = _review(tmp_path / "empty.json", tmp_path / "plan.json")
    # THEN the stream's reads are the consumer role's, in the tfvars' accounts; a new key's are unknown, by address
    role = "arn:aws:iam::888888888888:role/xacct-stream-consumer-role"
    stream = "arn:aws:kinesis:eu-west-1:999999999999:stream/xacct-shared-stream"
    assert sorted(a.action for a in result.added if a.resource == stream) == READS
    assert {a.principal for a in result.added if a.resource == stream} == {role}
    assert {a.resource for a in result.unknown if a.action == "kms:Decrypt" and a.via == "kinesis"} == {
        next(f"aws_kms_key.{name}.arn (known after apply)" for name in config["resource"]["aws_kms_key"] if name.startswith("shared-stream"))}
    # WHEN the plan does not create the stream's resource policy (a count of 0)
    (tmp_path / "plan.json").write_text(json.dumps(_plan_of(config, "999999999999", "888888888888", leave_out="aws_kinesis_resource_policy")))
    # THEN the role in the other account cannot read the stream: its own policy is not enough
    assert [a for a in _review(tmp_path / "empty.json", tmp_path / "plan.json").added if a.resource == stream] == []


def _edited(stack_dir: Path, target: Path, edit: Any) -> Path:
    """A copy of a synthesized stack with `edit(config)` applied, as a reviewer's hand edit would be."""
    config = json.loads((stack_dir / "cdk.tf.json").read_text())
    edit(config)
    target.mkdir(parents=True)
    (target / "cdk.tf.json").write_text(json.dumps(config))
    return target


def _edit_policy(config: dict[str, Any], type_: str, name_part: str, change: Any, argument: str = "policy") -> None:
    ((name, body),) = [(n, b) for n, b in config["resource"][type_].items() if name_part in n]
    document = json.loads(body[argument])
    change(document["Statement"])
    body[argument] = json.dumps(document)


CORE_READER = "arn:aws:iam::222222222222:role/xacct-stream-consumer-role"
CORE_STREAM = "arn:aws:kinesis:eu-west-1:111111111111:stream/xacct-shared-stream"


def test_a_stream_policy_grant_to_the_readers_role_is_its_access_whatever_its_own_policy_says(cli_outdir: Path, tmp_path: Path) -> None:
    # GIVEN the core stack's stream policy giving the consumer account's reader role kinesis:PutRecord
    # (its own policy, in the plan, grants only reads)
    before = cli_outdir / "stacks" / "xacct-kinesis-efo"
    after = _edited(before, tmp_path / "after", lambda c: _edit_policy(
        c, "aws_kinesis_resource_policy", "stream-policy", lambda statements: statements[0]["Action"].append("kinesis:PutRecord")))
    # WHEN reviewed
    result = _cli("--before", str(before), "--after", str(after), "--format", "json")
    # THEN the role may put records: the stream's policy grants it, and its account controls the rest
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["added"] == [{"principal": CORE_READER, "action": "kinesis:PutRecord", "resource": CORE_STREAM, "account": "111111111111",
                                "granted_by": "resource policy"}]
    assert (report["removed"], report["changed"], report["findings"]) == ([], [], [])


def test_a_second_role_of_the_consumer_account_in_the_stream_policy_gets_every_action_listed(cli_outdir: Path, tmp_path: Path) -> None:
    # GIVEN the API stack's stream policy naming the authorizer's role too, a role the plan creates in
    # the consumer account whose own policy has no stream action
    authorizer = "arn:aws:iam::222222222222:role/xacct-ingest-authorizer-role"
    before = cli_outdir / "stacks" / "xacct-api-ingest"

    def add_role(statements: list[dict[str, Any]]) -> None:
        statements[0]["Principal"]["AWS"] = [statements[0]["Principal"]["AWS"], "${aws_iam_role.authorizer-function_role_7D477A61.arn}"]

    after = _edited(before, tmp_path / "after", lambda c: _edit_policy(c, "aws_kinesis_resource_policy", "stream-policy", add_role))
    # WHEN reviewed
    result = _review(before, after)
    # THEN every action the statement names is the authorizer role's, granted by the stream's policy
    stream = "arn:aws:kinesis:eu-west-1:111111111111:stream/xacct-ingest-events"
    assert [(a.principal, a.action, a.resource, a.granted_by) for a in result.added] == [
        (authorizer, action, stream, "resource policy") for action in READS]
    assert result.findings == [] and result.identity_only_added == []


def test_a_lambda_permission_for_anyone_is_a_finding_not_a_crash(cli_outdir: Path, tmp_path: Path) -> None:
    # GIVEN the core stack with a Lambda permission letting "*" invoke the consumer function
    before = cli_outdir / "stacks" / "xacct-kinesis-efo"

    def permission(config: dict[str, Any]) -> None:
        (function,) = config["resource"]["aws_lambda_function"]
        config["resource"]["aws_lambda_permission"] = {"anyone": {
            "function_name": f"${{aws_lambda_function.{function}.function_name}}", "principal": "*",
            "action": "lambda:InvokeFunction", "statement_id": "Anyone", "provider": "aws.consumer"}}

    after = _edited(before, tmp_path / "after", permission)
    # WHEN reviewed
    result = _cli("--before", str(before), "--after", str(after), "--format", "json")
    # THEN exit 1 with the finding (it stopped with "no row for * lambda:InvokeFunction", exit 2)
    assert result.returncode == 1, result.stderr
    function_arn = "arn:aws:lambda:eu-west-1:222222222222:function:xacct-stream-consumer"
    assert json.loads(result.stdout)["findings"] == [{"rule": "wildcard principal", "principal": "*", "action": "lambda:InvokeFunction",
                                                      "resource": function_arn, "account": "222222222222", "granted_by": "resource policy"}]


def test_a_condition_the_review_cannot_establish_is_not_decided_and_fails(cli_outdir: Path, tmp_path: Path) -> None:
    # GIVEN a stream policy statement for another account's role, conditioned on its source IP
    before = cli_outdir / "stacks" / "xacct-kinesis-efo"
    statement = {"Sid": "ByIp", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:role/analyst"}, "Action": "kinesis:GetRecords",
                 "Resource": CORE_STREAM.replace("111111111111", "${var.producer_account_id}").replace("eu-west-1", "${var.region}"),
                 "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}
    after = _edited(before, tmp_path / "after", lambda c: _edit_policy(
        c, "aws_kinesis_resource_policy", "stream-policy", lambda statements: statements.append(statement)))
    # WHEN reviewed
    result = _review(before, after)
    # THEN listed as unknown, saying why, and a finding: never silently dropped as denied
    assert [(a.principal, a.action, a.granted_by) for a in result.unknown] == [
        ("arn:aws:iam::222222222222:role/analyst", "kinesis:GetRecords",
         "not decided: it depends on condition keys this review cannot establish for arn:aws:iam::222222222222:role/analyst: aws:SourceIp")]
    assert [f.rule for f in result.findings] == ["not decided by the review"]


def test_dropping_the_readers_own_policy_changes_what_grants_its_access(cli_outdir: Path, tmp_path: Path) -> None:
    # GIVEN the reader role's own stream-read statement dropped: the stream's policy still names it
    before = cli_outdir / "stacks" / "xacct-kinesis-efo"
    after = _edited(before, tmp_path / "after", lambda c: _edit_policy(
        c, "aws_iam_role_policy", "stream-read-policy", lambda statements: statements.pop(0)))
    # WHEN reviewed
    result = _review(before, after)
    # THEN the reads are still the role's (its account may give them back any time), now granted by the resource policy alone
    assert [(b.action, b.granted_by, a.granted_by) for b, a in result.changed] == [(action, "both", "resource policy") for action in READS]
    assert (result.added, result.removed, result.findings) == ([], [], [])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"\xff\xfe not text", "cannot read it (UnicodeDecodeError", id="binary"),
        pytest.param(b"{not json", "not JSON (", id="not-json"),
        pytest.param(b"[1, 2]", "not a plan, a state or a stack", id="a-list"),
        pytest.param(b'{"format": "something else"}', "not a plan, a state or a stack (no resource_changes", id="other-json"),
    ],
)
def test_input_that_is_no_plan_state_or_stack_is_one_line_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "side.json").write_bytes(content)
    (tmp_path / "empty.json").write_text("")
    result = _cli("--before", str(tmp_path / "empty.json"), "--after", str(tmp_path / "side.json"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {tmp_path / 'side.json'}: {message}"), result.stderr


def test_a_policy_that_is_not_json_is_one_line_exit_2_naming_the_stack(cli_outdir: Path, tmp_path: Path) -> None:
    def broken(config: dict[str, Any]) -> None:
        (name,) = [n for n in config["resource"]["aws_kinesis_resource_policy"] if "stream-policy" in n]
        config["resource"]["aws_kinesis_resource_policy"][name]["policy"] = '{"Statement": [ broken'

    after = _edited(cli_outdir / "stacks" / "xacct-kinesis-efo", tmp_path / "after", broken)
    result = _cli("--before", str(after), "--after", str(after))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {after}: a policy is not JSON ("), result.stderr
