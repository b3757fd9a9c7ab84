"""`make diagram`: the synthesized configuration as an architecture diagram, so it cannot drift.

Accounts (the resources' provider aliases) are boxes, resources are nodes inside them, a solid
arrow `A --> B` means A refers to B (an attribute of B appears in A), a dashed arrow means A
`depends_on` B. Writes Graphviz DOT (rendered to SVG and PNG when `dot` is installed) and a
Mermaid flowchart, which the README and docs/ embed (`make docs`; a test fails when they are stale).

    python -m xacct_ops.diagram --stack-dir cdktf.out/stacks/xacct-kinesis-efo --out cdktf.out/diagram
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

REFERENCE = re.compile(r"\$\{[^}]*?\b(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+")
def account_titles(config: dict[str, Any]) -> dict[str, str]:
    """One box per provider alias, in the order the stack declares them (producer first)."""
    aliases = [p["alias"] for p in config.get("provider", {}).get("aws", []) if "alias" in p] or ["producer", "consumer"]
    return {f"aws.{alias}": f"{alias} account" for alias in aliases}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "//":
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


MONITORING_TYPES = ("aws_cloudwatch_metric_alarm", "aws_cloudwatch_dashboard")


def is_monitoring(type_: str, path: str) -> bool:
    """An alarm, a dashboard, or a part of an account's alarm topic (its key, policy, subscriptions)."""
    return type_ in MONITORING_TYPES or path.split("/", 1)[0].endswith("-alarm-topic")


def graph(config: dict[str, Any], data_flow_only: bool = False) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, str]]]:
    """Nodes {address: {label, account}} and edges [(from, to, "ref"|"after")]; `data_flow_only`:
    without the monitoring (alarms, their topics, dashboards)."""
    nodes: dict[str, dict[str, str]] = {}
    for type_, resources in sorted(config.get("resource", {}).items()):
        for name, body in sorted(resources.items()):
            path = body.get("//", {}).get("metadata", {}).get("path", name).split("/", 1)[-1]
            if data_flow_only and is_monitoring(type_, path):
                continue
            nodes[f"{type_}.{name}"] = {"label": f"{type_.removeprefix('aws_')}<br/>{path}", "account": body.get("provider", "aws")}
    edges: set[tuple[str, str, str]] = set()
    for type_, resources in config.get("resource", {}).items():
        for name, body in resources.items():
            source = f"{type_}.{name}"
            if source not in nodes:
                continue
            for text in _strings({k: v for k, v in body.items() if k != "depends_on"}):
                for ref_type, ref_name in REFERENCE.findall(text):
                    target = f"{ref_type}.{ref_name}"
                    if target in nodes and target != source:
                        edges.add((source, target, "ref"))
            for target in body.get("depends_on", []):
                if target in nodes:
                    edges.add((source, target, "after"))
    return nodes, sorted(edges)


def _node_id(address: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", address)


def _readable_ids(nodes: dict[str, dict[str, str]]) -> dict[str, str]:
    """Mermaid ids from what a resource is and its construct path (`kinesis_stream__shared_stream__stream`),
    not its hashed Terraform name, so the diagram's source reads like the stack; unique per stack."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for address, node in nodes.items():
        type_, path = node["label"].split("<br/>", 1)
        base = "__".join(re.sub(r"[^A-Za-z0-9]+", "_", part).strip("_") for part in [type_, *path.split("/")])
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}_{n}", n + 1
        ids[address] = candidate
        taken.add(candidate)
    return ids


def mermaid(config: dict[str, Any], data_flow_only: bool = False) -> str:
    nodes, edges = graph(config, data_flow_only)
    ids = _readable_ids(nodes)
    titles = account_titles(config)
    lines = ["flowchart LR"]
    for account, title in titles.items():
        lines.append(f'  subgraph {account.split(".")[1]}["{title}"]')
        lines.extend(f'    {ids[a]}["{n["label"]}"]' for a, n in nodes.items() if n["account"] == account)
        lines.append("  end")
    lines.extend(f'  {ids[a]}["{n["label"]}"]' for a, n in nodes.items() if n["account"] not in titles)
    lines.extend(f"  {ids[s]} {'-->' if kind == 'ref' else '-.->'} {ids[t]}" for s, t, kind in edges)
    return "\n".join(lines) + "\n"


def dot(config: dict[str, Any]) -> str:
    nodes, edges = graph(config)
    lines = ["digraph stack {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica", fontsize=10];']
    for account, title in account_titles(config).items():
        lines.append(f'  subgraph cluster_{account.split(".")[1]} {{ label="{title}"; style=rounded;')
        lines.extend(f'    {_node_id(a)} [label="{n["label"].replace("<br/>", chr(92) + "n")}"];' for a, n in nodes.items() if n["account"] == account)
        lines.append("  }")
    lines.extend(f"  {_node_id(s)} -> {_node_id(t)}{' [style=dashed, label=after]' if kind == 'after' else ''};" for s, t, kind in edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def write(stack_dir: Path, out: Path) -> list[Path]:
    config = json.loads((stack_dir / "cdk.tf.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("stack.mmd", mermaid(config)), ("stack.dot", dot(config))):
        (out / name).write_text(text)
        written.append(out / name)
    if shutil.which("dot"):
        for fmt in ("svg", "png"):
            subprocess.run(["dot", f"-T{fmt}", str(out / "stack.dot"), "-o", str(out / f"stack.{fmt}")], check=True)
            written.append(out / f"stack.{fmt}")
    else:
        print("graphviz 'dot' not found: wrote DOT and Mermaid only (apt-get install graphviz for SVG/PNG)", file=sys.stderr)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if not (args.stack_dir / "cdk.tf.json").is_file():
        print(f"error: no cdk.tf.json in {args.stack_dir}: run 'make synth' first", file=sys.stderr)
        return 2
    for path in write(args.stack_dir, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
