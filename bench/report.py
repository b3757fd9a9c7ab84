"""What both benchmarks do last: write the JSON, print the goal checks, exit 1 if one failed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

ROOT = Path(__file__).resolve().parent.parent


def finish(report: Mapping[str, Any], checks: Mapping[str, bool], output: Path) -> int:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    for check, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {check}")
    print(f"written: {output.resolve().relative_to(ROOT) if output.resolve().is_relative_to(ROOT) else output}")
    return 0 if all(checks.values()) else 1
