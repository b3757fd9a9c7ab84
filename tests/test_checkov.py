"""The custom checks on hand-made cases, and `make scan` on the real output."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import ROOT, VENV_BIN_DIR, run_make

FIXTURES = Path(__file__).parent / "checkov_fixtures"
CUSTOM = ("CKV_XACCT_1", "CKV_XACCT_2", "CKV_XACCT_3", "CKV_XACCT_4")


@pytest.fixture(scope="module")
def case_results() -> dict[str, tuple[str, str]]:
    """resource name -> (check id, PASSED|FAILED) for every case in cases.tf.json, in one checkov run."""
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
    report = json.loads(result.stdout)
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


def test_make_scan_passes_on_the_synthesized_stacks_and_writes_reports(cli_outdir: Path, tmp_path: Path) -> None:
    # GIVEN every stack synthesized with its defaults WHEN `make scan` runs on them
    reports = tmp_path / "reports"
    result = run_make("scan", OUTDIR=cli_outdir, REPORTS=reports)
    # THEN nothing fails, the custom checks ran, and the CI reports exist
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = re.search(r"Passed checks: (\d+), Failed checks: (\d+), Skipped checks: (\d+)", result.stdout)
    assert summary is not None, result.stdout
    passed, failed, _ = map(int, summary.groups())
    assert failed == 0 and passed >= 40
    suite = ET.parse(reports / "checkov.junit.xml").getroot()
    names = [case.get("name", "") for case in suite.iter("testcase")]
    assert len(names) == passed
    for check in CUSTOM:
        assert any(f"[{check}]" in n for n in names), f"{check} did not run"
    # the stream's and the EFO consumer's resource policies, in the core stack and in xacct-api-ingest
    assert sum("[CKV_XACCT_1]" in n for n in names) == 4
    sarif = json.loads((reports / "checkov.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []


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
    assert "CKV_XACCT_2" in result.stdout


def test_make_scan_passes_on_the_variant_with_alarm_topic_and_cross_account_sink(library_outdir: Path, tmp_path: Path) -> None:
    result = run_make("scan", OUTDIR=library_outdir, REPORTS=tmp_path / "reports")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert re.search(r"Passed checks: \d+, Failed checks: 0,", result.stdout), result.stdout
