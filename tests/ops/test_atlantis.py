"""atlantis.yaml: one project per stack and environment, generated; its workflow run twice against moto."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ALL_STACKS, PLANNED_CREATES, ROOT, Background
from xacct_ops.atlantis import AtlantisConfigError, own_code, projects
from xacct_streaming.settings.config import load_stacks

WORKFLOW = yaml.safe_load((ROOT / "atlantis.yaml").read_text())
PROJECTS = {project["name"]: project for project in WORKFLOW["projects"]}
# First plan of each stack: resources to add (the rehearsal's counts).
S3_STACK = """kind = "xacct-dynamodb-streams"
[backend]
kind = "s3"
bucket = "state"
region = "eu-west-1"
role_arn = "arn:aws:iam::999999999999:role/terraform-state"
kms_key_id = "arn:aws:kms:eu-west-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"
"""
CREATES = PLANNED_CREATES


@pytest.mark.slow  # seconds of CPU in a synth of its own: make test
def test_atlantis_yaml_is_generated_from_the_current_stacks() -> None:
    # GIVEN / WHEN the generator compares what it would write with the committed file
    result = subprocess.run([sys.executable, "-m", "xacct_ops.atlantis", "--check"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "constructs")}, timeout=300)
    # THEN it is current
    assert result.returncode == 0, result.stderr


def test_one_project_per_stack_with_its_own_workflow_and_output() -> None:
    assert sorted(PROJECTS) == sorted(f"staging-{stack}" for stack in ALL_STACKS)
    for name, project in PROJECTS.items():
        stack = name.removeprefix("staging-")
        assert (project["dir"], project["workflow"]) == (".", name)
        steps = WORKFLOW["workflows"][name]
        assert [s["run"] for s in steps["plan"]["steps"]][0] == f"make synth CONFIG=environments/staging.toml STACK={stack} OUTDIR=atlantis.out/{name}"
        assert '-var-file="$PWD/environments/staging.tfvars" -out="$PLANFILE"' in steps["plan"]["steps"][-1]["run"]
        assert [s["run"] for s in steps["policy_check"]["steps"]][1:] == [
            f'make scan-plan OUTDIR=atlantis.out/{name} STACK={stack} PLAN="$SHOWFILE"',
            f"terraform -chdir=atlantis.out/{name}/stacks/{stack} state pull > atlantis.out/{name}/state-before.json",
            f'make access-review BEFORE=atlantis.out/{name}/state-before.json AFTER="$SHOWFILE" '
            f"CONFIG_JSON=atlantis.out/{name}/stacks/{stack}/cdk.tf.json REVIEW_OUT=atlantis.out/{name}/access-review.md",
        ]
        assert steps["apply"]["steps"] == [{"run": f'terraform -chdir=atlantis.out/{name}/stacks/{stack} apply -input=false -no-color "$PLANFILE"'}]
    assert "atlantis.out/" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize(
    ("stack", "has", "has_not"),
    [
        pytest.param("xacct-kinesis-efo", ["lambda_src/handler.py", "constructs/xacct_streaming/blocks/shared_stream.py"],
                     ["lambda_src/changes_handler.py", "constructs/xacct_streaming/blocks/basic_auth_stream_api.py"], id="core"),
        pytest.param("xacct-dynamodb-streams", ["lambda_src/changes_handler.py", "constructs/xacct_streaming/blocks/shared_table_stream.py"],
                     ["lambda_src/handler.py", "constructs/xacct_streaming/blocks/s3_delivery_stream.py"], id="dynamodb"),
        pytest.param("xacct-api-ingest", ["lambda_src/authorizer_handler.py", "lambda_src/handler.py", "constructs/xacct_streaming/blocks/basic_auth_stream_api.py"],
                     ["lambda_src/notifications_handler.py"], id="api"),
    ],
)
def test_autoplan_follows_the_files_that_change_the_stacks_output(stack: str, has: list[str], has_not: list[str]) -> None:
    when = PROJECTS[f"staging-{stack}"]["autoplan"]["when_modified"]
    assert {"main.py", "environments/staging.toml", "environments/staging.tfvars", "constructs/xacct_checks/**/*.py"} <= set(when)
    assert set(has) <= set(when)
    assert not set(has_not) & set(when)
    assert "terraform.tfvars" not in when  # ignored by git: never in a pull request
    assert all((ROOT / path).is_file() for path in when if "*" not in path)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        pytest.param({"dev.toml": 'kind = "xacct-kinesis-efo"\n', "dev.tfvars": ""}, "stack 'xacct-kinesis-efo' keeps local state", id="local-state"),
        pytest.param({"dev.toml": "[[stack]]\n" + S3_STACK.replace("[backend]", "[stack.backend]") + '[[stack]]\nkind = "xacct-ses-notifications"\n', "dev.tfvars": ""},
                     "stack 'xacct-ses-notifications' keeps local state", id="one-stack-of-several"),
        pytest.param({"dev.toml": '[backend]\nkind = "s3"\n'}, "has no var file environments/dev.tfvars", id="no-var-file"),
        pytest.param({}, "no environment in environments/", id="no-environment"),
    ],
)
def test_an_environment_atlantis_cannot_keep_state_for_is_refused(tmp_path: Path, files: dict[str, str], message: str) -> None:
    (tmp_path / "environments").mkdir()
    for name, text in files.items():
        (tmp_path / "environments" / name).write_text(text)
    with pytest.raises(AtlantisConfigError, match=re.escape(message)):
        projects(tmp_path)


@pytest.mark.terraform
@pytest.mark.rehearsal
@pytest.mark.background("atlantis workflow")
def test_two_pull_requests_keep_state_in_s3(terraform_jobs: Background) -> None:
    # GIVEN the repository as Atlantis checks it out, moto for the deploy and state accounts
    # WHEN every project runs every step of its plan and policy_check stages, the core stack's project
    # its apply too, then a second pull request plans that project again and checks the plan
    # (tests/harness/atlantis_workflow.py, in the background)
    result = terraform_jobs.result("atlantis workflow")
    first, second = result["runs"]
    applied = result["applied"]
    assert applied == "staging-xacct-kinesis-efo"
    # THEN the first pull request ran exactly the listed steps of every project, scans clean, planned
    # each stack's resources, and applied the one project it applies
    assert sorted(first) == sorted(PROJECTS)
    for name, steps in first.items():
        workflow = WORKFLOW["workflows"][name]
        stages = ("plan", "policy_check", "apply") if name == applied else ("plan", "policy_check")
        assert [(s["stage"], s["command"]) for s in steps] == [(stage, step["run"]) for stage in stages for step in workflow[stage]["steps"]]
        assert [s["returncode"] for s in steps] == [0] * len(steps), name
        out = "".join(s["stdout"] for s in steps)
        creates = CREATES[name.removeprefix("staging-")]
        assert f"Plan: {creates} to add, 0 to change, 0 to destroy." in out
        assert re.search(r"terraform_json scan results: Passed checks: \d+, Failed checks: 0", out)
        assert re.search(r"terraform_plan scan results: Passed checks: \d+, Failed checks: 0", out)
        assert (f"Apply complete! Resources: {creates} added, 0 changed, 0 destroyed." in out) is (name == applied)
        assert result["showfile_bytes"][name] > 10_000
        # AND the access review of the plan against the state before (none yet) lists the stack's access as added
        review = steps[[s["command"] for s in steps].index(WORKFLOW["workflows"][name]["policy_check"]["steps"][-1]["run"])]["stdout"]
        assert re.search(r"## Access review\n\n\d+ added, 0 removed, \d+ unknown\.\n", review), review[-3000:]
        # (a new key's ARN is not known before the apply: named by its resource, not by a stand-in)
        assert re.search(r"### `aws_kms_key\.[A-Za-z0-9_-]+\.arn \(known after apply\)`", review), review[-3000:]
    # AND docs/cli-and-atlantis.md's excerpt of the core stack's review is this run's, section for section
    page = (ROOT / "docs" / "cli-and-atlantis.md").read_text()
    excerpt = page.split("comment shows it (an excerpt", 1)[1].split("```\n", 1)[1].split("\n(... ", 1)[0]
    review = next(s["stdout"] for s in first[applied] if s["command"].startswith("make access-review"))
    for section in excerpt.strip().split("\n\n### "):
        assert section.strip().removeprefix("### ") in review, section
    # THEN the second, from a fresh checkout, found the applied stack's state in S3: no changes, and
    # its access review, the state against the plan, no access change
    assert list(second) == [applied]
    assert [s["returncode"] for s in second[applied]] == [0] * len(second[applied])
    assert "No changes. Your infrastructure matches the configuration." in second[applied][3]["stdout"]
    # (under the test's own make, a nested make adds its "Entering directory" lines around it)
    assert "## Access review\n\nNo access change.\n" in second[applied][-1]["stdout"], second[applied][-1]["stdout"][-3000:]
    assert not re.search(r"\d+ (added|removed)", second[applied][-1]["stdout"])
    # THEN the applied stack's state is one object under the environment's prefix, encrypted with the
    # state key; a plan writes none
    assert sorted(result["states"]) == sorted(f"staging/{stack}/terraform.tfstate" for stack in CREATES)
    for key, state in result["states"].items():
        if key == "staging/xacct-kinesis-efo/terraform.tfstate":
            assert (state["sse"], state["kms_key"]) == ("aws:kms", result["key_arn"]) and state["bytes"] > 1000
        else:
            assert state == {"bytes": 0, "sse": None, "kms_key": None}, key


def test_a_stacks_own_function_code_is_among_what_it_depends_on() -> None:
    # GIVEN the settings of a stack running the team's own handler (README: an existing stream)
    (props,) = load_stacks(str(ROOT / "examples" / "existing-stream.toml"))
    # THEN its source directory is what an edit there would change
    assert list(own_code(props)) == [ROOT / "examples" / "orders_reader"]
