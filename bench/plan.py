#!/usr/bin/env python3
"""Plan benchmark: what one `terraform plan` of a fan-out costs as accounts are added, and what the
split mode's plans cost, against the rehearsal's moto server.

Terraform starts one AWS provider process per provider alias, so a plan's memory and time grow with
the accounts it holds. Measured side by side in one run, alternating cases each round (after an
untimed init each): the core two-account stack's plan (the baseline); a fan-out with 2, 5, 10 and 20
consumer accounts, one EFO reader each (3 to 21 providers); and the 20-account fan-out split, its
producer plan and one consumer account plan (one provider each). Wall time and peak RSS of the whole
process tree (terraform and its provider plugins, sampled from /proc every 20 ms). Prints medians
and ratios to the baseline, writes bench/results/plan.json.

    make bench-plan            # or: .venv/bin/python bench/plan.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import measure  # run as a script, bench/ is on sys.path
from report import finish
from synth import fanout_settings, machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "harness"))
import rehearse  # noqa: E402  (moto server, provider overrides and tfvars of the rehearsal)

RESULTS = ROOT / "bench" / "results" / "plan.json"
CONSUMER_ACCOUNTS = (2, 5, 10, 20)
SPLIT_OF = 20
# Split mode: any one plan within 10% of today's two-account plan, whatever the number of accounts.
GOALS = {"split_peak_rss_to_two_account_max": 1.10}


def synthesize(outdir: Path, *args: str) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "--outdir", str(outdir), *args], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"synth failed: {result.stderr[-2000:]}")


def plan_once(stack_dir: Path, env: dict[str, str]) -> dict[str, float]:
    """Wall seconds and peak tree RSS (MB) of one `terraform plan`."""
    argv = ["terraform", "plan", "-input=false", "-no-color", "-lock=false", "-var-file=rehearsal.tfvars", "-out=bench.tfplan"]
    run = measure(argv, cwd=stack_dir, env=env, interval=0.02)
    if run.returncode != 0 or "Plan:" not in run.output:
        raise SystemExit(f"plan failed in {stack_dir.name}:\n{run.output[-3000:]}")
    return {"seconds": run.seconds, "peak_tree_rss_mb": run.peak_tree_rss_mb}


def prepare(work: Path, endpoint: str) -> dict[str, tuple[Path, int]]:
    """Each case's stack directory (synthesized, overridden for moto, initialized) and its provider count."""
    cases: dict[str, tuple[Path, int]] = {}
    synthesize(work / "core", "--stack", "xacct-kinesis-efo")
    cases["two_account"] = (work / "core" / "stacks" / "xacct-kinesis-efo", 2)
    for n in CONSUMER_ACCOUNTS:
        settings = fanout_settings(work / f"fanout-{n}.toml", n)
        synthesize(work / f"fanout-{n}", "--config", str(settings), "--stack", "bench-fanout")
        cases[f"fanout_{n}"] = (work / f"fanout-{n}" / "stacks" / "bench-fanout", n + 1)
    synthesize(work / "split", "--config", str(fanout_settings(work / "split.toml", SPLIT_OF, split=True)), "--stack", "bench-fanout")
    cases["split_producer"] = (work / "split" / "stacks" / "bench-fanout-producer", 1)
    cases["split_account"] = (work / "split" / "stacks" / "bench-fanout-team00", 1)
    env = rehearse.mirror_config(work)
    for name, (stack_dir, _) in cases.items():
        rehearse.write_override(stack_dir, endpoint)
        if name == "split_producer":
            rehearse.split_tfvars(stack_dir, None)
            roles = {f"team{i:02d}": f"arn:aws:iam::{rehearse.stable_account_id(f'team{i:02d}')}:role/bench-fanout-team{i:02d}-role" for i in range(SPLIT_OF)}
            (stack_dir / "split-handoff.auto.tfvars.json").write_text(json.dumps({"reader_role_arns": roles}))
        elif name == "split_account":
            rehearse.split_tfvars(stack_dir, rehearse.stable_account_id("team00"))
            stream = f"arn:aws:kinesis:{rehearse.REGION}:{rehearse.PRODUCER}:stream/bench-fanout"
            share = {"stream_arn": stream, "key_arn": f"arn:aws:kms:{rehearse.REGION}:{rehearse.PRODUCER}:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
                     "event_source_arns": {"team00": f"{stream}/consumer/bench-fanout-team00:1700000000"}}
            (stack_dir / "split-handoff.auto.tfvars.json").write_text(json.dumps({"stream_share": share}))
        rehearse.terraform(stack_dir, env, "init", "-input=false")
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="measured plans per case, after one warm-up round (default 3)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs must be at least 3")
    if shutil.which("terraform") is None:
        print("terraform is not on PATH", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-plan-"))
    measured: dict[str, list[dict[str, float]]] = {}
    try:
        with rehearse.moto_server() as endpoint:
            cases = prepare(work, endpoint)
            env = rehearse.mirror_config(work)
            for stack_dir, _ in cases.values():
                plan_once(stack_dir, env)  # warm-up: page cache, moto's first calls
            measured = {name: [] for name in cases}
            for index in range(args.runs):
                for name, (stack_dir, providers) in cases.items():  # alternate, so drift hits every case alike
                    result = plan_once(stack_dir, env)
                    measured[name].append(result)
                    print(f"run {index + 1}/{args.runs} {name:15s} {providers:2d} providers {result['seconds']:6.1f} s {result['peak_tree_rss_mb']:7.0f} MB", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    summary = {
        name: {
            "providers": cases[name][1],
            "median_seconds": statistics.median(r["seconds"] for r in runs),
            "median_peak_tree_rss_mb": statistics.median(r["peak_tree_rss_mb"] for r in runs),
            "max_peak_tree_rss_mb": max(r["peak_tree_rss_mb"] for r in runs),
        }
        for name, runs in measured.items()
    }
    base = summary["two_account"]
    for entry in summary.values():
        entry["seconds_to_two_account"] = entry["median_seconds"] / base["median_seconds"]
        entry["peak_rss_to_two_account"] = entry["median_peak_tree_rss_mb"] / base["median_peak_tree_rss_mb"]
    split_worst = max(summary["split_producer"]["peak_rss_to_two_account"], summary["split_account"]["peak_rss_to_two_account"])
    print(f"\n{'case':15s} {'providers':>9s} {'median s':>9s} {'peak MB':>8s} {'x time':>7s} {'x memory':>8s}")
    for name, entry in summary.items():
        print(f"{name:15s} {entry['providers']:9d} {entry['median_seconds']:9.1f} {entry['median_peak_tree_rss_mb']:8.0f} "
              f"{entry['seconds_to_two_account']:7.2f} {entry['peak_rss_to_two_account']:8.2f}")
    checks = {"split mode: every plan's peak memory within 10% of the two-account plan": split_worst <= GOALS["split_peak_rss_to_two_account_max"]}
    report = {
        "benchmark": "plan",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "runs_per_case": args.runs,
        "summary": summary,
        "split_worst_peak_rss_to_two_account": split_worst,
        "goals": GOALS,
        "checks": checks,
        "runs": measured,
    }
    return finish(report, checks, args.output)


if __name__ == "__main__":
    sys.exit(main())
