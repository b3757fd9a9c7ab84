"""The custom checks on hand-made cases, and `make scan` on the real output."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import ROOT, TESTS, VENV_BIN_DIR, built_once, run_make
from xacct_ops import scan

FIXTURES = TESTS / "checkov_fixtures"
CUSTOM = ("CKV_XACCT_1", "CKV_XACCT_2", "CKV_XACCT_3", "CKV_XACCT_4")


def _run_custom_checks(target: Path) -> None:
    result = subprocess.run(
        [
            str(VENV_BIN_DIR / "checkov"),
            "-f", "cases.tf.json",
            "--framework", "terraform_json",
            "--skip-download",
            "--external-checks-dir", str(ROOT / "constructs" / "xacct_checks"),
            "--check", ",".join(CUSTOM),
            "-o", "json",
        ],
        cwd=FIXTURES,  # away from the repo's .checkov.yaml, which hides passed checks
        capture_output=True,
        text=True,
        timeout=300,
    )
    (target / "report.json").write_text(result.stdout)


@pytest.fixture(scope="module")
def case_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    """resource name -> (check id, PASSED|FAILED) for every case in cases.tf.json, in one checkov run."""
    report = json.loads((built_once(tmp_path_factory, "checkov-cases", _run_custom_checks) / "report.json").read_text())
    out: dict[str, tuple[str, str]] = {}
    for key, verdict in (("passed_checks", "PASSED"), ("failed_checks", "FAILED")):
        for check in report["results"].get(key, []):
            name = check["resource"].rsplit(".", 1)[1]
            assert name not in out, f"{name} evaluated twice"
            out[name] = (check["check_id"], verdict)
    return out


def _cases() -> list[tuple[str, str]]:
    document = json.loads((FIXTURES / "cases.tf.json").read_text())
    return [(type_, name) for type_, resources in document["resource"].items() for name in resources]


EXPECTED_CHECK = {
    "aws_kinesis_resource_policy": "CKV_XACCT_1",
    "aws_kinesis_stream": "CKV_XACCT_2",
    "aws_lambda_event_source_mapping": "CKV_XACCT_3",
    "aws_kms_key": "CKV_XACCT_4",
    "aws_kms_key_policy": "CKV_XACCT_4",
}


@pytest.mark.parametrize(("type_", "name"), _cases(), ids=[f"{t}.{n}" for t, n in _cases()])
def test_custom_check_verdict(case_results: dict[str, tuple[str, str]], type_: str, name: str) -> None:
    # GIVEN a case named pass_*, fail_* or ignored_* in cases.tf.json
    # WHEN checkov runs the custom checks (fixture) THEN
    if name.startswith("ignored_"):
        assert name not in case_results
        return
    expected = "PASSED" if name.startswith("pass_") else "FAILED"
    assert case_results[name] == (EXPECTED_CHECK[type_], expected)


def test_every_check_has_a_passing_and_a_failing_case(case_results: dict[str, tuple[str, str]]) -> None:
    verdicts = {(check, verdict) for check, verdict in case_results.values()}
    assert verdicts == {(c, v) for c in CUSTOM for v in ("PASSED", "FAILED")}


SUMMARY = re.compile(r"terraform_json scan results: Passed checks: (\d+), Failed checks: (\d+), Exempted checks: (\d+)")


@pytest.mark.slow  # checkov over whole stacks: a scan, in make test
def test_make_scan_passes_on_the_synthesized_stacks_and_writes_reports(cli_outdir: Path, tmp_path: Path) -> None:
    # GIVEN every stack synthesized with its defaults WHEN `make scan` runs on them
    reports = tmp_path / "reports"
    result = run_make("scan", OUTDIR=cli_outdir, REPORTS=reports, VERBOSE=1)
    # THEN nothing fails; the counts are exactly those of the five stacks
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = SUMMARY.search(result.stdout)
    assert summary is not None, result.stdout
    assert tuple(map(int, summary.groups())) == (460, 0, 25)
    # AND every exemption printed names its check, the one resource and why
    assert "exempt  CKV_AWS_116  aws_lambda_function authorizer-function/function in xacct-api-ingest: Dead-letter queue on the API's authorizer" in result.stdout
    assert sum(line.startswith("exempt  CKV_AWS_117  aws_lambda_function ") for line in result.stdout.splitlines()) == 7  # every function
    # AND the CI reports: every check a test case, exempted ones skipped with their justification
    suite = ET.parse(reports / "checkov.junit.xml").getroot()
    cases = list(suite.iter("testcase"))
    skipped = [case.find("skipped") for case in cases if case.find("skipped") is not None]
    assert (len(cases), len(skipped), sum(case.find("failure") is not None for case in cases)) == (485, 25, 0)
    assert all(s.get("message") for s in skipped)
    names = [case.get("name", "") for case in cases]
    for check in CUSTOM:
        assert any(f"[{check}]" in n for n in names), f"{check} did not run"
    # the stream's and the EFO consumer's resource policies, in the core stack and in xacct-api-ingest
    assert sum("[CKV_XACCT_1]" in n for n in names) == 4
    sarif = json.loads((reports / "checkov.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert sarif["version"] == "2.1.0" and len(results) == 25
    assert all(r["suppressions"][0]["kind"] == "external" and r["suppressions"][0]["justification"] for r in results)


@pytest.mark.slow  # checkov over whole stacks: a scan, in make test
def test_an_exemption_holds_only_for_its_resource(cli_outdir: Path, tmp_path: Path) -> None:
    # GIVEN the core stack with a second bucket, unlogged like the exempted archive bucket
    outdir = tmp_path / "out"
    stack_dir = outdir / "stacks" / "xacct-kinesis-efo"
    shutil.copytree(cli_outdir / "stacks" / "xacct-kinesis-efo", stack_dir)
    config = json.loads((stack_dir / "cdk.tf.json").read_text())
    config["resource"]["aws_s3_bucket"] = {
        "audit_bucket_0A1B2C3D": {"//": {"metadata": {"path": "xacct-kinesis-efo/audit/bucket"}}, "bucket": "audit", "provider": "aws.consumer"}
    }
    (stack_dir / "cdk.tf.json").write_text(json.dumps(config, indent=2))
    # WHEN
    result = run_make("scan", OUTDIR=outdir, REPORTS=tmp_path / "reports", VERBOSE=1)
    # THEN the archive bucket's exemptions do not cover it: the scan fails naming it
    assert result.returncode != 0
    assert "FAILED  CKV_AWS_18   aws_s3_bucket audit/bucket in xacct-kinesis-efo" in result.stdout
    assert "exempt  CKV_AWS_18" not in result.stdout


def test_exemption_matches_check_type_and_construct_path() -> None:
    (exemption,) = [e for e in scan.EXEMPTIONS if e.check_id == "CKV_AWS_18"]
    assert exemption.covers("CKV_AWS_18", "aws_s3_bucket", "delivery/bucket")
    assert not exemption.covers("CKV_AWS_18", "aws_s3_bucket", "audit/bucket")
    assert not exemption.covers("CKV_AWS_144", "aws_s3_bucket", "audit/bucket")
    assert not exemption.covers("CKV_AWS_18", "aws_s3_bucket_logging", "delivery/bucket")


def test_vpc_exemption_holds_only_for_functions_outside_a_vpc() -> None:
    (exemption,) = [e for e in scan.EXEMPTIONS if e.check_id == "CKV_AWS_117"]
    assert exemption.covers("CKV_AWS_117", "aws_lambda_function", "consumer-function/function", {"function_name": "f"})
    assert not exemption.covers("CKV_AWS_117", "aws_lambda_function", "consumer-function/function", {"vpc_config": {"subnet_ids": ["subnet-1"]}})




@pytest.mark.slow  # checkov over whole stacks: a scan, in make test
def test_make_scan_fails_on_a_failed_check(tmp_path: Path) -> None:
    # GIVEN an output dir holding a stream on the AWS-managed key
    stack = tmp_path / "out" / "stacks" / "bad"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(
        json.dumps({"resource": {"aws_kinesis_stream": {"s": {"name": "s", "encryption_type": "KMS", "kms_key_id": "alias/aws/kinesis"}}}})
    )
    # WHEN
    result = run_make("scan", OUTDIR=tmp_path / "out", REPORTS=tmp_path / "r")
    # THEN
    assert result.returncode != 0
    assert "FAILED  CKV_XACCT_2  aws_kinesis_stream s in bad" in result.stdout


@pytest.mark.slow  # checkov over whole stacks: a scan, in make test
def test_make_scan_passes_on_the_variant_with_alarm_topic_and_cross_account_sink(library_outdir: Path, tmp_path: Path) -> None:
    # the core stack, its provisioned variant with an alarm topic, a VPC function and a sink in a third
    # account, the API stack managing the account's logging role, the quick start (own handler on
    # an existing stream, whose stream policy stays its owner's: not in the plan), the fan-out example (three functions in three accounts) and the same split
    # into three plans (its producer's policies name readers by the handed-over role variable)
    result = run_make("scan", OUTDIR=library_outdir, REPORTS=tmp_path / "reports", VERBOSE=1)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = SUMMARY.search(result.stdout)
    assert summary is not None and tuple(map(int, summary.groups())) == (635, 0, 29), result.stdout
    # the VPC function passes CKV_AWS_117 itself; only the functions outside a VPC are exempted
    assert "exempt  CKV_AWS_117  aws_lambda_function consumer-function/function in xacct-provisioned" not in result.stdout
    assert "exempt  CKV_AWS_117  aws_lambda_function consumer-function/function in xacct-kinesis-efo" in result.stdout


@pytest.mark.slow  # checkov over whole stacks: a scan, in make test
def test_make_scan_is_quiet_and_skipped_when_nothing_changed(cli_outdir: Path, tmp_path: Path) -> None:
    # GIVEN a copy of the stacks, scanned once without VERBOSE
    outdir, reports = tmp_path / "out", tmp_path / "reports"
    shutil.copytree(cli_outdir, outdir, ignore=shutil.ignore_patterns(".terraform"))
    first = run_make("scan", OUTDIR=outdir, REPORTS=reports)
    # THEN no exemption is listed, only counted, with where to find them
    assert first.returncode == 0, first.stdout[-2000:]
    assert "exempt  " not in first.stdout
    assert "Exempted checks: 25 (each with its justification: make scan VERBOSE=1, or the SARIF report)" in first.stdout
    # WHEN nothing changed THEN the scan is skipped
    second = run_make("scan", OUTDIR=outdir, REPORTS=reports)
    assert second.returncode == 0 and "scan: nothing changed since the last passing scan" in second.stdout
    # AND a changed stack is scanned again
    config = outdir / "stacks" / "xacct-kinesis-efo" / "cdk.tf.json"
    config.write_text(config.read_text().replace('"retention_period": 24', '"retention_period": 48'))
    third = run_make("scan", OUTDIR=outdir, REPORTS=reports)
    assert third.returncode == 0 and "terraform_json scan results: Passed checks: 460" in third.stdout
