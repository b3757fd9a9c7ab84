"""`make scan`: checkov on every synthesized stack, with exemptions that hold for one resource each.

checkov's `skip-check` is global (a skip justified for one bucket would exempt every bucket of
every stack), inline skip comments do not exist in Terraform JSON, and its baseline drops every
passed check from the report. So checkov runs with no skip at all, and a failed check is accepted
only where EXEMPTIONS names that check for that resource: its type and its construct path (the
`//` metadata cdktf writes, e.g. `delivery/bucket`), with the justification. Anything else that
fails, fails the scan.

    python -m xacct_ops.scan --stacks-dir cdktf.out/stacks --reports reports
    python -m xacct_ops.scan --plan plan.json --stack-dir cdktf.out/stacks/<stack>   # a plan's values

Writes checkov's JSON, a JUnit XML (an exempted failure is a skipped test case carrying its
justification) and SARIF (an exempted result carries a suppression with the justification).
Exit status 1 on any failure that no exemption names, 2 when there is nothing to scan.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Exemption:
    check_id: str
    resource_type: str
    construct_path: str  # fnmatch pattern on the path below the stack, e.g. "delivery/bucket"
    justification: str
    # The resource's arguments must also have this shape (None: any resource of that type and path).
    applies: Optional[Callable[[dict[str, Any]], bool]] = None

    def covers(self, check_id: str, resource_type: str, construct_path: str, body: Optional[dict[str, Any]] = None) -> bool:
        return (
            (check_id, resource_type) == (self.check_id, self.resource_type)
            and fnmatch.fnmatchcase(construct_path, self.construct_path)
            and (self.applies is None or self.applies(body or {}))
        )


def _not_in_a_vpc(body: dict[str, Any]) -> bool:
    return "vpc_config" not in body


_ARCHIVE_BUCKET = "S3DeliveryStream's archive bucket (xacct-kinesis-replication)"
_INGEST_API = "BasicAuthStreamApi's stage (xacct-api-ingest)"
EXEMPTIONS: tuple[Exemption, ...] = (
    Exemption("CKV_AWS_117", "aws_lambda_function", "*", "Lambda in a VPC, for functions that did not opt in (function.subnet_ids): they only call AWS APIs; a VPC would add NAT gateways or endpoints and no isolation.", _not_in_a_vpc),
    Exemption("CKV_AWS_272", "aws_lambda_function", "*", "Code signing: the package is built from this repository by the pipeline that deploys it; no signer profile exists yet."),
    Exemption("CKV_AWS_115", "aws_lambda_function", "authorizer-function/function", "Function-level concurrency limit on the API's authorizer (unreserved by default): API Gateway calls it for every request, so a reservation below the stage's burst fails requests; the stage's throttling (rate and burst) bounds it instead.",
              lambda body: "reserved_concurrent_executions" not in body),
    Exemption("CKV_AWS_116", "aws_lambda_function", "authorizer-function/function", "Dead-letter queue on the API's authorizer: API Gateway calls it synchronously and waits, so there is no asynchronous invocation to retry or park."),
    Exemption("CKV_AWS_18", "aws_s3_bucket", "delivery/bucket", f"Access logging of {_ARCHIVE_BUCKET}: needs a second, log bucket per account; CloudTrail data events are the audit trail."),
    Exemption("CKV_AWS_144", "aws_s3_bucket", "delivery/bucket", f"Cross-region replication of {_ARCHIVE_BUCKET}: the archive is rebuilt from the replica table (point-in-time recovery on); a second region is a cost decision."),
    Exemption("CKV2_AWS_62", "aws_s3_bucket", "delivery/bucket", f"Event notifications of {_ARCHIVE_BUCKET}: nothing consumes the objects' creation events; Firehose has its own error log."),
    Exemption("CKV_AWS_120", "aws_api_gateway_stage", "api/stage", f"Caching on {_INGEST_API}: every request is a distinct write to the stream; nothing to cache."),
    Exemption("CKV_AWS_225", "aws_api_gateway_method_settings", "api/method-settings", "Caching in the ingest API's method settings: every request is a distinct write to the stream; nothing to cache."),
    Exemption("CKV2_AWS_51", "aws_api_gateway_stage", "api/stage", f"Client certificate on {_INGEST_API}: the integration is an AWS service call signed with a role, not an HTTP backend."),
    Exemption("CKV2_AWS_4", "aws_api_gateway_stage", "api/stage", f"Execution logging level on {_INGEST_API}: execution logs would hold request bodies; JSON access logs are on."),
    Exemption("CKV2_AWS_29", "aws_api_gateway_stage", "api/stage", f"WAF on {_INGEST_API}: a web ACL is an account-level cost and ownership decision; stage throttling and basic auth are on."),
    Exemption("CKV2_AWS_57", "aws_secretsmanager_secret", "api/secret", "Automatic rotation of the ingest API's basic-auth secret: the password is shared with callers, so rotating it needs them updated too (operators rotate by raising api.password_version, a reviewed plan that writes a fresh password; the authorizer takes it at once and the old one for a grace window)."),
)


@dataclass(frozen=True)
class Finding:
    check_id: str
    stack: str
    resource_type: str
    construct_path: str
    file_path: str
    lines: tuple[int, int]
    exemption: Optional[Exemption]

    @property
    def where(self) -> str:
        return f"{self.resource_type} {self.construct_path} in {self.stack}"


def _locate(stacks_dir: Path, check: dict[str, Any], documents: dict[str, dict[str, Any]]) -> tuple[str, str, str, dict[str, Any]]:
    """(stack, resource type, construct path below the stack, arguments) of a failed check."""
    stack = check["file_path"].strip("/").split("/")[0]
    if stack not in documents:
        documents[stack] = json.loads((stacks_dir / check["file_path"].lstrip("/")).read_text())
    name = check["resource"].split(".", 1)[1]  # "<type>.<name>", or "resource.<name>" for some checks
    for type_, resources in documents[stack].get("resource", {}).items():
        if name in resources:
            path = resources[name].get("//", {}).get("metadata", {}).get("path", name)
            return stack, type_, path.split("/", 1)[1] if "/" in path else path, resources[name]
    return stack, check["resource"].split(".", 1)[0], name, {}


def classify(stacks_dir: Path, report: dict[str, Any]) -> list[Finding]:
    documents: dict[str, dict[str, Any]] = {}
    findings = []
    for check in report["results"]["failed_checks"]:
        stack, type_, path, body = _locate(stacks_dir, check, documents)
        exemption = next((e for e in EXEMPTIONS if e.covers(check["check_id"], type_, path, body)), None)
        findings.append(Finding(check["check_id"], stack, type_, path, check["file_path"], tuple(check["file_line_range"]), exemption))
    return findings


def _mark_junit(junit: Path, exempted: list[Finding]) -> None:
    tree = ET.parse(junit)
    by_key = {(f.check_id, f.file_path, f"{f.lines[0]}-{f.lines[1]}"): f for f in exempted}
    for suite in tree.getroot().iter("testsuite"):
        for case in suite.iter("testcase"):
            failure = case.find("failure")
            if failure is None:
                continue
            check_id = case.get("name", "").split("]")[1].lstrip("[") if "][" in case.get("name", "") else ""
            lines = (failure.text or "").split("File: ", 1)[-1].split(": ", 1)[-1].split("\n", 1)[0].strip()
            finding = by_key.get((check_id, case.get("file", ""), lines))
            if finding is not None and finding.exemption is not None:
                case.remove(failure)
                ET.SubElement(case, "skipped", {"type": "exempted", "message": finding.exemption.justification})
        failures = sum(1 for case in suite.iter("testcase") if case.find("failure") is not None)
        skipped = sum(1 for case in suite.iter("testcase") if case.find("skipped") is not None)
        suite.set("failures", str(failures))
        suite.set("skipped", str(skipped))
    tree.write(junit, encoding="unicode", xml_declaration=True)


def _mark_sarif(sarif: Path, exempted: list[Finding]) -> None:
    document = json.loads(sarif.read_text())
    for run in document.get("runs", []):
        for result in run.get("results", []):
            location = result["locations"][0]["physicalLocation"]
            for finding in exempted:
                if (
                    result.get("ruleId") == finding.check_id
                    and location["artifactLocation"]["uri"].endswith(finding.file_path)
                    and location.get("region", {}).get("startLine") == finding.lines[0]
                    and finding.exemption is not None
                ):
                    result["suppressions"] = [{"kind": "external", "justification": finding.exemption.justification}]
    sarif.write_text(json.dumps(document, indent=2))


def run_checkov(stacks_dir: Path, reports: Path) -> dict[str, Any]:
    reports.mkdir(parents=True, exist_ok=True)
    checkov = Path(sys.executable).with_name("checkov")
    with tempfile.TemporaryDirectory() as scratch:
        names = ("checkov.json", "checkov.junit.xml", "checkov.sarif")
        command = [
            str(checkov), "--config-file", str(ROOT / ".checkov.yaml"), "-d", str(stacks_dir),
            "-o", "json", "-o", "junitxml", "-o", "sarif",
            "--output-file-path", ",".join(str(Path(scratch) / name) for name in names),
        ]
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        produced = Path(scratch) / "checkov.json"
        if not produced.is_file():
            raise RuntimeError(f"checkov wrote no report (exit {completed.returncode}):\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}")
        for name in names:
            shutil.copyfile(Path(scratch) / name, reports / name)
    report = json.loads((reports / "checkov.json").read_text())
    return report[0] if isinstance(report, list) else report


def scan_plan(plan: Path, stack_dir: Path) -> int:
    """checkov's built-in checks on a plan (`terraform show -json`): the resolved values, under the
    same per-resource exemptions as the configuration. The custom checks ran on the configuration
    (in a plan, values known only after apply are missing); the plan's resources are found in the
    stack's configuration by address."""
    config = json.loads((stack_dir / "cdk.tf.json").read_text())
    checkov = Path(sys.executable).with_name("checkov")
    with tempfile.TemporaryDirectory() as scratch:  # not the project root: its .checkov.yaml is the configuration's
        completed = subprocess.run(
            [str(checkov), "--framework", "terraform_plan", "-f", str(plan.resolve()), "--skip-download", "-o", "json"],
            cwd=scratch, capture_output=True, text=True,
        )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        print(f"checkov wrote no report (exit {completed.returncode}):\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}", file=sys.stderr)
        return 2
    report = report[0] if isinstance(report, list) else report
    if "results" not in report:
        print(f"checkov found nothing to check in {plan}", file=sys.stderr)
        return 2
    resources = config.get("resource", {})
    exempted, failed = [], []
    for check in report["results"]["failed_checks"]:
        type_, _, name = check["resource"].partition(".")
        body = resources.get(type_, {}).get(name, {})
        path = body.get("//", {}).get("metadata", {}).get("path", name).split("/", 1)[-1]
        exemption = next((e for e in EXEMPTIONS if e.covers(check["check_id"], type_, path, body)), None)
        (exempted if exemption else failed).append((check["check_id"], f"{type_} {path} in {stack_dir.name}", exemption))
    for check_id, where, exemption in exempted:
        print(f"exempt  {check_id:<12s} {where}: {exemption.justification}")
    for check_id, where, _ in failed:
        print(f"FAILED  {check_id:<12s} {where}")
    print(f"terraform_plan scan results: Passed checks: {report['summary']['passed']}, Failed checks: {len(failed)}, Exempted checks: {len(exempted)}")
    return 1 if failed else 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks-dir", type=Path, help="the synthesized stacks (configuration scan)")
    parser.add_argument("--reports", type=Path, default=Path("reports"))
    parser.add_argument("--plan", type=Path, help="a plan as `terraform show -json` writes it (plan scan), with --stack-dir")
    parser.add_argument("--stack-dir", type=Path, help="the planned stack's directory (its cdk.tf.json names the resources)")
    parser.add_argument("--verbose", action="store_true", help="list every exempted finding with its justification (make scan VERBOSE=1)")
    args = parser.parse_args(argv)
    if args.plan is not None:
        if args.stack_dir is None or not (args.stack_dir / "cdk.tf.json").is_file():
            parser.error("--plan needs --stack-dir: the planned stack's synthesized directory")
        return scan_plan(args.plan, args.stack_dir)
    if args.stacks_dir is None:
        parser.error("--stacks-dir (or --plan with --stack-dir) is required")
    if not args.stacks_dir.is_dir() or not any(args.stacks_dir.glob("*/cdk.tf.json")):
        print(f"nothing synthesized in {args.stacks_dir}: run 'make synth' first", file=sys.stderr)
        return 2
    inputs = scan_inputs_digest(args.stacks_dir)
    stamp = args.reports / SCAN_STAMP
    if stamp.is_file() and stamp.read_text() == inputs and all((args.reports / n).is_file() for n in REPORT_FILES):
        print(f"scan: nothing changed since the last passing scan (stacks, exemptions, custom checks); reports in {args.reports}/")
        return 0
    stamp.unlink(missing_ok=True)
    report = run_checkov(args.stacks_dir.resolve(), args.reports)
    summary = report["summary"]
    if summary.get("parsing_errors"):
        print(f"checkov could not parse {summary['parsing_errors']} file(s): nothing there was scanned", file=sys.stderr)
        return 1
    findings = classify(args.stacks_dir, report)
    exempted = [f for f in findings if f.exemption is not None]
    failed = [f for f in findings if f.exemption is None]
    _mark_junit(args.reports / "checkov.junit.xml", exempted)
    _mark_sarif(args.reports / "checkov.sarif", exempted)
    if args.verbose:
        for finding in exempted:
            print(f"exempt  {finding.check_id:<12s} {finding.where}: {finding.exemption.justification if finding.exemption else ''}")
    for finding in failed:
        print(f"FAILED  {finding.check_id:<12s} {finding.where} ({finding.file_path}:{finding.lines[0]}-{finding.lines[1]})")
    print(f"terraform_json scan results: Passed checks: {summary['passed']}, Failed checks: {len(failed)}, Exempted checks: {len(exempted)}"
          + ("" if args.verbose else " (each with its justification: make scan VERBOSE=1, or the SARIF report)"))
    print(f"reports: {args.reports}/{', '.join(REPORT_FILES)}")
    if not failed:
        stamp.write_text(inputs)
    return 1 if failed else 0


SCAN_STAMP = ".scan-inputs.sha256"
REPORT_FILES = ("checkov.json", "checkov.junit.xml", "checkov.sarif")


def scan_inputs_digest(stacks_dir: Path) -> str:
    """What a configuration scan's verdict depends on: every stack's JSON, the exemptions and checkov
    settings, the custom checks, this module, and the checkov version."""
    import hashlib
    from importlib.metadata import version

    root = Path(__file__).resolve().parents[2]
    files = sorted(stacks_dir.glob("*/cdk.tf.json")) + [root / ".checkov.yaml", Path(__file__)] + sorted((root / "constructs" / "xacct_checks").glob("*.py"))
    digest = hashlib.sha256(version("checkov").encode())
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(path.anchor)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


if __name__ == "__main__":
    sys.exit(main())
