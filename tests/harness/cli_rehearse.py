#!/usr/bin/env python3
"""The cdktf CLI path, for real: the pinned cdktf-cli on the project's Node, against moto.

A copy of the repository's tracked files stands in for a user's checkout (with this run's `.venv`
and `node_modules/`), with `terraform.tfvars` for moto's two accounts in its root, as the README tells
a user to write it. Each command runs as the README shows it, `make cdktf ARGS="..."` (the pinned CLI
on the pinned Node, telemetry off, the provider mirror's CLI config). The AWS provider reaches moto
through `AWS_ENDPOINT_URL` and test keys only: the synthesized configuration is what a user deploys.
Steps, each timed:

    XACCT_CONFIG=examples/fanout.toml cdktf synth  the fan-out example's one stack
    cdktf synth                                    the five default stacks: the CLI deletes the fan-out's itself
    cdktf synth -a "python3 main.py --stack S"     one stack again, the others' directories kept
    cdktf diff S                                   "Plan: N to add"
    cdktf deploy S --auto-approve                  "Apply complete! Resources: N added"
    cdktf diff S                                   "No changes"
    cdktf deploy S -a "python3 main.py --teardown" table protection off (in place)
    cdktf destroy S -a "python3 main.py --teardown" "Destroy complete! Resources: N destroyed"

    python tests/harness/cli_rehearse.py --json-out result.json   # or: make cli-rehearse

Writes {"node": version, "cli": version, "steps": [{"name", "command", "seconds", "returncode",
"output", "stacks"}]}; stops at the first failing step. Without the CLI (no npm) it writes
{"skipped": reason} and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rehearse  # noqa: E402

ROOT = rehearse.ROOT
STACK = "xacct-kinesis-efo"
CLI = ROOT / "node_modules" / ".bin" / "cdktf"
STEPS = 8


def missing() -> str | None:
    """Why the CLI cycle cannot run here, or None."""
    if not CLI.is_file():
        return "the cdktf CLI is not installed: npm is needed (`npm ci` installs package.json's pinned cdktf-cli)"
    if shutil.which("terraform") is None:
        return "terraform is not on PATH"
    return None


def _environment(endpoint: str) -> dict[str, str]:
    """A user's shell (the Makefile adds the Node, the CLI config and CHECKPOINT_DISABLE) plus moto."""
    drop = ("XACCT_CONFIG", "JSII_NODE", "CDKTF_OUTDIR", "SYNTH_HCL_OUTPUT", "TF_CLI_CONFIG_FILE", "CHECKPOINT_DISABLE", "MAKEFLAGS", "MAKELEVEL")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in drop}
    env.update({
        "CI": "1", "FORCE_COLOR": "0",
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": rehearse.REGION,
    })
    return env


def _tfvars() -> str:
    return (
        f'region = "{rehearse.REGION}"\n'
        f'producer_account_id = "{rehearse.PRODUCER}"\nproducer_deploy_role_arn = "arn:aws:iam::{rehearse.PRODUCER}:role/deploy"\n'
        f'consumer_account_id = "{rehearse.CONSUMER}"\nconsumer_deploy_role_arn = "arn:aws:iam::{rehearse.CONSUMER}:role/deploy"\n'
        'tags = { project = "xacct-streaming", rehearsal = "cdktf-cli" }\n'
    )


def run(workdir: Path) -> dict[str, Any]:
    repo = workdir / "repo"
    rehearse.copy_checkout(repo)
    (repo / "terraform.tfvars").write_text(_tfvars())
    steps: list[dict[str, Any]] = []
    teardown = "python3 main.py --teardown"
    plan: list[tuple[str, str, dict[str, str]]] = [
        ("synth the fan-out", "synth", {"XACCT_CONFIG": str(repo / "examples" / "fanout.toml")}),
        ("synth five stacks", "synth", {}),
        ("synth --stack", f'synth -a "python3 main.py --stack {STACK}"', {}),
        ("diff", f"diff {STACK}", {}),
        ("deploy", f"deploy {STACK} --auto-approve", {}),
        ("diff after deploy", f"diff {STACK}", {}),
        ("deploy --teardown", f'deploy {STACK} --auto-approve -a "{teardown}"', {}),
        ("destroy", f'destroy {STACK} --auto-approve -a "{teardown}"', {}),
    ]
    make = ["make", "--no-print-directory", "cdktf"]
    with rehearse.moto_server() as endpoint:
        env = _environment(endpoint)
        node_version = subprocess.run(["make", "--no-print-directory", "node-version"], cwd=repo, env=env, capture_output=True, text=True).stdout.strip()
        cli = subprocess.run([*make, "ARGS=--version"], cwd=repo, env=env, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        for name, args, extra in plan:
            started = time.monotonic()
            result = subprocess.run([*make, f"ARGS={args}"], cwd=repo, env={**env, **extra}, capture_output=True, text=True, timeout=900)
            steps.append({
                "name": name, "command": f'make cdktf ARGS="{args}"', "seconds": round(time.monotonic() - started, 1),
                "returncode": result.returncode, "output": result.stdout + result.stderr,
                "stacks": sorted(p.name for p in (repo / "cdktf.out" / "stacks").iterdir()) if (repo / "cdktf.out" / "stacks").is_dir() else [],
            })
            if result.returncode != 0:
                break
    return {"node": node_version, "cli": cli, "steps": steps}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json-out", type=Path, required=True, help="where to write the steps and their output")
    parser.add_argument("--keep", action="store_true", help="keep the scratch checkout")
    args = parser.parse_args()
    reason = missing()
    if reason:  # the test suite reads the reason and reports the test as skipped
        args.json_out.write_text(json.dumps({"skipped": reason}))
        print(f"skipped: {reason}")
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="cli-rehearse-"))
    try:
        result = run(workdir)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    args.json_out.write_text(json.dumps(result, indent=2))
    print(f"node {result['node']}, cdktf {result['cli']}")
    for step in result["steps"]:
        last = [line for line in step["output"].splitlines() if line.strip()][-1:] or [""]
        print(f"{step['seconds']:7.1f} s  {step['name']:<20s} exit {step['returncode']}  {last[0][:110]}")
    return 0 if all(step["returncode"] == 0 for step in result["steps"]) and len(result["steps"]) == STEPS else 1


if __name__ == "__main__":
    sys.exit(main())
