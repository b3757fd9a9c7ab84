"""atlantis.yaml's workflow, its commands run exactly as listed, against the moto rehearsal."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import DEFAULT_STACK, ROOT

sys.path.insert(0, str(Path(__file__).parent / "harness"))

import rehearse  # noqa: E402

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
def test_workflow_plans_checks_and_applies_against_moto(terraform_env: dict[str, str], tmp_path: Path) -> None:
    # GIVEN a checkout of the repo, as Atlantis has it, with a tfvars for the two moto accounts
    repo = tmp_path / "repo"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in tracked:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    (repo / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = {**terraform_env, "PLANFILE": str(tmp_path / "default.tfplan"), "SHOWFILE": str(tmp_path / "default.json")}
    env.pop("XACCT_CONFIG", None)
    stack_dir = repo / "atlantis.out" / "stacks" / DEFAULT_STACK
    outputs: dict[str, str] = {}
    with rehearse.moto_server() as endpoint:
        # WHEN every step of every stage runs as listed
        for stage in ("plan", "policy_check", "apply"):
            for command in _steps(stage):
                result = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
                assert result.returncode == 0, f"{stage}: {command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
                outputs[command] = result.stdout
                if command.startswith("make synth"):
                    # Test scaffolding: point the providers at moto (an override file, as the rehearsal does).
                    rehearse.write_override(stack_dir, endpoint)
                    (repo / "terraform.tfvars").write_text((stack_dir / "rehearsal.tfvars").read_text())
    # THEN
    plan = next(out for cmd, out in outputs.items() if " plan " in cmd)
    assert "Plan: 25 to add, 0 to change, 0 to destroy." in plan
    scan = next(out for cmd, out in outputs.items() if cmd.startswith("make scan"))
    assert "terraform_json scan results" in scan and "Failed checks: 0" in scan
    check = next(out for cmd, out in outputs.items() if "--framework terraform_plan" in cmd)
    assert "terraform_plan scan results" in check and "Failed checks: 0" in check
    apply = next(out for cmd, out in outputs.items() if " apply " in cmd)
    assert "Apply complete! Resources: 25 added, 0 changed, 0 destroyed." in apply
    assert os.path.getsize(env["SHOWFILE"]) > 10_000
