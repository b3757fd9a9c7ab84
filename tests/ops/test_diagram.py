"""make diagram: generated from the synthesized JSON, rendered by Graphviz (docs embed it: test_docs.py)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import DEFAULT_STACK, Synth
from xacct_ops import diagram


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


def test_mermaid_ids_are_readable_and_unique(synth: Synth) -> None:
    # GIVEN the core stack WHEN drawn
    text = diagram.mermaid(synth.config)
    # THEN nodes are named after what they are and where they sit, not hashed Terraform names
    assert '    kinesis_stream__shared_stream__stream["kinesis_stream<br/>shared-stream/stream"]' in text.splitlines()
    assert "  lambda_event_source_mapping__mapping__mapping -.-> kinesis_resource_policy__shared_stream__stream_policy" in text.splitlines()
    node_ids = [line.split("[", 1)[0].strip() for line in text.splitlines() if line.startswith("    ")]
    assert len(node_ids) == len(set(node_ids)) == sum(len(r) for r in synth.config["resource"].values())
    assert not [i for i in node_ids if re.search(r"_[0-9A-F]{8}$", i)]


def test_colliding_paths_get_distinct_ids() -> None:
    # GIVEN two resources of one type whose construct paths differ only in punctuation
    config = {"resource": {"aws_sqs_queue": {
        "a_1": {"//": {"metadata": {"path": "s/queue-one"}}, "provider": "aws.consumer"},
        "a_2": {"//": {"metadata": {"path": "s/queue_one"}}, "provider": "aws.consumer"},
    }}}
    # WHEN drawn THEN each keeps its own node
    lines = diagram.mermaid(config).splitlines()
    assert '    sqs_queue__queue_one["sqs_queue<br/>queue-one"]' in lines
    assert '    sqs_queue__queue_one_2["sqs_queue<br/>queue_one"]' in lines
