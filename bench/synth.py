#!/usr/bin/env python3
"""Synth benchmark: the lazy provider loader against the stock full import, side by side; and a
fan-out of 20 consumers in 20 accounts against the single-consumer stack.

Runs `python main.py` both ways alternately (after one warm-up run each), measures wall time
and peak RSS of the whole process tree (Python plus the jsii Node kernel, sampled from /proc),
checks that both outputs are byte-identical, times a no-op `make synth`; then synthesizes the
core stack alone and a 20-account fan-out alternately, and times `terraform validate` of the
fan-out three times (when terraform and the provider mirror are here). Prints medians and ratios, and writes
everything to bench/results/synth.json.

    make bench-synth            # or: .venv/bin/python bench/synth.py --runs 5
"""

from __future__ import annotations

import argparse
import filecmp
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import measure  # run as a script, bench/ is on sys.path
from report import finish

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "synth.json"
GOALS = {
    "lazy_median_seconds_max": 6.0, "lazy_peak_rss_mb_max": 450.0, "speedup_min": 3.5, "noop_make_synth_seconds_max": 1.0,
    "fanout_20_to_single_ratio_max": 1.5, "fanout_20_validate_seconds_max": 10.0,
}
FANOUT_CONSUMERS = 20
VALIDATE_RUNS = 3


def run_once(env: dict[str, str], outdir: Path, args: tuple[str, ...] = ()) -> dict[str, float]:
    """Wall seconds and peak RSS (MB) of one `python main.py`, descendants included."""
    run = measure([sys.executable, str(ROOT / "main.py"), "--outdir", str(outdir), *args], cwd=ROOT, env=env, interval=0.01)
    if run.returncode != 0:
        raise SystemExit(f"synth failed ({run.returncode}): {run.output[-2000:]}")
    return {"seconds": run.seconds, "peak_tree_rss_mb": run.peak_tree_rss_mb, "max_process_rss_mb": run.max_process_rss_mb}


def same_tree(a: Path, b: Path) -> bool:
    comparison = filecmp.dircmp(a, b)
    if comparison.left_only or comparison.right_only or comparison.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, comparison.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(a / d, b / d) for d in comparison.common_dirs)


def noop_make_synth(outdir: Path) -> float:
    """Seconds of a second `make synth` when nothing changed since the first."""
    make = ["make", "--no-print-directory", "synth", f"OUTDIR={outdir}", f"VENV={Path(sys.executable).parent.parent}"]
    subprocess.run(make, cwd=ROOT, check=True, capture_output=True)
    started = time.perf_counter()
    result = subprocess.run(make, cwd=ROOT, check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if "main.py" in result.stdout:
        raise SystemExit(f"the second make synth ran the app again:\n{result.stdout}")
    return elapsed


def fanout_settings(path: Path, consumers: int, split: bool = False) -> Path:
    """A fan-out of `consumers` readers, each in an account of its own, through EFO (`split`: a plan per account)."""
    tables = "".join(f'[[consumers]]\nname = "team{i:02d}"\naccount = "team{i:02d}"\n' for i in range(consumers))
    path.write_text('kind = "xacct-kinesis-fanout"\nstack_name = "bench-fanout"\n' + ("split = true\n" if split else "") + tables)
    return path


def terraform_validate_seconds(stack_dir: Path) -> float | None:
    """Median seconds of `terraform validate` over VALIDATE_RUNS runs (after an untimed `init -backend=false`),
    or None without terraform."""
    mirror = next((p.parent for p in sorted(Path("/opt").glob("*/registry.terraform.io")) if (p / "hashicorp/aws").is_dir()), None)
    mirror = Path(os.environ["TF_PLUGIN_MIRROR"]) if os.environ.get("TF_PLUGIN_MIRROR") else mirror
    if shutil.which("terraform") is None or mirror is None:
        return None
    rc = stack_dir.parent / "bench.tfrc"
    rc.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n')
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(rc), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    subprocess.run(["terraform", "init", "-backend=false", "-input=false", "-no-color"], cwd=stack_dir, env=env, check=True, capture_output=True)
    seconds = []
    for _ in range(VALIDATE_RUNS):
        started = time.perf_counter()
        subprocess.run(["terraform", "validate", "-no-color"], cwd=stack_dir, env=env, check=True, capture_output=True)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def fanout_runs(env: dict[str, str], work: Path, runs: int) -> dict[str, object]:
    """The core stack alone and a 20-account fan-out, alternately, after a warm-up each."""
    work.mkdir(parents=True, exist_ok=True)
    cases = {
        "single": ("--stack", "xacct-kinesis-efo"),
        "fanout_20": ("--config", str(fanout_settings(work / "fanout.toml", FANOUT_CONSUMERS)), "--stack", "bench-fanout"),
    }
    outdirs = {name: work / name / "cdktf.out" for name in cases}
    for name, args in cases.items():
        run_once(env, outdirs[name], args)
    measured: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
    for index in range(runs):
        for name, args in cases.items():
            result = run_once(env, outdirs[name], args)
            measured[name].append(result)
            print(f"run {index + 1}/{runs} {name:9s} {result['seconds']:6.2f} s  {result['peak_tree_rss_mb']:6.0f} MB", flush=True)
    validate = terraform_validate_seconds(outdirs["fanout_20"] / "stacks" / "bench-fanout")
    return {"runs": measured, "validate_seconds": validate}


def summarize(runs: list[dict[str, float]]) -> dict[str, float]:
    return {
        "median_seconds": statistics.median(r["seconds"] for r in runs),
        "min_seconds": min(r["seconds"] for r in runs),
        "max_seconds": max(r["seconds"] for r in runs),
        "median_peak_tree_rss_mb": statistics.median(r["peak_tree_rss_mb"] for r in runs),
        "max_peak_tree_rss_mb": max(r["peak_tree_rss_mb"] for r in runs),
        "median_max_process_rss_mb": statistics.median(r["max_process_rss_mb"] for r in runs),
    }


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?")
    memory_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    # The Node that runs the jsii kernel: main.py's choice (the pinned one where the system's is too old).
    sys.path.insert(0, str(ROOT / "constructs"))
    from xacct_streaming.synthesis.node_runtime import choose_node

    kernel_node = os.environ.get("JSII_NODE") or choose_node(ROOT) or "node"
    node = subprocess.run([kernel_node, "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory_gib": f"{memory_kb / 1024 / 1024:.1f}",
        "python": platform.python_version(),
        "node": node,
        "kernel": platform.release(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per path after one warm-up (default 5)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--fanout-runs", type=int, default=11,
                        help="measured runs of the core stack and of the fan-out, alternately (default 11: their ratio is "
                             "what the goal is about, and single runs on a shared VM vary by a quarter)")
    args = parser.parse_args()
    if args.runs < 5 or args.fanout_runs < 5:
        parser.error("--runs and --fanout-runs must be at least 5")

    base = {k: v for k, v in os.environ.items() if not k.startswith("XACCT_") and k != "JSII_RUNTIME_PACKAGE_CACHE_ROOT"}
    paths = {"naive": {**base, "XACCT_PROVIDER_IMPORT": "full"}, "lazy": base}
    work = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    try:
        outdirs = {name: work / name / "cdktf.out" for name in paths}
        for name, env in paths.items():
            print(f"warm-up: {name} ...", flush=True)
            run_once(env, outdirs[name])
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in paths}
        for index in range(args.runs):
            for name, env in paths.items():  # alternate, so drift hits both alike
                result = run_once(env, outdirs[name])
                runs[name].append(result)
                print(f"run {index + 1}/{args.runs} {name:5s} {result['seconds']:6.2f} s  {result['peak_tree_rss_mb']:6.0f} MB", flush=True)
        identical = same_tree(outdirs["naive"], outdirs["lazy"])
        noop = noop_make_synth(work / "make" / "cdktf.out")
        fanout = fanout_runs(paths["lazy"], work / "fanout", args.fanout_runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    summary = {name: summarize(r) for name, r in runs.items()}
    speedup = summary["naive"]["median_seconds"] / summary["lazy"]["median_seconds"]
    memory_ratio = summary["naive"]["median_peak_tree_rss_mb"] / summary["lazy"]["median_peak_tree_rss_mb"]
    fanout_summary = {name: summarize(r) for name, r in fanout["runs"].items()}  # type: ignore[union-attr]
    fanout_ratio = fanout_summary["fanout_20"]["median_seconds"] / fanout_summary["single"]["median_seconds"]
    validate = fanout["validate_seconds"]
    checks = {
        "lazy median <= 6 s": summary["lazy"]["median_seconds"] <= GOALS["lazy_median_seconds_max"],
        "lazy peak RSS <= 450 MB": summary["lazy"]["max_peak_tree_rss_mb"] <= GOALS["lazy_peak_rss_mb_max"],
        "speedup >= 3.5x": speedup >= GOALS["speedup_min"],
        "outputs byte-identical": identical,
        "no-op make synth < 1 s": noop < GOALS["noop_make_synth_seconds_max"],
        "fan-out of 20 accounts <= 1.5x the single-consumer synth": fanout_ratio <= GOALS["fanout_20_to_single_ratio_max"],
    }
    if validate is not None:
        checks["terraform validate of the 20-account fan-out < 10 s"] = validate < GOALS["fanout_20_validate_seconds_max"]
    report = {
        "benchmark": "synth",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "runs_per_path": args.runs,
        "summary": summary,
        "speedup_median_wall": speedup,
        "peak_rss_ratio": memory_ratio,
        "outputs_identical": identical,
        "noop_make_synth_seconds": noop,
        "goals": GOALS,
        "checks": checks,
        "runs": runs,
        "fanout": {"consumers": FANOUT_CONSUMERS, "runs_per_case": args.fanout_runs, "summary": fanout_summary, "ratio_median_wall": fanout_ratio,
                   "validate_seconds": validate, "validate_runs": VALIDATE_RUNS, "runs": fanout["runs"]},
    }

    print()
    print(f"{'path':6s} {'median s':>9s} {'min s':>7s} {'max s':>7s} {'peak RSS MB (median / max)':>28s}")
    for name in paths:
        s = summary[name]
        print(f"{name:6s} {s['median_seconds']:9.2f} {s['min_seconds']:7.2f} {s['max_seconds']:7.2f} "
              f"{s['median_peak_tree_rss_mb']:17.0f} / {s['max_peak_tree_rss_mb']:.0f}")
    print(f"speedup (median wall, naive/lazy): {speedup:.1f}x   peak RSS ratio: {memory_ratio:.1f}x")
    print(f"no-op make synth: {noop:.2f} s   outputs byte-identical: {identical}")
    print(f"fan-out of {FANOUT_CONSUMERS} accounts: median {fanout_summary['fanout_20']['median_seconds']:.2f} s vs single "
          f"{fanout_summary['single']['median_seconds']:.2f} s, ratio {fanout_ratio:.2f}x; terraform validate: "
          + (f"{validate:.1f} s" if validate is not None else "not run (no terraform or provider mirror)"))
    return finish(report, checks, args.output)


if __name__ == "__main__":
    sys.exit(main())
