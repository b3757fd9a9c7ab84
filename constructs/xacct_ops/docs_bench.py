"""The benchmarks' generated parts of the docs (make docs), from bench/results/*.json."""

from __future__ import annotations

from typing import Any


from xacct_ops.docs_tables import table


def bench_synth_block(result: dict[str, Any]) -> str:
    m, s = result["machine"], result["summary"]
    rows = [
        (label, f"{s[key]['median_seconds']:.2f} s", f"{s[key]['min_seconds']:.2f} - {s[key]['max_seconds']:.2f} s",
         f"{s[key]['median_peak_tree_rss_mb']:,.0f} MB")
        for key, label in (("naive", "full import (naive)"), ("lazy", "lazy (`make synth`)"))
    ]
    return (
        f"`make bench-synth` on {result['date'][:10]} ({result['runs_per_path']} runs per path; {m['cores']} cores {m['cpu']}, "
        f"{m['memory_gib']} GiB, Python {m['python']}, Node {m['node']}):\n\n"
        + table(("path", "median wall", "min - max", "median peak RSS, whole process tree"), rows)
        + f"\n{result['speedup_median_wall']:.1f}x faster, {result['peak_rss_ratio']:.1f}x less memory, outputs "
        + ("byte-identical" if result["outputs_identical"] else "**different**")
        + f"; a no-op `make synth` takes {result['noop_make_synth_seconds']:.2f} s.\n"
        + _fanout_sentence(result.get("fanout"), result.get("goals", {}))
    )


def _fanout_sentence(fanout: dict[str, Any] | None, goals: dict[str, float]) -> str:
    if not fanout:
        return ""
    s = fanout["summary"]
    median = f"median of {fanout['runs_per_case']} runs" if "runs_per_case" in fanout else "median"
    validate = fanout.get("validate_seconds")
    if validate is None:
        validate_text = "`terraform validate` was not run"
    else:
        validate_runs = fanout.get("validate_runs", 1)
        validate_text = f"`terraform validate` of it takes {validate:.1f} s" + (f" (median of {validate_runs})" if validate_runs > 1 else "")
    if "fanout_20_to_single_ratio_max" in goals:
        met = "met" if fanout["ratio_median_wall"] <= goals["fanout_20_to_single_ratio_max"] else "**not met**"
        goals_text = (f" (goals: at most {goals['fanout_20_to_single_ratio_max']}x, {met}; "
                      f"validate under {goals['fanout_20_validate_seconds_max']:.0f} s).\n")
    else:
        goals_text = ".\n"
    return (
        f"\nA fan-out of {fanout['consumers']} consumers in {fanout['consumers']} accounts synthesizes in "
        f"{s['fanout_20']['median_seconds']:.2f} s ({median}; the core stack alone: {s['single']['median_seconds']:.2f} s, "
        f"measured alternately), **{fanout['ratio_median_wall']:.2f}x**, peak RSS {s['fanout_20']['median_peak_tree_rss_mb']:,.0f} MB; "
        + validate_text + goals_text
    )


# A plan runner (an Atlantis server, a CI job) with this much memory is the README's yardstick for
# how many accounts one plan may hold.
PLAN_MEMORY_BUDGET_MB = 4096
_PLAN_LABELS = {"two_account": "core stack (two accounts)", "split_producer": "split: producer plan", "split_account": "split: one account plan"}


def _plan_label(name: str) -> str:
    return _PLAN_LABELS.get(name) or f"fan-out, {name.removeprefix('fanout_')} consumer accounts"


def plan_ceiling(result: dict[str, Any]) -> int | None:
    """The most consumer accounts of a measured single-plan fan-out whose peak fits PLAN_MEMORY_BUDGET_MB."""
    fitting = [int(n.removeprefix("fanout_")) for n, e in result["summary"].items()
               if n.startswith("fanout_") and e["max_peak_tree_rss_mb"] <= PLAN_MEMORY_BUDGET_MB]
    return max(fitting) if fitting else None


def bench_plan_block(result: dict[str, Any]) -> str:
    m, s = result["machine"], result["summary"]
    rows = [
        (_plan_label(name), str(e["providers"]), f"{e['median_seconds']:.1f} s", f"{e['median_peak_tree_rss_mb']:,.0f} MB",
         f"{e['seconds_to_two_account']:.2f}x", f"{e['peak_rss_to_two_account']:.2f}x")
        for name, e in s.items()
    ]
    ok = result["checks"]["split mode: every plan's peak memory within 10% of the two-account plan"]
    return (
        f"`make bench-plan` on {result['date'][:10]} ({result['runs_per_case']} runs per case, alternating; {m['cores']} cores {m['cpu']}, "
        f"{m['memory_gib']} GiB):\n\n"
        + table(("plan", "AWS providers", "median wall", "median peak RSS", "time vs core", "memory vs core"), rows)
        + f"\nSplit mode's largest plan peaks at **{result['split_worst_peak_rss_to_two_account']:.2f}x** the two-account plan's memory "
        + ("(goal: within 1.10x, met).\n" if ok else "(goal: within 1.10x, **not met**).\n")
    )


def bench_plan_readme_block(result: dict[str, Any]) -> str:
    s = result["summary"]
    biggest = max((n for n in s if n.startswith("fanout_")), key=lambda n: s[n]["providers"])
    ceiling = plan_ceiling(result)
    return (
        f"One plan starts a provider process per account: `make bench-plan` measured {s['two_account']['median_peak_tree_rss_mb'] / 1024:.1f} GB "
        f"and {s['two_account']['median_seconds']:.0f} s for the two-account stack, {s[biggest]['median_peak_tree_rss_mb'] / 1024:.1f} GB and "
        f"{s[biggest]['median_seconds']:.0f} s with {biggest.removeprefix('fanout_')} consumer accounts ([curve](docs/benchmarks.md#plan)). "
        + (f"Keep one plan to {ceiling} consumer accounts or fewer (it fits a {PLAN_MEMORY_BUDGET_MB // 1024} GB plan runner); " if ceiling else "")
        + f"beyond, `split = true` makes a plan per account, none above "
        f"{max(s['split_producer']['median_peak_tree_rss_mb'], s['split_account']['median_peak_tree_rss_mb']) / 1024:.1f} GB "
        f"([split mode](docs/stacks/xacct-kinesis-fanout.md#split-mode-one-plan-per-account)).\n"
    )


def bench_handler_block(result: dict[str, Any]) -> str:
    calls = ", ".join(f"{n} `{api}`" for api, n in result["aws_calls_warm_invocation"].items())
    seed = ", ".join(f"{n} `{api}`" for api, n in result["seed_001_calls_per_invocation"].items())
    return (
        f"`make bench-handler` on {result['date'][:10]} ({result['records']:,} records of about {result['mean_payload_bytes']} bytes, "
        f"{result['runs']} runs, Python {result['python']}):\n\n"
        + table(
            ("", "median", "records/s"),
            [
                ("floor (`b64decode` + `json.loads`)", f"{result['floor_median_seconds'] * 1000:.0f} ms", f"{result['floor_records_per_second']:,.0f}"),
                ("the consumer runtime", f"{result['ours_median_seconds'] * 1000:.0f} ms", f"{result['ours_records_per_second']:,.0f}"),
            ],
        )
        + f"\nRatio to the floor **{result['ratio_to_floor']:.2f}**; AWS calls on a warm invocation: {calls}; "
        + f"seed 001's handler on the same batch: {seed}.\n"
    )
