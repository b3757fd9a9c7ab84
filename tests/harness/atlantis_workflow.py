#!/usr/bin/env python3
"""atlantis.yaml, every step of every project exactly as listed, in two pull requests, against moto.

A copy of the repository's tracked files stands in for each pull request's checkout (Atlantis has
no `.venv`: it gets this run's, as the server's pre-workflow hook would make it). Moto stands in for
AWS: the deploy accounts of `environments/<env>.tfvars` and the state account, whose state bucket
(and the key the settings name, under moto's own id) is created first, as a platform team would.
After each project's `make synth` step, and only there, test scaffolding points the providers and
the S3 backend at moto (an override file: the backend settings of the configuration plus moto's
endpoints and the moto key).

The first pull request runs plan and policy_check for every project (three at a time, as Atlantis'
parallel plan would) and apply for one (`--apply`, the core stack's by default); the second, from a
fresh checkout, runs the plan stage of that project again: with the state kept in S3, it must say "No
changes". One project applies because the apply and the state round trip are the same template for
every project, and each stack's own apply is its rehearsal's (tests/harness/rehearse.py): applying all
five here again doubled the apply-level tier's longest job (docs/development.md).

    python tests/harness/atlantis_workflow.py --json-out result.json

Writes {"runs": [{project: [{"stage", "command", "returncode", "stdout", "stderr"}]}], "applied": project,
"seconds": [per pull request], "states": {key: {"bytes", "sse", "kms_key"}}, "key_arn", "showfile_bytes": {project: N}};
a project stops at its first failing step.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rehearse  # noqa: E402

ROOT = rehearse.ROOT
PARALLEL_PROJECTS = 3
# The core stack (seed 000, the product's reason to be): the cheapest apply of the five.
APPLIED_PROJECT = "staging-xacct-kinesis-efo"


def _state_account(endpoint: str, backend: dict[str, Any]) -> str:
    """The state bucket and a KMS key in the state account; returns moto's ARN of the key."""
    account = backend["assume_role"]["role_arn"].split(":")[4]
    session = rehearse.session(endpoint, account)
    s3 = session.client("s3", endpoint_url=endpoint)
    if backend["bucket"] not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=backend["bucket"], CreateBucketConfiguration={"LocationConstraint": backend["region"]})
        s3.put_bucket_versioning(Bucket=backend["bucket"], VersioningConfiguration={"Status": "Enabled"})
    kms = session.client("kms", endpoint_url=endpoint)
    return kms.create_key(Description="terraform state")["KeyMetadata"]["Arn"]


def _override(stack_dir: Path, endpoint: str, key_arn: str) -> dict[str, Any]:
    """Providers and the S3 backend pointed at moto; returns the configured backend."""
    rehearse.write_override(stack_dir, endpoint)
    config = json.loads((stack_dir / "cdk.tf.json").read_text())
    backend = config["terraform"]["backend"]["s3"]
    override = json.loads((stack_dir / "rehearsal_override.tf.json").read_text())
    override["terraform"]["backend"] = {"s3": {
        **backend, "kms_key_id": key_arn,
        "endpoints": {"s3": endpoint, "sts": endpoint}, "use_path_style": True,
        "access_key": "test", "secret_key": "test",
        "skip_credentials_validation": True, "skip_requesting_account_id": True, "skip_metadata_api_check": True,
    }}
    (stack_dir / "rehearsal_override.tf.json").write_text(json.dumps(override, indent=2))
    (stack_dir / "rehearsal.tfvars").unlink()  # the project's own var file is what the plan step reads
    return backend


def _run_project(repo: Path, workdir: Path, name: str, workflow: dict[str, Any], stages: tuple[str, ...],
                 endpoint: str, state: dict[str, Any]) -> list[dict[str, Any]]:
    env = rehearse.mirror_config(workdir / name)
    env.pop("XACCT_CONFIG", None)
    env.update({"PLANFILE": str(workdir / name / "default.tfplan"), "SHOWFILE": str(workdir / name / "default.json")})
    steps: list[dict[str, Any]] = []
    for stage in stages:
        for command in (step["run"] for step in workflow[stage]["steps"]):
            result = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
            steps.append({"stage": stage, "command": command, "returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr[-6000:]})
            if result.returncode != 0:
                return steps
            if command.startswith("make synth"):
                out = re.search(r"OUTDIR=(\S+)", command).group(1)  # type: ignore[union-attr]
                stack = re.search(r"STACK=(\S+)", command).group(1)  # type: ignore[union-attr]
                backend = _override(repo / out / "stacks" / stack, endpoint, state.setdefault("key_arn", ""))
                state.setdefault("backends", {})[name] = backend
    showfile = Path(env["SHOWFILE"])
    if showfile.exists():
        state.setdefault("showfile_bytes", {})[name] = showfile.stat().st_size
    return steps


def _pull_request(workdir: Path, number: int, stages: dict[str, tuple[str, ...]], endpoint: str, state: dict[str, Any]) -> dict[str, Any]:
    """Runs each project's stages (`stages`: project -> stage names; a project not named runs none)."""
    repo = workdir / f"pr{number}"
    rehearse.copy_checkout(repo)
    config = yaml.safe_load((repo / "atlantis.yaml").read_text())
    projects = [project["name"] for project in config["projects"] if project["name"] in stages]
    (workdir / f"pr{number}-work").mkdir()
    for name in projects:
        (workdir / f"pr{number}-work" / name).mkdir()
    with ThreadPoolExecutor(max_workers=PARALLEL_PROJECTS) as pool:
        results = pool.map(
            lambda name: _run_project(repo, workdir / f"pr{number}-work", name, config["workflows"][name], stages[name], endpoint, state), projects
        )
        return dict(zip(projects, results))


def _states(endpoint: str, state: dict[str, Any]) -> dict[str, Any]:
    found = {}
    for backend in state.get("backends", {}).values():
        account = backend["assume_role"]["role_arn"].split(":")[4]
        s3 = rehearse.session(endpoint, account).client("s3", endpoint_url=endpoint)
        try:
            head = s3.head_object(Bucket=backend["bucket"], Key=backend["key"])
        except s3.exceptions.ClientError:
            found[backend["key"]] = {"bytes": 0, "sse": None, "kms_key": None}
            continue
        found[backend["key"]] = {"bytes": head["ContentLength"], "sse": head.get("ServerSideEncryption"), "kms_key": head.get("SSEKMSKeyId")}
    return found


def run(workdir: Path, applied: str) -> dict[str, Any]:
    """`applied`: the project whose plan is applied in the first pull request and planned again in the second."""
    state: dict[str, Any] = {}
    projects = [project["name"] for project in yaml.safe_load((ROOT / "atlantis.yaml").read_text())["projects"]]
    if applied not in projects:
        raise SystemExit(f"--apply: {applied!r} is not a project of atlantis.yaml ({', '.join(projects)})")
    with rehearse.moto_server() as endpoint:
        first_backend = _first_backend()
        state["key_arn"] = _state_account(endpoint, first_backend)
        started = time.monotonic()
        first = {name: ("plan", "policy_check", "apply") if name == applied else ("plan", "policy_check") for name in projects}
        runs = [_pull_request(workdir, 1, first, endpoint, state)]
        seconds = [round(time.monotonic() - started)]
        if all(step["returncode"] == 0 for steps in runs[0].values() for step in steps):
            runs.append(_pull_request(workdir, 2, {applied: ("plan", "policy_check")}, endpoint, state))
            seconds.append(round(time.monotonic() - started) - seconds[0])
        states = _states(endpoint, state)
    return {"runs": runs, "applied": applied, "seconds": seconds, "states": states, "key_arn": state["key_arn"],
            "showfile_bytes": state.get("showfile_bytes", {})}


def _first_backend() -> dict[str, Any]:
    """The state bucket's settings, from the first environment (the account, bucket and region)."""
    import tomllib

    environment = sorted((ROOT / "environments").glob("*.toml"))[0]
    backend = tomllib.loads(environment.read_text())["backend"]
    return {"bucket": backend["bucket"], "region": backend["region"], "assume_role": {"role_arn": backend["role_arn"]}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json-out", type=Path, required=True, help="where to write the steps and their output")
    parser.add_argument("--apply", default=APPLIED_PROJECT, help=f"the project applied and planned again (default {APPLIED_PROJECT})")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="atlantis-"))
    try:
        result = run(workdir, args.apply)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    args.json_out.write_text(json.dumps(result, indent=2))
    failed = [(n, step) for r in result["runs"] for n, steps in r.items() for step in steps if step["returncode"] != 0]
    for name, step in failed:
        print(f"{name} {step['stage']}: {step['command']} exited {step['returncode']}\n{step['stdout'][-3000:]}\n{step['stderr'][-3000:]}", file=sys.stderr)
    return 1 if failed or len(result["runs"]) != 2 else 0


if __name__ == "__main__":
    sys.exit(main())
