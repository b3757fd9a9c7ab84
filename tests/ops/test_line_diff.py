"""xacct_ops.line_diff: what `make check-cdktn` says of the JSON two framework lines write for the same
settings. The 'after' side here is the default line's output turned into what CDK Terrain writes
(tests/harness/check_cdktn.py compares the real thing); each rule explains its difference only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import DEFAULT_STACK
from xacct_ops import line_diff

pytestmark = pytest.mark.synth

STREAM = "aws_kinesis_stream"
FUNCTION = "aws_lambda_function"


def _edit(stack_dir: Path, change: Callable[[dict[str, Any]], None]) -> None:
    config = json.loads((stack_dir / "cdk.tf.json").read_text())
    change(config)
    (stack_dir / "cdk.tf.json").write_text(json.dumps(config, indent=2))


def _as_cdktn(config: dict[str, Any]) -> None:
    """What CDK Terrain 0.24 with cdktn-provider-aws 25.8.1 writes where cdktf 0.21 wrote `config`."""
    config["//"]["metadata"]["version"] = "0.24.0"
    config["terraform"]["required_providers"]["aws"] = {"source": "hashicorp/aws", "version": "6.69.1"}


@pytest.fixture
def sides(cli_outdir: Path, tmp_path: Path) -> tuple[Path, Path]:
    before, after = tmp_path / "cdktf", tmp_path / "cdktn"
    shutil.copytree(cli_outdir, before)
    shutil.copytree(cli_outdir, after)
    manifest = json.loads((after / "manifest.json").read_text())
    manifest["version"] = "0.24.0"
    (after / "manifest.json").write_text(json.dumps(manifest))
    for stack_dir in (after / "stacks").iterdir():
        _edit(stack_dir, _as_cdktn)
        (stack_dir / ".terraform.lock.hcl").unlink()
    return before, after


def _run(before: Path, after: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = line_diff.main(["--before", str(before), "--after", str(after), *extra])
    return code, capsys.readouterr().out


def _only(config: dict[str, Any], type_: str) -> dict[str, Any]:
    (body,) = config["resource"][type_].values()
    return body


def test_what_cdk_terrain_writes_differently_is_explained_rule_by_rule(sides: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the default stacks and the same stacks as CDK Terrain writes them
    before, after = sides
    # WHEN compared
    code, out = _run(before, after, capsys, "--format", "json")
    # THEN per stack: the version stamp, the source, the version, the lock; and the manifest's stamp; all explained
    report = json.loads(out)
    rules = sorted((d["group"], d["rule"]) for d in report["differences"])
    assert code == 0
    assert rules == sorted([("//", "framework-version"), ("terraform", "provider-source"), ("terraform", "provider-version"),
                            ("file", "provider-lock")] * 5 + [("manifest", "framework-version")])
    assert (report["compared"]["aws_lambda_function"], report["compared"]["aws_kinesis_stream"]) == (7, 4)


def test_the_report_gives_each_rule_its_reason_and_source(sides: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(*sides, capsys)
    assert code == 0
    assert "| terraform | 5 | 10 | provider-source, provider-version |" in out
    assert "| aws_kinesis_stream | 4 | 0 | - |" in out
    assert "Source: hashicorp/terraform internal/addrs/provider.go, ParseProviderSourceString" in out
    assert f'- {DEFAULT_STACK} · terraform.required_providers.aws.source: "aws" → "hashicorp/aws"' in out
    assert out.rstrip().endswith("Every difference explained: 21 in 265 blocks compared.")


def _set_region(value: str) -> Callable[[dict[str, Any]], None]:
    return lambda config: _only(config, STREAM).__setitem__("region", value)


def test_a_resource_region_equal_to_its_providers_is_explained(sides: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN aws 6.x's per-resource region written with the producer provider's own region
    before, after = sides
    _edit(after / "stacks" / DEFAULT_STACK, _set_region("${var.region}"))
    code, out = _run(before, after, capsys, "--format", "json")
    assert code == 0
    (region,) = [d for d in json.loads(out)["differences"] if d["path"] == ["region"]]
    assert (region["address"], region["rule"]) == (f"{STREAM}.{next(iter(json.loads((before / 'stacks' / DEFAULT_STACK / 'cdk.tf.json').read_text())['resource'][STREAM]))}", "region-per-resource")


def _account(reset: Any) -> Callable[[dict[str, Any]], None]:
    def add(config: dict[str, Any]) -> None:
        body = {"cloudwatch_role_arn": "${aws_iam_role.r.arn}", "provider": "aws.producer"}
        config["resource"]["aws_api_gateway_account"] = {"account": {**body, **({} if reset is None else {"reset_on_delete": reset})}}
    return add


def test_reset_on_delete_true_dropped_on_6x_is_explained(sides: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    before, after = sides
    _edit(before / "stacks" / DEFAULT_STACK, _account(True))
    _edit(after / "stacks" / DEFAULT_STACK, _account(None))
    code, out = _run(before, after, capsys)
    assert code == 0
    assert f"- {DEFAULT_STACK} · aws_api_gateway_account.account.reset_on_delete: true → (absent)" in out


def _drop_stack(before: Path, after: Path) -> None:
    shutil.rmtree(after / "stacks" / DEFAULT_STACK)


@pytest.mark.parametrize(("mutate", "listed"), [
    pytest.param(lambda b, a: _edit(a / "stacks" / DEFAULT_STACK, lambda c: _only(c, FUNCTION).__setitem__("memory_size", 512)),
                 f"{FUNCTION}.consumer-function_0425AE5A.memory_size: 256 → 512", id="changed-argument"),
    pytest.param(lambda b, a: _edit(a / "stacks" / DEFAULT_STACK, _set_region("us-east-1")),
                 '.region: (absent) → "us-east-1"', id="region-not-the-providers"),
    pytest.param(lambda b, a: (_edit(b / "stacks" / DEFAULT_STACK, _account(False)), _edit(a / "stacks" / DEFAULT_STACK, _account(None))),
                 "aws_api_gateway_account.account.reset_on_delete: false → (absent)", id="reset-false-dropped"),
    pytest.param(lambda b, a: _edit(a / "stacks" / DEFAULT_STACK, lambda c: c["terraform"]["required_providers"]["aws"].__setitem__("version", "6.0.0")),
                 'terraform.required_providers.aws.version: "5.100.0" → "6.0.0"', id="another-provider-version"),
    pytest.param(lambda b, a: _edit(a / "stacks" / DEFAULT_STACK, lambda c: c["resource"][FUNCTION].clear()),
                 f"{FUNCTION}.consumer-function_0425AE5A: ", id="dropped-resource"),
    pytest.param(lambda b, a: next((a / "stacks" / DEFAULT_STACK / "assets").rglob("*.zip")).write_bytes(b"PK"),
                 '.zip: "present" → "present"', id="archive-bytes"),
    pytest.param(_drop_stack, f"{DEFAULT_STACK}: \"present\" → (absent)", id="missing-stack"),
])
def test_an_unexplained_difference_fails_and_is_listed(sides: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
                                                       mutate: Callable[[Path, Path], Any], listed: str) -> None:
    # GIVEN one change no rule explains
    before, after = sides
    mutate(before, after)
    # WHEN compared
    code, out = _run(before, after, capsys)
    # THEN exit 1, and the difference is listed under UNEXPLAINED
    assert code == 1
    unexplained = out.split("### UNEXPLAINED: ", 1)[1]
    assert unexplained.startswith("1 difference(s)")
    assert listed in unexplained


def test_the_same_line_on_both_sides_explains_nothing(sides: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the cdktn-shaped output compared as if both sides were cdktf: the rules are tied to the lines' pins
    code, out = _run(*sides, capsys, "--after-line", "cdktf")
    # THEN all but the source spellings (one address whatever the line) are unexplained: stamps, versions, locks
    assert code == 1
    assert out.split("### UNEXPLAINED: ", 1)[1].startswith("16 difference(s)")
    assert "- . · manifest.json.version: \"0.21.0\" → \"0.24.0\"" in out


def test_an_unreadable_side_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = line_diff.main(["--before", str(tmp_path / "none"), "--after", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'none'}: neither an output directory (stacks/) nor a directory of them"
