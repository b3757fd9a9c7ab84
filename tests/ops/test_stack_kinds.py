"""A stack kind is registered once (catalog.StackKind) and every tool picks it up from what synthesis
records in manifest.json: smoke runs its flow, the rehearsal its scenario, the policy check looks for
the calls it names."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import ROOT
from xacct_ops import smoke, smoke_flows
from xacct_streaming.settings.catalog import KINDS, MAPPED_CALLS, StackKind, kind_of, register, unregister
from xacct_streaming.settings.config import props_from_mapping
from xacct_streaming.settings.kinesis_efo import StackProps

TOY = "toy-stream"


@dataclass(frozen=True, kw_only=True)
class ToyProps(StackProps):
    """The core stack's props under a kind of its own."""

    stack_name: str = TOY


def _toy_stack(scope: Any, props: ToyProps) -> Any:
    from xacct_streaming.stacks.cross_account_streaming_stack import CrossAccountStreamingStack

    return CrossAccountStreamingStack(scope, props)


@pytest.fixture
def toy_kind() -> Iterator[StackKind]:
    core = KINDS["xacct-kinesis-efo"]
    kind = register(StackKind(TOY, ToyProps, core.sections, _toy_stack, "000", "the core stack as a kind of its own", smoke_flow="stream_to_table",
                              rehearsal="kinesis_consumer", calls=MAPPED_CALLS, by_default=False))
    try:
        yield kind
    finally:
        unregister(TOY)


@pytest.fixture
def toy_output(toy_kind: StackKind, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from xacct_streaming.synthesis.synth import synthesize

    outdir = tmp_path_factory.mktemp("toy") / "cdktf.out"
    synthesize([props_from_mapping({"kind": TOY})], outdir=outdir)
    return outdir


def test_a_settings_file_names_a_registered_kind(toy_kind: StackKind) -> None:
    props = props_from_mapping({"kind": TOY, "stack_name": "toy-two"})
    assert (type(props), props.stack_name, kind_of(props)) == (ToyProps, "toy-two", toy_kind)


def test_a_kind_is_registered_once_and_a_built_in_one_stays() -> None:
    with pytest.raises(ValueError, match="a stack kind named 'xacct-kinesis-efo' is already registered"):
        register(KINDS["xacct-kinesis-efo"])
    with pytest.raises(ValueError, match="'xacct-kinesis-efo' is a built-in stack kind"):
        unregister("xacct-kinesis-efo")


def test_every_tool_picks_up_a_registered_kind(toy_output: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a toy kind's stack, synthesized
    stack_dir = toy_output / "stacks" / TOY
    entry = json.loads((toy_output / "manifest.json").read_text())["stacks"][TOY]
    assert {k: entry[k] for k in ("kind", "smoke_flow", "rehearsal", "calls")} == {
        "kind": TOY, "smoke_flow": "stream_to_table", "rehearsal": "kinesis_consumer", "calls": list(MAPPED_CALLS)}
    # WHEN smoke runs dry on its outputs, THEN it runs the kind's flow
    config = json.loads((stack_dir / "cdk.tf.json").read_text())
    (stack_dir / "outputs.json").write_text(json.dumps({name: {"value": f"{name}-value"} for name in config["output"]}))
    (tmp_path / "terraform.tfvars").write_text((ROOT / "terraform.tfvars.example").read_text())
    assert smoke.main(["--tfvars", str(tmp_path / "terraform.tfvars"), "--outputs", str(stack_dir / "outputs.json"), "--dry-run"]) == 0
    assert capsys.readouterr().out == f"DRY   {TOY}: stream_to_table (stream stream_name-value -> table sink_table_name-value); accounts producer, consumer\n"
    # WHEN the rehearsal lists it, THEN with the kind's scenario (another process: it reads the manifest, not this registry)
    listed = subprocess.run([sys.executable, str(ROOT / "tests" / "harness" / "rehearse.py"), "--list", str(stack_dir)], capture_output=True, text=True, timeout=120)
    assert (listed.returncode, listed.stdout) == (0, f"{TOY}: kind {TOY}, scenario kinesis_consumer\n"), listed.stderr
    # WHEN the policy check runs on it, THEN every call is decided and every resource type the kind names has calls
    checked = _policy_check(toy_output, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{TOY}: 35 allowed and 88 denied as expected, 0 wrong" in checked.stdout and "MISSING" not in checked.stdout


def test_the_policy_check_fails_when_a_kinds_calls_are_not_found(toy_output: Path, tmp_path: Path) -> None:
    # GIVEN the toy stack's manifest naming calls the stack does not make (a kind whose stack lost its delivery stream)
    manifest = toy_output / "manifest.json"
    written = json.loads(manifest.read_text())
    written["stacks"][TOY]["calls"].append("aws_kinesis_firehose_delivery_stream")
    manifest.write_text(json.dumps(written))
    # WHEN / THEN the check fails, naming the type
    checked = _policy_check(toy_output, tmp_path)
    assert checked.returncode == 1
    assert (f"MISSING  {TOY}: kind {TOY} expects calls of aws_kinesis_firehose_delivery_stream (catalog.StackKind.calls); "
            "the IAM model found none") in checked.stdout.splitlines()


def _policy_check(outdir: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "tests" / "harness" / "policy_check.py"), "--stacks-dir", str(outdir / "stacks"),
                           "--reports", str(tmp_path / "reports")], capture_output=True, text=True, timeout=300)


def _scenario_names() -> set[str]:
    """The rehearsal's scenarios, read from its source (importing it starts its moto extensions)."""
    import ast

    tree = ast.parse((ROOT / "tests" / "harness" / "rehearse.py").read_text())
    (scenarios,) = [node.value for node in ast.walk(tree) if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "SCENARIOS"]
    assert isinstance(scenarios, ast.Dict)
    return {key.value if isinstance(key, ast.Constant) else "fanout" for key in scenarios.keys}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_built_in_kind_names_a_flow_a_scenario_and_calls_the_tools_have(kind: str) -> None:
    from xacct_ops.iam.calls import BY_TYPE

    found = KINDS[kind]
    assert found.smoke_flow in smoke_flows.FLOWS
    assert found.rehearsal in _scenario_names()
    assert found.calls and set(found.calls) <= set(BY_TYPE)
