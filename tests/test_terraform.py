"""`terraform validate` on the real output, offline through the provider mirror."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import DEFAULT_STACK, PROVISIONED_STACK, run_make

pytestmark = pytest.mark.terraform


def _terraform(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _validate(stack_dir: Path, workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A copy: init writes .terraform/ and the lock file next to the configuration.
    shutil.copytree(stack_dir, workdir)
    init = _terraform(["init", "-backend=false", "-input=false", "-no-color"], workdir, env)
    assert init.returncode == 0, init.stdout + init.stderr
    return _terraform(["validate", "-no-color", "-json"], workdir, env)


@pytest.mark.parametrize(
    ("fixture", "stack"),
    [pytest.param("cli_outdir", DEFAULT_STACK, id="default"), pytest.param("library_outdir", PROVISIONED_STACK, id="provisioned-s3")],
)
def test_terraform_validate(request: pytest.FixtureRequest, terraform_env: dict[str, str], tmp_path: Path, fixture: str, stack: str) -> None:
    outdir: Path = request.getfixturevalue(fixture)
    result = _validate(outdir / "stacks" / stack, tmp_path / stack, terraform_env)
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
    assert "Success! The configuration is valid." in result.stdout
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
