"""The HCL export: plain Terraform a team can keep if it leaves CDKTF."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import DEFAULT_STACK
from test_terraform import _validate
from xacct_streaming.synthesis.synth import unquote_references


def test_unquote_references() -> None:
    # GIVEN the forms cdktf writes
    hcl = 'provider = "aws.producer"\ndepends_on = [\n"aws_kms_key_policy.k_1",\n"data.aws_partition.p",\n]\nname = "aws_x.y"\n'
    # WHEN / THEN only provider and depends_on entries lose their quotes
    assert unquote_references(hcl) == (
        'provider = aws.producer\ndepends_on = [\naws_kms_key_policy.k_1,\ndata.aws_partition.p,\n]\nname = "aws_x.y"\n'
    )


def test_hcl_file_replaces_json(hcl_outdir: Path) -> None:
    stack_dir = hcl_outdir / "stacks" / DEFAULT_STACK
    assert (stack_dir / "cdk.tf").is_file() and not (stack_dir / "cdk.tf.json").exists()
    text = (stack_dir / "cdk.tf").read_text()
    assert 'backend "local"' in text
    assert re.search(r'^resource "aws_lambda_event_source_mapping" ', text, re.MULTILINE)
    # Policies are jsonencode() expressions with plain references, as written by hand.
    assert '"Principal" = {"AWS" = aws_iam_role.consumer-function_role_' in text
    assert 'provider = "aws.' not in text


@pytest.mark.terraform
def test_hcl_export_validates_without_warnings(hcl_outdir: Path, terraform_env: dict[str, str], tmp_path: Path) -> None:
    result = _validate(hcl_outdir / "stacks" / DEFAULT_STACK, tmp_path / "hcl", terraform_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"valid": true' in result.stdout
    assert '"warning_count": 0' in result.stdout, result.stdout
