#!/usr/bin/env python3
"""`make check-cdktn`: the toolkit proven on CDK Terrain next to CDKTF (xacct_streaming.framework,
docs/migration.md). Every step on every stack and example (SETS); each step timed, a table at the end.

1. synth: every set synthesized on both lines, side by side: cdktf in .venv, cdktn in .venv-cdktn
   (XACCT_FRAMEWORK=cdktn), one process per line;
2. line-diff: the JSON difference between the lines per resource type, each with its reason
   (xacct_ops.line_diff); an unexplained difference fails;
3. scan: checkov on cdktn's JSON of every set, with the project's exemptions (xacct_ops.scan);
4. policy-check: every data-plane call of every cdktn stack decided by the IAM engine, and row for row
   what the cdktf stacks get;
5. access-review: cdktf -> cdktn says "no access change" for every set, and the review of each cdktn
   set from nothing (every grant) is the cdktf one's;
6. structure: the tests of synthesized stacks (mapping order, nothing lost, name limits, every
   stack's properties: tests/stacks, tests/blocks, tests/settings) run on CDK Terrain, Terraform aside.

    python tests/harness/check_cdktn.py [--out DIR] [--reports DIR]
    python tests/harness/check_cdktn.py synth --out DIR     (in a line's interpreter: step 1's work)
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "constructs"))

# The settings of every stack and example, each set into an output of its own (examples reuse names).
SETS: dict[str, Optional[str]] = {
    "default": None,  # every kind's default stack (python main.py)
    "existing-stream": "examples/existing-stream.toml",
    "fanout": "examples/fanout.toml",
    "fanout-split": "tests/configs/fanout-split.toml",
    "provisioned": "tests/configs/provisioned.toml",
    "advantage": "tests/configs/fanout-advantage.toml",  # On-demand Advantage's 21+ EFO consumers, tags on them on 6.x
    "api-logging": None,  # the API stack managing the account's logging role (aws 6.0 changed that resource)
    "library-app": "examples/library_app/main.py",
}
PYTHONS = {"cdktf": ROOT / ".venv" / "bin" / "python", "cdktn": ROOT / ".venv-cdktn" / "bin" / "python"}
STRUCTURE_TESTS = ["tests/stacks", "tests/blocks", "tests/settings"]
# Resources of a user's own next to the library's (examples/library_app's bare reports bucket): not the
# toolkit's, so its exemptions do not cover them; checkov must find the same on both lines, and only there.
OWN_RESOURCES = {"library-app": {("aws_s3_bucket", "team-reports")}}


def synth_sets(out: Path) -> None:
    """Step 1 in this interpreter's framework line: every set into out/<set>/."""
    from xacct_streaming.settings.catalog import select
    from xacct_streaming.settings.config import load_stacks, props_from_mapping
    from xacct_streaming.synthesis import provider_bindings
    from xacct_streaming.synthesis.node_runtime import use_supported_node
    from xacct_streaming.synthesis.synth import synthesize

    use_supported_node(ROOT)
    provider_bindings.enable()
    for name, source in SETS.items():
        outdir = out / name
        if name == "library-app":
            import runpy

            runpy.run_path(str(ROOT / str(source)), run_name="library_app")["build"](outdir)
            continue
        if name == "default":
            stacks = select([], [])
        elif name == "api-logging":
            stacks = [props_from_mapping({"kind": "xacct-api-ingest", "stack_name": "api-logging", "api": {"manage_account_logging_role": True}})]
        else:
            stacks = select(load_stacks(str(ROOT / str(source))), [])  # a split fan-out: its plans
        synthesize(stacks, outdir=outdir)


def _run(command: list[str], env: Optional[dict[str, str]] = None, log: Optional[Path] = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(result.stdout + result.stderr)
    return result


def _line_env(line: str) -> dict[str, str]:
    return {"XACCT_FRAMEWORK": line, "PYTHONPATH": str(ROOT / "constructs")}


def _outputs(out: Path, line: str) -> dict[str, Path]:
    return {name: out / line / name for name in SETS}


class Steps:
    def __init__(self, out: Path, reports: Path) -> None:
        self.out, self.reports = out, reports
        self.timings: list[tuple[str, float, str]] = []
        self.failed: list[str] = []

    def run(self, name: str, step: Callable[[], Optional[str]]) -> None:
        """A step: None when it passed, else what failed (the run goes on, and fails at the end)."""
        started = time.monotonic()
        problem = step()
        self.timings.append((name, time.monotonic() - started, "ok" if problem is None else "FAILED"))
        print(f"[{name}] {'ok' if problem is None else 'FAILED: ' + problem} ({time.monotonic() - started:.1f} s)", flush=True)
        if problem is not None:
            self.failed.append(name)

    def synth(self) -> Optional[str]:
        def one(line: str) -> subprocess.CompletedProcess[str]:
            target = self.out / line
            shutil.rmtree(target, ignore_errors=True)
            return _run([str(PYTHONS[line]), __file__, "synth", "--out", str(target)], _line_env(line), self.reports / f"synth-{line}.log")

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            results = dict(zip(PYTHONS, pool.map(one, PYTHONS)))
        bad = [f"{line} (exit {r.returncode}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''})" for line, r in results.items() if r.returncode]
        return f"synthesis failed on {', '.join(bad)}" if bad else None

    def line_diff(self) -> Optional[str]:
        result = _run([str(PYTHONS["cdktf"]), "-m", "xacct_ops.line_diff", "--before", str(self.out / "cdktf"), "--after", str(self.out / "cdktn")],
                      _line_env("cdktf"))
        (self.reports / "line-diff.md").write_text(result.stdout)
        print(result.stdout + result.stderr, end="")
        return None if result.returncode == 0 else f"exit {result.returncode}: see {self.reports / 'line-diff.md'}"

    def _checkov(self, line: str, name: str) -> tuple[subprocess.CompletedProcess[str], set[tuple[str, str, str]]]:
        """checkov on one set of one line: the run, and its failed (check, type, name) not exempted."""
        reports = self.reports / "scan" / line / name
        result = _run([str(PYTHONS["cdktf"]), "-m", "xacct_ops.scan", "--stacks-dir", str(_outputs(self.out, line)[name] / "stacks"),
                       "--reports", str(reports)], _line_env("cdktf"), reports / "run.log")
        failed = {(parts[1], parts[2], parts[3]) for parts in (line.split() for line in result.stdout.splitlines()) if parts[:1] == ["FAILED"]}
        return result, failed

    def scan(self) -> Optional[str]:
        bad = []
        for name in SETS:
            result, failed = self._checkov("cdktn", name)
            summary = [line for line in result.stdout.splitlines() if "scan results" in line]
            print(f"  {name}: {summary[-1] if summary else result.stdout.strip()[-300:]}")
            own = OWN_RESOURCES.get(name, set())
            if any((type_, resource) not in own for _, type_, resource in failed) or (result.returncode and not failed):
                bad.append(name)
            elif failed:
                _, on_cdktf = self._checkov("cdktf", name)
                print(f"    {len(failed)} failed check(s), all on the user's own resources {sorted(own)}, "
                      f"{'the same' if failed == on_cdktf else 'NOT the same'} on cdktf")
                if failed != on_cdktf:
                    bad.append(name)
        return f"checkov failed on {', '.join(bad)}" if bad else None

    def policy_check(self) -> Optional[str]:
        problems = []
        for name in SETS:
            rows, runs = {}, {}
            for line in PYTHONS:
                reports = self.reports / "policy-check" / line / name
                runs[line] = _run([str(PYTHONS["cdktf"]), "tests/harness/policy_check.py", "--stacks-dir", str(_outputs(self.out, line)[name] / "stacks"),
                                   "--reports", str(reports)], _line_env("cdktf"), reports / "run.log")
                if runs[line].returncode:
                    problems.append(f"{name} on {line} (exit {runs[line].returncode})")
                rows[line] = json.loads((reports / "policy-check.json").read_text()) if (reports / "policy-check.json").is_file() else None
            counts = [line for line in runs["cdktn"].stdout.splitlines() if " as expected, " in line]  # the cdktn stacks' counts
            print(f"  {name}: {'; '.join(counts)}")
            if rows["cdktf"] != rows["cdktn"]:
                problems.append(f"{name}: the calls or their decisions differ between the lines")
        return "; ".join(problems) or None

    def access_review(self) -> Optional[str]:
        problems = []
        nothing = self.reports / "nothing.tfstate"
        nothing.write_text("")  # an empty state: "nothing yet"
        review = [str(PYTHONS["cdktf"]), "-m", "xacct_ops.access_review", "--format", "json"]
        for name in SETS:
            tf, tn = _outputs(self.out, "cdktf")[name], _outputs(self.out, "cdktn")[name]
            change = _run([*review, "--before", str(tf), "--after", str(tn)], _line_env("cdktf"))
            fresh = {line: _run([*review, "--before", str(nothing), "--after", str(out)], _line_env("cdktf")) for line, out in (("cdktf", tf), ("cdktn", tn))}
            if change.returncode or any(r.returncode for r in fresh.values()):
                problems.append(f"{name}: the review exited {change.returncode}/{[r.returncode for r in fresh.values()]}: {change.stderr.strip()[-300:]}")
                continue
            diff = json.loads(change.stdout)
            moved = {key: len(diff[key]) for key in ("added", "removed", "changed", "unknown") if diff[key]}
            grants = json.loads(fresh["cdktn"].stdout)
            print(f"  {name}: cdktf -> cdktn {moved or 'no access change'}; from nothing {len(grants['added'])} grants, "
                  f"{'the same on both lines' if fresh['cdktf'].stdout == fresh['cdktn'].stdout else 'DIFFERENT between the lines'}")
            if moved or diff["findings"] or fresh["cdktf"].stdout != fresh["cdktn"].stdout:
                problems.append(f"{name}: access differs between the lines")
        return "; ".join(problems) or None

    def structure(self) -> Optional[str]:
        result = _run([str(PYTHONS["cdktn"]), "-m", "pytest", *STRUCTURE_TESTS, "-q", "-m", "not terraform and not rehearse", "-n", "2",
                       "-p", "no:cacheprovider", f"--terraform-log={self.reports / 'terraform-calls.jsonl'}"],
                      {"XACCT_FRAMEWORK": "cdktn"}, self.reports / "structure.log")
        print("  " + (result.stdout.strip().splitlines() or [""])[-1])
        return None if result.returncode == 0 else f"pytest exit {result.returncode}: see {self.reports / 'structure.log'}"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=["synth"], help="synth: only step 1's work, in this interpreter's line")
    parser.add_argument("--out", type=Path, default=ROOT / "cdktn.out")
    parser.add_argument("--reports", type=Path, default=ROOT / "reports" / "cdktn")
    args = parser.parse_args(argv)
    if args.command == "synth":
        synth_sets(args.out)
        return 0
    missing = [str(python) for python in PYTHONS.values() if not python.is_file()]
    if missing:
        print(f"error: {', '.join(missing)} missing: make venv .venv-cdktn/.installed", file=sys.stderr)
        return 2
    args.reports.mkdir(parents=True, exist_ok=True)
    steps = Steps(args.out.resolve(), args.reports.resolve())
    started = time.monotonic()
    steps.run("synth", steps.synth)
    if not steps.failed:
        for name, step in (("line-diff", steps.line_diff), ("scan", steps.scan), ("policy-check", steps.policy_check),
                           ("access-review", steps.access_review), ("structure", steps.structure)):
            steps.run(name, step)
    print("\n| step | seconds | result |\n|---|---:|---|")
    for name, seconds, result in steps.timings:
        print(f"| {name} | {seconds:.1f} | {result} |")
    print(f"| total | {time.monotonic() - started:.1f} | {'FAILED: ' + ', '.join(steps.failed) if steps.failed else 'ok'} |")
    return 1 if steps.failed else 0


if __name__ == "__main__":
    sys.exit(main())
