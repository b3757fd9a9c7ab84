"""The same settings synthesized on two framework lines (xacct_streaming.framework), compared file by
file and value by value: every difference is explained by a rule with its source, or it fails.

    python -m xacct_ops.line_diff --before OUT_CDKTF --after OUT_CDKTN [--format md|json]

Each side is an output directory (`manifest.json`, `stacks/<stack>/`) or a directory of them (one per
set of settings, `make check-cdktn`'s layout). Every stack's `cdk.tf.json` is compared value by value
(a list element by element), grouped by resource type; its other files (function archives,
`versions.tf`, the provider lock) byte for byte, and `manifest.json` as JSON. Exit 0: each difference
has a rule (RULES); 1: one has none, and it is listed; 2: an input cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from xacct_streaming.framework import LINES, Line

ABSENT = "(absent)"
# What the two lines' provider bindings write for one provider address (see RULES).
AWS_SOURCES = {"aws", "hashicorp/aws"}
# aws 6.0 removed these arguments; without them the 6.x provider behaves as the value shown did on 5.x.
REMOVED_IN_6 = {
    ("aws_api_gateway_account", "reset_on_delete"): True,
}


class InputError(Exception):
    """A side cannot be read: exit 2, naming it."""


@dataclass(frozen=True)
class Difference:
    stack: str  # "<set>/<stack>" ("<stack>" for a single output), or "<set>" ("." for a single output) for manifest.json
    group: str  # a resource type, "data.<type>", "provider.aws", "terraform", "//", "file", "manifest"
    address: str  # "<type>.<name>", or the file's path in the stack directory
    path: tuple[Any, ...]  # within the block or file
    before: Any
    after: Any
    rule: Optional[str] = None


@dataclass(frozen=True)
class Rule:
    id: str
    reason: str
    source: str
    applies: Callable[[Difference, "Sides"], bool]


@dataclass(frozen=True)
class Sides:
    before: Line
    after: Line
    after_config: dict[str, Any]  # the after side's cdk.tf.json of the difference's stack


def _pin(line: Line) -> str:
    return next(d.split("==")[1] for d in line.distributions if d.split("==")[0] == line.core)


def _framework_version(d: Difference, s: Sides) -> bool:
    stamp = (d.group == "//" and d.path == ("metadata", "version")) or (d.group == "manifest" and d.path == ("version",))
    return stamp and (d.before, d.after) == (_pin(s.before), _pin(s.after))


def _provider_source(d: Difference, s: Sides) -> bool:
    return (d.group == "terraform" and d.path == ("required_providers", "aws", "source")
            and {d.before, d.after} <= AWS_SOURCES and d.before != d.after)


def _provider_version(d: Difference, s: Sides) -> bool:
    return (d.group == "terraform" and d.path == ("required_providers", "aws", "version")
            and (d.before, d.after) == (s.before.aws_provider, s.after.aws_provider))


def _provider_lock(d: Difference, s: Sides) -> bool:
    return (d.group == "file" and d.address == ".terraform.lock.hcl" and d.after == ABSENT and d.before != ABSENT
            and s.before.writes_provider_lock and not s.after.writes_provider_lock)


def _provider_region(config: dict[str, Any], body: dict[str, Any]) -> Any:
    alias = str(body.get("provider", "aws")).removeprefix("aws.")
    providers = config.get("provider", {}).get("aws", [])
    for provider in providers if isinstance(providers, list) else [providers]:
        if provider.get("alias", "aws") == alias or (alias == "aws" and "alias" not in provider):
            return provider.get("region", ABSENT)
    return ABSENT


def _after_body(d: Difference, s: Sides) -> Optional[dict[str, Any]]:
    """The after side's resource block the difference is in (`<type>.<name>`), if it is a resource's."""
    type_, _, name = d.address.partition(".")
    return s.after_config.get("resource", {}).get(type_, {}).get(name)


def _region_of_provider(d: Difference, s: Sides) -> bool:
    if d.path != ("region",) or d.before != ABSENT or s.before.aws_major >= 6 or s.after.aws_major < 6:
        return False
    body = _after_body(d, s)
    return body is not None and d.after == _provider_region(s.after_config, body) != ABSENT


def _consumer_tags(d: Difference, s: Sides) -> bool:
    """An EFO consumer's tags on 6.x (6.2.0 added the argument): its stream's own tags."""
    if d.group != "aws_kinesis_stream_consumer" or d.path != ("tags",) or d.before != ABSENT or s.after.aws_major < 6:
        return False
    reference = str((_after_body(d, s) or {}).get("stream_arn", ""))
    if not (reference.startswith("${aws_kinesis_stream.") and reference.endswith(".arn}")):
        return False
    stream = s.after_config.get("resource", {}).get("aws_kinesis_stream", {}).get(reference[len("${aws_kinesis_stream."):-len(".arn}")])
    return stream is not None and d.after == stream.get("tags")


def _removed_in_6(d: Difference, s: Sides) -> bool:
    key = (d.group, d.path[0] if len(d.path) == 1 else None)
    return (key in REMOVED_IN_6 and d.after == ABSENT and d.before == REMOVED_IN_6[key]
            and s.before.aws_major < 6 <= s.after.aws_major)


UPGRADE_GUIDE = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/guides/version-6-upgrade"
RULES = (
    Rule("framework-version", "the framework's version stamp (cdktf 0.21.0 / cdktn 0.24.0) in metadata Terraform ignores",
         "https://developer.hashicorp.com/terraform/language/syntax/json#comment-properties (a `//` property is ignored)",
         _framework_version),
    Rule("provider-source", "one provider address, registry.terraform.io/hashicorp/aws, written two ways: cdktf's bindings "
         "write `aws`, cdktn's `hashicorp/aws`; Terraform gives a source without a namespace hashicorp's",
         "hashicorp/terraform internal/addrs/provider.go, ParseProviderSourceString (`ret.Namespace = \"hashicorp\"`)",
         _provider_source),
    Rule("provider-version", "each line's bindings pin the hashicorp/aws version they are generated for",
         "xacct_streaming.framework.LINES (aws_provider)", _provider_version),
    Rule("provider-lock", "the project's lock lists aws 5.100.0, which the 6.x line's constraint excludes; `terraform init` "
         "writes that line's own lock", "xacct_streaming.framework.LINES (writes_provider_lock)", _provider_lock),
    Rule("region-per-resource", "aws 6.0's per-resource `region`, equal to its provider's region: the same region as before",
         "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/guides/enhanced-region-support "
         "(optional, defaults to the provider's region)", _region_of_provider),
    Rule("consumer-tags", "aws 6.2.0 added `tags` to aws_kinesis_stream_consumer: a stream's own tags go on its enhanced "
         "fan-out consumers too (blocks/shared_stream.py); the deploy role tags them (kinesis:TagResource)",
         "hashicorp/terraform-provider-aws CHANGELOG 6.2.0, #43173", _consumer_tags),
    Rule("removed-in-6", "aws 6.0 removed the argument; its only behaviour is what the 5.x value asked for "
         "(aws_api_gateway_account: a destroy always resets the account's settings)", f"{UPGRADE_GUIDE} (REMOVED_IN_6)",
         _removed_in_6),
)


def _values(path: tuple[Any, ...], before: Any, after: Any) -> Iterator[tuple[tuple[Any, ...], Any, Any]]:
    """(path, before, after) of each value that differs, dicts key by key and equal-length lists element by element."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from _values((*path, key), before.get(key, ABSENT), after.get(key, ABSENT))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (b, a) in enumerate(zip(before, after)):
            yield from _values((*path, index), b, a)
    elif before != after:
        yield path, before, after


def _blocks(config: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(group, address, body) of every top-level block of a cdk.tf.json."""
    for top, body in config.items():
        if top in ("resource", "data", "ephemeral") and isinstance(body, dict):
            prefix = "" if top == "resource" else f"{top}."
            for type_, named in body.items():
                for name, block in named.items():
                    yield f"{prefix}{type_}", f"{prefix}{type_}.{name}", block
        elif top == "provider" and isinstance(body, dict):
            for type_, blocks in body.items():
                for block in blocks if isinstance(blocks, list) else [blocks]:
                    alias = block.get("alias", "default") if isinstance(block, dict) else "default"
                    yield f"provider.{type_}", f"provider.{type_}.{alias}", block
        else:
            yield top, top, body


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: {error}") from None


def compare_stack(stack: str, before_dir: Path, after_dir: Path, before: dict[str, Any], after: dict[str, Any]) -> Iterator[Difference]:
    """The differences of one stack: `before` and `after` are its parsed cdk.tf.json on each side."""
    b_blocks = {(g, a): body for g, a, body in _blocks(before)}
    a_blocks = {(g, a): body for g, a, body in _blocks(after)}
    for group, address in sorted(set(b_blocks) | set(a_blocks)):
        for path, b, a in _values((), b_blocks.get((group, address), ABSENT), a_blocks.get((group, address), ABSENT)):
            yield Difference(stack, group, address, path, b, a)
    files = {p.relative_to(before_dir).as_posix() for p in before_dir.rglob("*") if p.is_file()}
    files |= {p.relative_to(after_dir).as_posix() for p in after_dir.rglob("*") if p.is_file()}
    for name in sorted(files - {"cdk.tf.json"}):
        b, a = before_dir / name, after_dir / name
        if not (b.is_file() and a.is_file() and b.read_bytes() == a.read_bytes()):
            yield Difference(stack, "file", name, (), "present" if b.is_file() else ABSENT, "present" if a.is_file() else ABSENT)


def output_dirs(root: Path) -> dict[str, Path]:
    """An output directory as {"": root}, or a directory of them by name."""
    if (root / "stacks").is_dir():
        return {"": root}
    found = {p.name: p for p in sorted(root.iterdir()) if (p / "stacks").is_dir()} if root.is_dir() else {}
    if not found:
        raise InputError(f"{root}: neither an output directory (stacks/) nor a directory of them")
    return found


def compare(before_root: Path, after_root: Path, before_line: Line, after_line: Line) -> tuple[list[Difference], dict[str, int]]:
    """Every difference, each with its rule's id or None; and how many blocks of each group were compared."""
    b_sets, a_sets = output_dirs(before_root), output_dirs(after_root)
    found: list[Difference] = []
    compared: dict[str, int] = {}
    for set_name in sorted(set(b_sets) | set(a_sets)):
        if set_name not in b_sets or set_name not in a_sets:
            found.append(Difference(set_name, "set", set_name, (), "present" if set_name in b_sets else ABSENT,
                                    "present" if set_name in a_sets else ABSENT))
            continue
        b_out, a_out = b_sets[set_name], a_sets[set_name]
        for path, b, a in _values((), _read_json(b_out / "manifest.json"), _read_json(a_out / "manifest.json")):
            found.append(_explained(Difference(set_name or ".", "manifest", "manifest.json", path, b, a), Sides(before_line, after_line, {})))
        stacks = {p.name for p in (b_out / "stacks").iterdir() if p.is_dir()} | {p.name for p in (a_out / "stacks").iterdir() if p.is_dir()}
        for stack in sorted(stacks):
            key = f"{set_name}/{stack}".lstrip("/")
            b_dir, a_dir = b_out / "stacks" / stack, a_out / "stacks" / stack
            if not (b_dir.is_dir() and a_dir.is_dir()):
                found.append(Difference(key, "stack", stack, (), "present" if b_dir.is_dir() else ABSENT, "present" if a_dir.is_dir() else ABSENT))
                continue
            before, after = _read_json(b_dir / "cdk.tf.json"), _read_json(a_dir / "cdk.tf.json")
            for group, _, _ in _blocks(before):
                compared[group] = compared.get(group, 0) + 1
            sides = Sides(before_line, after_line, after)
            found += [_explained(difference, sides) for difference in compare_stack(key, b_dir, a_dir, before, after)]
    return found, compared


def _explained(difference: Difference, sides: Sides) -> Difference:
    return replace(difference, rule=next((r.id for r in RULES if r.applies(difference, sides)), None))


def _show(value: Any) -> str:
    return value if value == ABSENT else json.dumps(value)


def render(found: list[Difference], compared: dict[str, int], before_line: Line, after_line: Line) -> str:
    """The difference per resource type (and other block), each with its rule; the unexplained last."""
    lines = [f"## Framework lines: {before_line.name} (aws {before_line.aws_provider}) → {after_line.name} (aws {after_line.aws_provider})", "",
             "| resource type or block | compared | differences | explained by |", "|---|---:|---:|---|"]
    groups = sorted(set(compared) | {d.group for d in found})
    for group in groups:
        mine = [d for d in found if d.group == group]
        rules = sorted({d.rule or "UNEXPLAINED" for d in mine})
        lines.append(f"| {group} | {compared.get(group, '')} | {len(mine)} | {', '.join(rules) or '-'} |")
    by_rule = {r.id: r for r in RULES}
    for rule_id in [r.id for r in RULES if any(d.rule == r.id for d in found)]:
        rule = by_rule[rule_id]
        lines += ["", f"### {rule.id}: {rule.reason}", f"Source: {rule.source}", ""]
        lines += [f"- {d.stack} · {d.address}{_path(d)}: {_show(d.before)} → {_show(d.after)}" for d in found if d.rule == rule_id]
    unexplained = [d for d in found if d.rule is None]
    if unexplained:
        lines += ["", f"### UNEXPLAINED: {len(unexplained)} difference(s) no rule explains (xacct_ops/line_diff.py RULES)", ""]
        lines += [f"- {d.stack} · {d.address}{_path(d)}: {_show(d.before)} → {_show(d.after)}" for d in unexplained]
    else:
        lines += ["", f"Every difference explained: {len(found)} in {sum(compared.values())} blocks compared."]
    return "\n".join(lines) + "\n"


def _path(d: Difference) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in d.path)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--before-line", choices=sorted(LINES), default="cdktf")
    parser.add_argument("--after-line", choices=sorted(LINES), default="cdktn")
    parser.add_argument("--format", choices=["md", "json"], default="md")
    args = parser.parse_args(argv)
    before_line, after_line = LINES[args.before_line], LINES[args.after_line]
    try:
        found, compared = compare(args.before, args.after, before_line, after_line)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps({"compared": compared, "differences": [asdict(d) for d in found]}, indent=1))
    else:
        print(render(found, compared, before_line, after_line), end="")
    return 1 if any(d.rule is None for d in found) else 0


if __name__ == "__main__":
    sys.exit(main())
