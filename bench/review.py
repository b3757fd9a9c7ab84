#!/usr/bin/env python3
"""Access-review benchmark: the review of a 20-account fan-out against the 2-account one, side by side.

Both fan-outs are synthesized once; then each review (`python -m xacct_ops.access_review` from an
empty state to the fan-out: every access is new, the most the engine decides) runs alternately,
a process each, and medians are reported. The goal (issue 28): the 20-account review under 10 s.

    make bench-review          # or: .venv/bin/python bench/review.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from report import finish  # noqa: E402
from synth import fanout_settings, machine  # noqa: E402

GOAL_SECONDS = 10.0


def review_seconds(stack_dir: Path, empty: Path) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "xacct_ops.access_review", "--before", str(empty), "--after", str(stack_dir), "--format", "json"],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "constructs")}, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"the review failed: {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    report.update({f"identity_only_{k}": v for k, v in report.pop("identity_only", {}).items()})
    return elapsed, {key: len(value) for key, value in report.items() if key != "prices"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "review.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        work = Path(tmp)
        empty = work / "empty-state.json"
        empty.write_text("")
        dirs = {}
        for accounts in (2, 20):
            out = work / f"fanout-{accounts}"
            subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(fanout_settings(work / f"{accounts}.toml", accounts)),
                            "--outdir", str(out)], cwd=ROOT, check=True, capture_output=True, timeout=600)
            dirs[accounts] = out / "stacks" / "bench-fanout"
        times: dict[int, list[float]] = {2: [], 20: []}
        sizes: dict[int, dict[str, int]] = {}
        review_seconds(dirs[2], empty)  # warm-up (Node's and Python's caches)
        for _ in range(args.runs):
            for accounts in (2, 20):
                elapsed, sizes[accounts] = review_seconds(dirs[accounts], empty)
                times[accounts].append(elapsed)
    medians = {accounts: statistics.median(values) for accounts, values in times.items()}
    report = {"date": time.strftime("%Y-%m-%d"), "runs": args.runs, "machine": machine(),
              "cases": {f"fanout_{a}": {"median_seconds": round(medians[a], 3), "seconds": [round(t, 3) for t in times[a]], "entries": sizes[a]} for a in (2, 20)},
              "ratio_20_to_2": round(medians[20] / medians[2], 2)}
    for accounts in (2, 20):
        print(f"fan-out, {accounts:2d} accounts: median {medians[accounts]:.2f} s over {args.runs} runs, {sizes[accounts]['added']} access entries")
    print(f"20 accounts / 2 accounts: {report['ratio_20_to_2']}x")
    return finish(report, {f"20-account review under {GOAL_SECONDS:.0f} s (median {medians[20]:.2f} s)": medians[20] < GOAL_SECONDS}, args.output)


if __name__ == "__main__":
    sys.exit(main())
