"""make diagram: generated from the synthesized JSON, embedded in the README, rendered by Graphviz."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import API_STACK, DDB_STACK, DEFAULT_STACK, REPLICATION_STACK, ROOT, SES_STACK, Synth
from xacct_ops import diagram


def test_readme_embeds_the_current_diagram(synth: Synth) -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- diagram:begin -->\n```mermaid\n(.*?)```\n<!-- diagram:end -->", readme, re.S)
    assert block is not None
    assert block.group(1) == diagram.mermaid(synth.config), "README diagram is stale: run make diagram and paste stack.mmd"


@pytest.mark.parametrize("stack", [DDB_STACK, REPLICATION_STACK, SES_STACK, API_STACK])
def test_readme_embeds_the_current_diagram_of_each_seed_stack(cli_outdir: Path, stack: str) -> None:
    import json

    readme = (ROOT / "README.md").read_text()
    block = re.search(rf"<!-- diagram:{stack}:begin -->\n```mermaid\n(.*?)```\n<!-- diagram:{stack}:end -->", readme, re.S)
    assert block is not None, f"no diagram block for {stack} in the README"
    config = json.loads((cli_outdir / "stacks" / stack / "cdk.tf.json").read_text())
    assert block.group(1) == diagram.mermaid(config), f"README diagram of {stack} is stale: run make diagram STACK={stack}"


def test_graph_has_accounts_references_and_ordering(synth: Synth) -> None:
    nodes, edges = diagram.graph(synth.config)
    assert len(nodes) == sum(len(r) for r in synth.config["resource"].values())
    accounts = {n["account"] for n in nodes.values()}
    assert accounts == {"aws.producer", "aws.consumer"}
    mapping = synth.address("aws_lambda_event_source_mapping")
    after = {target for source, target, kind in edges if source == mapping and kind == "after"}
    assert after == set(synth.only("aws_lambda_event_source_mapping")[1]["depends_on"])
    refs = {target for source, target, kind in edges if source == mapping and kind == "ref"}
    assert refs == {synth.address("aws_kinesis_stream_consumer"), synth.address("aws_lambda_function"), synth.address("aws_sqs_queue", "on-failure-queue")}
    text = diagram.mermaid(synth.config)
    assert 'subgraph producer["producer account"]' in text and 'subgraph consumer["consumer account"]' in text


def test_make_diagram_writes_every_format(cli_outdir: Path, tmp_path: Path) -> None:
    written = diagram.write(cli_outdir / "stacks" / DEFAULT_STACK, tmp_path)
    names = sorted(p.name for p in written)
    if shutil.which("dot") is None:
        assert names == ["stack.dot", "stack.mmd"]
        pytest.skip("graphviz 'dot' is not installed: SVG/PNG not rendered")
    assert names == ["stack.dot", "stack.mmd", "stack.png", "stack.svg"]
    assert (tmp_path / "stack.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "producer account" in (tmp_path / "stack.svg").read_text()


def test_missing_stack_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert diagram.main(["--stack-dir", str(tmp_path), "--out", str(tmp_path / "d")]) == 2
    assert "run 'make synth' first" in capsys.readouterr().err
