"""The test tiers keep their promises: the terraform shim refuses what a tier excludes and logs the rest,
and each tier selects the tests its markers say (docs/development.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TERRAFORM_SHIM_DIR

SHIM = TERRAFORM_SHIM_DIR / "terraform"


def _fake_terraform(directory: Path) -> Path:
    """A stand-in for the real terraform (no Terraform process in make check): prints its arguments."""
    directory.mkdir(parents=True, exist_ok=True)
    fake = directory / "terraform"
    fake.write_text("#!/bin/sh\necho \"real terraform $*\"\nexit 3\n")
    fake.chmod(0o755)
    return directory


def _shim(tmp_path: Path, allow: str, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, object]]]:
    log = tmp_path / "calls.jsonl"
    env = {
        "PATH": os.pathsep.join([str(TERRAFORM_SHIM_DIR), str(_fake_terraform(tmp_path / "bin")), "/usr/bin", "/bin"]),
        "XACCT_TERRAFORM_ALLOW": allow, "XACCT_TERRAFORM_LOG": str(log), "XACCT_TEST_JOB": "rehearsal xacct-kinesis-efo",
    }
    result = subprocess.run([sys.executable, str(SHIM), *args], env=env, capture_output=True, text=True, timeout=30)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, calls


@pytest.mark.parametrize(
    ("allow", "args", "refused"),
    [
        ("none", ["-chdir=stacks/x", "validate", "-no-color"], True),
        ("none", ["version"], True),
        ("no-apply", ["-chdir=stacks/x", "apply", "-input=false", "tfplan"], True),
        ("no-apply", ["destroy", "-auto-approve"], True),
        ("no-apply", ["-chdir=stacks/x", "plan", "-destroy"], False),
        ("no-apply", ["init", "-backend=false"], False),
        ("any", ["-chdir=stacks/x", "apply", "tfplan"], False),
    ],
    ids=["check-refuses-validate", "check-refuses-version", "test-refuses-apply", "test-refuses-destroy",
         "test-allows-a-destroy-plan", "test-allows-init", "rehearse-allows-apply"],
)
def test_the_shim_refuses_what_the_tier_excludes_and_logs_every_call(tmp_path: Path, allow: str, args: list[str], refused: bool) -> None:
    # GIVEN the shim first on PATH, a stand-in for the real terraform after it
    # WHEN a tier's test (or a job of it) runs terraform
    result, calls = _shim(tmp_path, allow, *args)
    command = next(a for a in args if not a.startswith("-"))
    # THEN a refused call exits 97 naming the job and the marker to use, and never reaches terraform;
    # an allowed one runs the real terraform with the same arguments and passes its exit status on
    if refused:
        assert result.returncode == 97
        assert result.stdout == ""
        assert result.stderr.startswith(f"terraform {command}: refused by the test tier (rehearsal xacct-kinesis-efo): ")
        assert "@pytest.mark." in result.stderr
    else:
        assert result.returncode == 3
        assert result.stdout == f"real terraform {' '.join(args)}\n"
    # THEN the call is logged with its job, subcommand and status
    assert [(c["job"], c["command"], c["status"], c.get("refused", False)) for c in calls] == [
        ("rehearsal xacct-kinesis-efo", command, 97 if refused else 3, refused)]


def test_each_tier_selects_its_tests(tmp_path: Path) -> None:
    # GIVEN the whole suite WHEN it is collected, each test's tiers listed by the rule that selects them
    result = subprocess.run(
        [sys.executable, "-m", "pytest", ".", "--collect-only", "-q", "-p", "no:cacheprovider", f"--list-tiers={tmp_path / 'tiers.json'}",
         f"--terraform-log={tmp_path / 'calls.jsonl'}"],
        cwd=ROOT / "tests", capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tiers = json.loads((tmp_path / "tiers.json").read_text())
    # Node ids by file name (the files live in one directory per area)
    by_file = {Path(test_id.split("::", 1)[0]).name + "::" + test_id.split("::", 1)[1]: names for test_id, names in tiers.items()}
    check, test, rehearse = ({test_id for test_id, names in by_file.items() if tier in names} for tier in ("check", "test", "rehearse"))
    # THEN make check holds no Terraform test, scan or full import; make test holds those but no apply;
    # make rehearse holds exactly the apply-level runs; every test is in a tier
    validate = "test_terraform.py::test_make_validate"
    scan = "test_checkov.py::test_make_scan_passes_on_the_synthesized_stacks_and_writes_reports"
    full_import = "test_determinism.py::test_lazy_provider_loading_changes_nothing_in_the_output"
    unit = "test_tiers.py::test_each_tier_selects_its_tests"
    plans_without_state = "test_variables_plan.py::test_example_tfvars_passes_every_validation"  # marked by its fixture
    assert unit in check and not {validate, scan, full_import, plans_without_state} & check
    assert check < test and {validate, scan, full_import, plans_without_state} < test
    assert not test & rehearse
    assert all(names for names in tiers.values())
    assert rehearse == {
        "test_atlantis.py::test_two_pull_requests_keep_state_in_s3",
        "test_cdktf_cli.py::test_the_cli_cycle_against_moto",
        "test_hcl_export.py::test_hcl_and_json_plan_the_same_changes",
        "test_rehearsal.py::test_rehearsal_apply_verify_replan_destroy",
        *(f"test_rehearsal.py::test_stack_rehearsal[{seed}]" for seed in
          ("seed-003-dynamodb-streams", "seed-001-replication", "seed-004-ses-notifications", "seed-002-api-ingest")),
        "test_rehearsal.py::test_fanout_rehearsal_every_reader_gets_every_record_and_a_consumer_goes_cleanly",
        "test_rehearsal.py::test_split_fanout_rehearsal_hands_values_over_in_order_and_every_reader_gets_every_record",
    }
