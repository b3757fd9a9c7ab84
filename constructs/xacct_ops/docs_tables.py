"""Markdown tables and values as the generated parts of the docs write them."""

from __future__ import annotations

import json
from typing import Any, Iterable


def table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(str(cell).replace("|", "\\|").replace("\n", " ") for cell in row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def code(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, (tuple, list)):
        return "`[" + ", ".join(json.dumps(v) for v in value) + "]`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value}`"


def framework_lines_block() -> str:
    """The framework lines (xacct_streaming.framework.LINES): what each installs and what it can do here."""
    from xacct_streaming.framework import DEFAULT, ENV, LINES

    venvs = {"cdktf": "`.venv` (`make venv`, requirements.txt)", "cdktn": "`.venv-cdktn` (`make .venv-cdktn/.installed`, requirements-cdktn.txt)"}
    rows = [(f"`{ENV}={line.name}`" + (" (default)" if line.name == DEFAULT else ""), ", ".join(f"`{d}`" for d in line.distributions),
             line.aws_provider, venvs.get(line.name, ""), "yes" if line.can_plan_here else "no: synthesized, scanned and reviewed only",
             "yes" if line.writes_provider_lock else "no: `terraform init` writes it")
            for line in LINES.values()]
    return table(("line", "packages", "hashicorp/aws", "environment", "validated and planned on this machine", "provider lock in each stack"), rows)


def line_diff_rules_block() -> str:
    """The rules that explain a JSON difference between the lines (xacct_ops.line_diff.RULES)."""
    from xacct_ops.line_diff import RULES

    return table(("rule", "explains", "source"), ((f"`{r.id}`", r.reason, r.source) for r in RULES))
