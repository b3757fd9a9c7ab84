"""The HCL export: plain Terraform a team can keep if it leaves CDKTF, meaning what the JSON means."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ALL_STACKS, DEFAULT_STACK, PLANNED_CREATES, ROOT, Background, rehearsal_job
from conftest import terraform_validate
from xacct_streaming.synthesis.synth import HclExportError, clean_hcl, hcl_string, unquote_references


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


def test_unquote_ignore_changes() -> None:
    hcl = 'lifecycle {\n  ignore_changes = [\n"secret_string",\n"tags",\n]\n}\nname = "secret_string"\n'
    assert unquote_references(hcl) == 'lifecycle {\n  ignore_changes = [\nsecret_string,\ntags,\n]\n}\nname = "secret_string"\n'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("5\\d{2}", '"5\\\\d{2}"', id="regex-backslash"),
        pytest.param("a\\nb", '"a\\\\nb"', id="backslash-n-stays-two-characters"),
        pytest.param('say "hi"', '"say \\"hi\\""', id="quotes"),
        pytest.param('{"arn":"${aws_x.y.arn}"}', '"{\\"arn\\":\\"${aws_x.y.arn}\\"}"', id="quotes-around-interpolation"),
        pytest.param('${lookup(var.m, "k")}', '"${lookup(var.m, "k")}"', id="quotes-inside-interpolation-kept"),
        pytest.param('%{ if var.x }"on"%{ endif }', '"%{ if var.x }\\"on\\"%{ endif }"', id="template-directive"),
    ],
)
def test_hcl_string(value: str, expected: str) -> None:
    assert hcl_string(value) == expected


def test_clean_hcl_rewrites_what_cdktf_wrote_wrongly(tmp_path: Path) -> None:
    # GIVEN cdktf's rendering of a regex and of a JSON template around a reference
    config = {"resource": {"aws_x": {"y": {"pattern": "5\\d{2}", "template": '{"arn":"${aws_k.s.arn}"}', "plain": 'a "b"'}}}}
    hcl = 'pattern = "5\\d{2}"\ntemplate = "{"arn":"${aws_k.s.arn}"}"\nplain = "a \\"b\\""\n'
    # WHEN / THEN each reads back as its JSON value; the already right one is left as it is
    assert clean_hcl(hcl, config, tmp_path / "cdk.tf") == (
        'pattern = "5\\\\d{2}"\ntemplate = "{\\"arn\\":\\"${aws_k.s.arn}\\"}"\nplain = "a \\"b\\""\n'
    )


def test_clean_hcl_refuses_a_value_it_cannot_find(tmp_path: Path) -> None:
    # GIVEN a value cdktf wrote in a form this clean-up does not know (split into an expression, say)
    config = {"resource": {"aws_x": {"y": {"pattern": "5\\d{2}"}}}}
    # WHEN / THEN the export stops, naming the value, instead of writing HCL that means something else
    with pytest.raises(HclExportError, match=r"cdk.tf: the value '5\\\\d\{2\}' cannot be written as HCL faithfully"):
        clean_hcl('pattern = join("", ["5", "\\d{2}"])\n', config, tmp_path / "cdk.tf")


@pytest.mark.terraform
@pytest.mark.parametrize("stack", ALL_STACKS)
def test_hcl_export_validates_without_warnings(hcl_outdir: Path, terraform_env: dict[str, str], tmp_path: Path, stack: str) -> None:
    result = terraform_validate(hcl_outdir / "stacks" / stack, tmp_path / "hcl", terraform_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"valid": true' in result.stdout
    assert '"warning_count": 0' in result.stdout, result.stdout




@pytest.mark.terraform
@pytest.mark.rehearsal
@pytest.mark.background(*(rehearsal_job(stack) for stack in PLANNED_CREATES))
def test_hcl_and_json_plan_the_same_changes(terraform_jobs: Background) -> None:
    # GIVEN every stack synthesized as JSON and as HCL, both planned against one moto server by the
    # stack's rehearsal before it applies the JSON plan (tests/harness/rehearse.py --hcl-twin)
    stacks = {name: terraform_jobs.result(rehearsal_job(name))["hcl"] for name in PLANNED_CREATES}
    # THEN every stack's two plans create the same resources with the same values, outputs included
    assert {name: stack["actions"] for name, stack in stacks.items()} == {name: {"create": n} for name, n in PLANNED_CREATES.items()}
    assert {name: stack["differences"] for name, stack in stacks.items()} == {name: [] for name in PLANNED_CREATES}


@pytest.mark.slow  # a synth in a process of its own: make test
def test_one_process_writes_json_or_hcl_and_refuses_to_mix_them(tmp_path: Path) -> None:
    # GIVEN a process that synthesized JSON (cdktf's kernel fixes the output format when it starts)
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'constructs')!r})\n"
        "from pathlib import Path\n"
        "from xacct_streaming.settings.kinesis_efo import StackProps\n"
        "from xacct_streaming.synthesis.synth import OutputFormatError, synthesize\n"
        f"synthesize([StackProps()], outdir=Path({str(tmp_path / 'json')!r}))\n"
        "try:\n"
        f"    synthesize([StackProps()], outdir=Path({str(tmp_path / 'hcl')!r}), hcl=True)\n"
        "except OutputFormatError as error:\n"
        "    print(error)\n"
    )
    # WHEN it is asked for HCL
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT)
    # THEN it refuses, saying how, and writes no HCL that would be JSON under another name
    assert result.returncode == 0, result.stderr
    assert "cdktf started in this process writing JSON (it fixes the format when it starts): synthesize HCL in a new process" in result.stdout
    assert not (tmp_path / "hcl").exists()


def test_the_hcl_export_directory_is_ignored_by_git() -> None:
    # GIVEN `make hcl`'s output directory WHEN git is asked THEN it ignores it, as it does cdktf.out/
    for path in ("cdktf.out-hcl/stacks/xacct-kinesis-efo/cdk.tf", "cdktf.out/stacks/xacct-kinesis-efo/cdk.tf.json"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0, path
