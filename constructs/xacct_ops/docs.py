"""`make docs`: the generated parts of README.md and docs/, from the code, so they cannot drift.

A generated part sits between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; everything
outside those markers is written by hand. NAME is one of:

    stacks                  the stack kinds (catalog.KINDS): name, source document, summary, page
    diagram:<stack>         the Mermaid diagram of a synthesized stack (xacct_ops.diagram)
    data-flow:<stack>       the same without its monitoring (alarms, their topics, dashboards)
    resources:<stack>       its resources per account, by type
    variables:<stack>       its Terraform variables: type, description, every validation message
    outputs:<stack>         its Terraform outputs and their descriptions
    settings:<kind>         the settings file's tables for that kind: key, default, what is allowed
    make-targets            the Makefile's targets (their `## ` comments)
    checkov-skips           the checkov exemptions, each for one resource, and their justification (xacct_ops.scan)
    framework-lines         the framework lines and their pins (xacct_streaming.framework)
    line-diff-rules         what explains each JSON difference between the lines (xacct_ops.line_diff)
    request-context         what AWS sends with each call a service makes for the stacks, with sources (xacct_ops.iam.request_context)
    bench-synth, bench-handler, bench-plan(-readme)  the latest benchmark results (bench/results/*.json)

    python -m xacct_ops.docs --stacks-dir cdktf.out/stacks            # rewrite the parts
    python -m xacct_ops.docs --stacks-dir cdktf.out/stacks --check    # exit 1 naming stale files

The settings reference asks the props classes themselves: each key is set to a value no rule
accepts, and the ConfigError's "expected ..." is what the table says is allowed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable

from xacct_ops import diagram
from xacct_ops.iam import request_context

from xacct_ops.docs_bench import bench_handler_block, bench_plan_block, bench_plan_readme_block, bench_synth_block
from xacct_ops.docs_tables import code, framework_lines_block, line_diff_rules_block, table
ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = ("README.md", "docs/*.md", "docs/stacks/*.md")
BLOCK = re.compile(r"(<!-- generated:(?P<name>[a-z0-9:_-]+) -->\n)(?P<body>.*?)(<!-- /generated:(?P=name) -->)", re.S)


# ---- from the synthesized JSON ----------------------------------------------------------------

def stack_blocks(name: str, config: dict[str, Any]) -> dict[str, str]:
    return {
        f"diagram:{name}": "```mermaid\n" + diagram.mermaid(config) + "```\n",
        f"data-flow:{name}": "```mermaid\n" + diagram.mermaid(config, data_flow_only=True) + "```\n",
        f"resources:{name}": _resources(config),
        f"variables:{name}": _variables(config),
        f"outputs:{name}": _outputs(config),
    }


def _resources(config: dict[str, Any]) -> str:
    by_account: dict[str, dict[str, int]] = {}
    for type_, resources in config.get("resource", {}).items():
        for body in resources.values():
            counts = by_account.setdefault(body.get("provider", "aws"), {})
            counts[type_] = counts.get(type_, 0) + 1
    titles = diagram.account_titles(config)
    order = [a for a in titles if a in by_account] + sorted(set(by_account) - set(titles))
    rows = [
        (titles.get(account, account), sum(by_account[account].values()),
         ", ".join(f"`{t}`" + (f" ×{n}" if n > 1 else "") for t, n in sorted(by_account[account].items())))
        for account in order
    ]
    return table(("account", "resources", "by type"), rows)


def _variables(config: dict[str, Any]) -> str:
    rows = []
    for name, body in sorted(config.get("variable", {}).items()):
        default = f" (default `{json.dumps(body['default'])}`)" if "default" in body else ""
        rules = "<br>".join(rule["error_message"] for rule in body.get("validation", []))
        rows.append((f"`{name}`", f"`{body.get('type', 'any')}`{default}", body.get("description", ""), rules or "-"))
    return table(("variable", "type", "description", "rejected with"), rows)


def _outputs(config: dict[str, Any]) -> str:
    rows = [(f"`{name}`", body.get("description", "")) for name, body in sorted(config.get("output", {}).items())]
    return table(("output", "description"), rows)


# ---- from the code ----------------------------------------------------------------------------

class _Unacceptable:
    """A value every settings rule rejects (not a string, number, bool or list)."""

    def __repr__(self) -> str:
        return "<probe>"


REQUIRED_EXAMPLES = {"stream_arn": "arn:aws:kinesis:eu-west-1:111111111111:stream/orders", "name": "analytics", "account": "analytics"}


def allowed(cls: type, key: str) -> str:
    """What the props class accepts for `key`, in the words of its own error message."""
    from xacct_streaming.settings.errors import ConfigError

    # A class with required keys gets valid values for them (its docstring example), so the probe
    # reaches the rule of `key`.
    required = {f.name: REQUIRED_EXAMPLES[f.name] for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and f.name != key}
    try:
        cls(**{**required, key: _Unacceptable()})
    except ConfigError as err:
        if err.field.rpartition(".")[2] == key:
            return err.allowed
    except (TypeError, ValueError):
        pass
    return "any value"


def settings_block(kind_name: str) -> str:
    from xacct_streaming.settings.catalog import KINDS

    kind = KINDS[kind_name]
    defaults = kind.props_type()
    rows: list[tuple[str, ...]] = [
        ("top level", "`kind`", f'`"{kind.name}"`', "the stack kind: one of " + ", ".join(f"`{k}`" for k in KINDS)),
        ("top level", "`stack_name`", code(defaults.stack_name), "a name no other stack of the run uses (another than the kind's default derives every AWS name left out)"),
        ("top level", "`tags`", "`{}`", allowed(kind.props_type, "tags") + "; over the `tags` variable's, on every resource"),
    ]
    # The kind's other top-level settings (the fan-out's retired_accounts and split).
    for field in dataclasses.fields(kind.props_type):
        if field.name not in kind.sections and field.name not in ("kind", "stack_name", "tags"):
            rows.append(("top level", f"`{field.name}`", code(getattr(defaults, field.name)), allowed(kind.props_type, field.name)))
    for section_name, cls in kind.sections.items():
        section = getattr(defaults, section_name)
        if isinstance(section, tuple):  # an array of tables ([[consumers]]): the class's own defaults
            section = None
            section_name = f"[{section_name}]"
        for field in dataclasses.fields(cls):
            if section is not None:
                default = code(getattr(section, field.name))
            elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                default = "required"
            else:  # an optional table: its class's own defaults
                default = code(field.default if field.default is not dataclasses.MISSING else field.default_factory())
            nested = NESTED_TABLES.get(field.name) if section_name.startswith("[") else None
            if nested is not None:  # a table inside each [[consumers]] entry: the core stack's table of that name
                default, allowed_text = nested
                rows.append((f"`[{section_name}]`", f"`{field.name}`", default, allowed_text))
                continue
            rows.append((f"`[{section_name}]`", f"`{field.name}`", default, allowed(cls, field.name)))
    return table(("table", "key", "default", "allowed"), rows)


# Tables inside a [[consumers]] entry: (default, allowed), in words rather than a Python repr.
NESTED_TABLES = {
    "function": ("function `<stack>-<name>`, key `alias/<stack>-<name>`, the rest as `[function]` of xacct-kinesis-efo",
                 "a table with the keys of `[function]` (xacct-kinesis-efo's settings)"),
    "mapping": ("as `[mapping]` of xacct-kinesis-efo", "a table with the keys of `[mapping]` (xacct-kinesis-efo's settings)"),
    "sink": ("table `<stack>-<name>-sink` in the consumer's account", "a table with the keys of `[sink]` (xacct-kinesis-efo's settings)"),
}


def stacks_block() -> str:
    from xacct_streaming.settings.catalog import KINDS

    rows = [
        (f"[`{k.name}`](docs/stacks/{k.name}.md)", k.source_document, k.summary + ("" if k.by_default else " (only from a settings file that names its kind)"))
        for k in KINDS.values()
    ]
    return table(("stack", "source document", "what it is"), rows)


def make_targets_block(makefile: Path) -> str:
    rows = [
        (f"`make {m.group(1)}`", m.group(2).strip())
        for m in re.finditer(r"^([a-z][a-z-]*):[^\n#]*## (.*)$", makefile.read_text(), re.M)
    ]
    return table(("target", "what it does"), rows)


def checkov_skips_block() -> str:
    """Each exemption: the check, the one resource it holds for, and why (xacct_ops.scan)."""
    from xacct_ops.scan import EXEMPTIONS

    rows = [(f"`{e.check_id}`", f"`{e.resource_type}` `{e.construct_path}`", e.justification) for e in EXEMPTIONS]
    return table(("exempted check", "only for (type, construct path)", "justification"), rows)


def runtime_contracts_block() -> str:
    """Each built-in runtime's environment, from its contract (lambda_src/xacct_contracts.py)."""
    import dataclasses

    from xacct_streaming.settings.runtime_contracts import contracts

    rows = []
    for handler, contract in contracts.HANDLERS.items():
        for f in dataclasses.fields(contract):
            if "variable" not in f.metadata:
                continue
            meta = f.metadata
            set_by = "Lambda" if meta["set_by_lambda"] else "the stack"
            default = "" if f.default is dataclasses.MISSING or f.default in ("", None) else f"`{f.default}`"
            rows.append((f"`{handler}`", f"`{meta['variable']}`", f"`{contract.__name__}.{f.name}`", set_by,
                         "yes" if f.name in contract.REQUIRED else "no", meta["what"], default))
    return table(("handler", "variable", "field", "set by", "required", "must be", "default"), rows)


# ---- putting it together ----------------------------------------------------------------------

def all_blocks(stacks_dir: Path, root: Path = ROOT) -> dict[str, str]:
    from xacct_streaming.settings.catalog import KINDS

    blocks: dict[str, str] = {"stacks": stacks_block(), "make-targets": make_targets_block(root / "Makefile"),
                              "checkov-skips": checkov_skips_block(), "request-context": request_context.markdown_table(),
                              "runtime-contracts": runtime_contracts_block(), "framework-lines": framework_lines_block(),
                              "line-diff-rules": line_diff_rules_block()}
    for stack_dir in sorted(p for p in stacks_dir.iterdir() if (p / "cdk.tf.json").is_file()):
        blocks.update(stack_blocks(stack_dir.name, json.loads((stack_dir / "cdk.tf.json").read_text())))
    blocks.update({f"settings:{name}": settings_block(name) for name in KINDS})
    # Settings files of examples/, shown whole where the docs walk through them (tests run them).
    blocks.update({f"example:{path.stem}": f"```toml\n{path.read_text()}```\n" for path in sorted((root / "examples").glob("*.toml"))})
    loaders: dict[str, Callable[[dict[str, Any]], str]] = {
        "bench-synth": bench_synth_block, "bench-handler": bench_handler_block, "bench-plan": bench_plan_block, "bench-plan-readme": bench_plan_readme_block,
    }
    for name, render in loaders.items():
        result_file = root / "bench" / "results" / f"{name.removeprefix('bench-').removesuffix('-readme')}.json"
        if result_file.is_file():
            blocks[name] = render(json.loads(result_file.read_text()))
    return blocks


def doc_files(root: Path = ROOT) -> list[Path]:
    return sorted({p for pattern in DOC_FILES for p in root.glob(pattern)})


def render(text: str, blocks: dict[str, str]) -> tuple[str, list[str]]:
    """The text with every generated part rewritten, and the names of parts nothing generates."""
    unknown: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in blocks:
            unknown.append(name)
            return match.group(0)
        return match.group(1) + blocks[name] + match.group(4)

    return BLOCK.sub(replace, text), unknown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks-dir", type=Path, required=True, help="the synthesized stacks (cdktf.out/stacks)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 naming every stale file")
    args = parser.parse_args(argv)
    if not args.stacks_dir.is_dir():
        print(f"error: {args.stacks_dir} does not exist: run 'make synth' first", file=sys.stderr)
        return 2
    blocks = all_blocks(args.stacks_dir)
    stale, problems = [], []
    for path in doc_files():
        text = path.read_text()
        new, unknown = render(text, blocks)
        problems.extend(f"{path.relative_to(ROOT)}: nothing generates '{name}'" for name in unknown)
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    for path in stale:
        print(f"{'stale' if args.check else 'updated'}: {path.relative_to(ROOT)}")
    if args.check and stale:
        print("run 'make docs' to regenerate", file=sys.stderr)
    return 1 if problems or (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
