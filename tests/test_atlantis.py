"""atlantis.yaml's workflow, its commands run exactly as listed (tests/harness/atlantis_workflow.py), against moto."""

from __future__ import annotations

import pytest
import yaml

from conftest import ROOT, Background

WORKFLOW = yaml.safe_load((ROOT / "atlantis.yaml").read_text())


def test_project_and_autoplan_patterns() -> None:
    (project,) = WORKFLOW["projects"]
    assert (project["dir"], project["workflow"]) == (".", "cdktf")
    assert {"main.py", "constructs/**/*.py", "lambda_src/**/*.py", "terraform.tfvars"} <= set(project["autoplan"]["when_modified"])
    assert "atlantis.out/" in (ROOT / ".gitignore").read_text().splitlines()


def _steps(stage: str) -> list[str]:
    return [step["run"] for step in WORKFLOW["workflows"]["cdktf"][stage]["steps"]]


@pytest.mark.terraform
@pytest.mark.rehearsal
@pytest.mark.background("atlantis workflow")
def test_workflow_plans_checks_and_applies_against_moto(terraform_jobs: Background) -> None:
    # GIVEN a checkout of the repo, as Atlantis has it, with a tfvars for the two moto accounts
    # WHEN every step of every stage runs as listed (tests/harness/atlantis_workflow.py, in the background)
    result = terraform_jobs.result("atlantis workflow")
    ran = [(step["stage"], step["command"]) for step in result["steps"]]
    assert ran == [(stage, command) for stage in ("plan", "policy_check", "apply") for command in _steps(stage)]
    assert all(step["returncode"] == 0 for step in result["steps"])
    outputs = {step["command"]: step["stdout"] for step in result["steps"]}
    # THEN
    plan = next(out for cmd, out in outputs.items() if " plan " in cmd)
    assert "Plan: 25 to add, 0 to change, 0 to destroy." in plan
    scan = next(out for cmd, out in outputs.items() if cmd.startswith("make scan"))
    assert "terraform_json scan results" in scan and "Failed checks: 0" in scan
    check = next(out for cmd, out in outputs.items() if "--framework terraform_plan" in cmd)
    assert "terraform_plan scan results" in check and "Failed checks: 0" in check
    apply = next(out for cmd, out in outputs.items() if " apply " in cmd)
    assert "Apply complete! Resources: 25 added, 0 changed, 0 destroyed." in apply
    assert result["showfile_bytes"] > 10_000
