"""`terraform validate` on the real output, offline through the provider mirror."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import ALL_STACKS, API_STACK, DEFAULT_STACK, PROVISIONED_STACK, ROOT, run_make, terraform_run, terraform_validate

pytestmark = pytest.mark.terraform


@pytest.mark.parametrize(
    ("fixture", "stack"),
    # (the default stacks are validated by test_make_validate, warnings included)
    [pytest.param("library_outdir", PROVISIONED_STACK, id="provisioned-s3")],
)
def test_terraform_validate(request: pytest.FixtureRequest, terraform_env: dict[str, str], tmp_path: Path, fixture: str, stack: str) -> None:
    outdir: Path = request.getfixturevalue(fixture)
    result = terraform_validate(outdir / "stacks" / stack, tmp_path / stack, terraform_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"valid": true' in result.stdout
    assert '"warning_count": 0' in result.stdout, result.stdout


def test_make_validate(cli_outdir: Path, terraform_env: dict[str, str], tmp_path: Path) -> None:
    # GIVEN a copy of the output (make validate initializes in place)
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(cli_outdir, outdir)
    mirror = Path(terraform_env["TF_CLI_CONFIG_FILE"]).read_text().split('path    = "')[1].split('"')[0]
    # WHEN
    result = run_make("validate", OUTDIR=outdir, TF_PLUGIN_MIRROR=mirror)
    # THEN
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"== {outdir}/stacks/{DEFAULT_STACK}/" in result.stdout
    # every stack valid, and no warnings (Terraform then says "valid, but there were some validation warnings")
    for stack in ALL_STACKS:
        assert f"== {outdir}/stacks/{stack}/\nSuccess! The configuration is valid.\n" in result.stdout, stack
    assert "Warning" not in result.stdout
    assert 'filesystem_mirror' in (outdir / "terraform.rc").read_text()


def test_make_validate_fails_when_one_stack_is_invalid(cli_outdir: Path, terraform_env: dict[str, str], tmp_path: Path) -> None:
    # GIVEN an output holding one valid stack and one whose mapping refers to a function that is not there
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(cli_outdir / "stacks" / DEFAULT_STACK, outdir / "stacks" / DEFAULT_STACK)
    broken = outdir / "stacks" / "broken"
    broken.mkdir()
    (broken / "main.tf.json").write_text('{"output": {"x": {"value": "${aws_lambda_function.missing.arn}"}}}')
    mirror = Path(terraform_env["TF_CLI_CONFIG_FILE"]).read_text().split('path    = "')[1].split('"')[0]
    # WHEN the stacks are validated side by side
    result = run_make("validate", OUTDIR=outdir, TF_PLUGIN_MIRROR=mirror)
    # THEN make fails, and the output names the broken stack next to its error
    assert result.returncode != 0
    assert f"== {broken}/\n" in result.stdout
    assert "Reference to undeclared resource" in result.stdout
    assert "Success! The configuration is valid." in result.stdout  # the other stack still validated


def test_every_stack_carries_the_project_lock_and_required_version(cli_outdir: Path) -> None:
    lock = (ROOT / "constructs" / "xacct_streaming" / "synthesis" / "terraform.lock.hcl").read_text()
    assert 'version     = "5.100.0"' in lock and '"h1:' in lock
    for stack in ALL_STACKS:
        stack_dir = cli_outdir / "stacks" / stack
        assert (stack_dir / ".terraform.lock.hcl").read_text() == lock
        # write-only arguments (the API's secret) need Terraform 1.11; the other stacks run on 1.10
        needed = ">= 1.11" if stack == API_STACK else ">= 1.10"
        assert (stack_dir / "versions.tf").read_text() == f'terraform {{\n  required_version = "{needed}"\n}}\n'


def test_init_uses_the_lock_and_fails_on_another_checksum(cli_outdir: Path, terraform_env: dict[str, str], tmp_path: Path) -> None:
    # GIVEN a copy of a stack with the project's lock file
    good = tmp_path / "good"
    shutil.copytree(cli_outdir / "stacks" / DEFAULT_STACK, good)
    lock_before = (good / ".terraform.lock.hcl").read_text()
    # WHEN it is initialized THEN the provider matches the lock and the lock is not rewritten
    init = terraform_run(["init", "-backend=false", "-input=false", "-no-color"], good, terraform_env)
    assert init.returncode == 0, init.stdout + init.stderr
    assert (good / ".terraform.lock.hcl").read_text() == lock_before
    # GIVEN the same stack whose lock lists another checksum
    bad = tmp_path / "bad"
    shutil.copytree(cli_outdir / "stacks" / DEFAULT_STACK, bad)
    tampered = re.sub(r'"h1:[^"]+"', '"h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="', lock_before)
    (bad / ".terraform.lock.hcl").write_text(tampered)
    # WHEN it is initialized THEN Terraform refuses the provider
    init = terraform_run(["init", "-backend=false", "-input=false", "-no-color"], bad, terraform_env)
    assert init.returncode != 0
    assert "doesn't match any of the checksums previously recorded in the dependency lock file" in re.sub(r"\s+", " ", init.stdout + init.stderr)
