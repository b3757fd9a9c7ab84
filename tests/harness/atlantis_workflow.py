#!/usr/bin/env python3
"""atlantis.yaml's workflow, every step of every stage exactly as listed, against moto.

A copy of the repository's tracked files stands in for the pull request's checkout (Atlantis has
no `.venv`: it gets this run's, as the server's pre-workflow hook would make it). After the
`make synth` step, and only there, test scaffolding points the providers at a moto server in this
process (an override file, as the rehearsal does) and writes the tfvars of its two accounts.

    python tests/harness/atlantis_workflow.py --json-out result.json

Writes {"steps": [{"stage", "command", "returncode", "stdout", "stderr"}], "showfile_bytes": N};
stops at the first failing step (the test suite reads the file; it runs this in the background).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rehearse  # noqa: E402

ROOT = rehearse.ROOT
STACK = "xacct-kinesis-efo"


def _copy_checkout(repo: Path) -> None:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, tracked.split("\0")):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    # This run's virtual environment (sys.executable is its bin/python, not resolved further).
    (repo / ".venv").symlink_to(Path(sys.executable).parent.parent)


def run(workdir: Path) -> dict[str, Any]:
    workflow = yaml.safe_load((ROOT / "atlantis.yaml").read_text())["workflows"]["cdktf"]
    repo = workdir / "repo"
    _copy_checkout(repo)
    env = rehearse.mirror_config(workdir)
    env.pop("XACCT_CONFIG", None)
    env.update({"PLANFILE": str(workdir / "default.tfplan"), "SHOWFILE": str(workdir / "default.json")})
    stack_dir = repo / "atlantis.out" / "stacks" / STACK
    steps: list[dict[str, Any]] = []
    with rehearse.moto_server() as endpoint:
        for stage in ("plan", "policy_check", "apply"):
            for command in (step["run"] for step in workflow[stage]["steps"]):
                result = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
                steps.append({"stage": stage, "command": command, "returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr[-6000:]})
                if result.returncode != 0:
                    return {"steps": steps, "showfile_bytes": 0}
                if command.startswith("make synth"):
                    rehearse.write_override(stack_dir, endpoint)
                    (repo / "terraform.tfvars").write_text((stack_dir / "rehearsal.tfvars").read_text())
    showfile = Path(env["SHOWFILE"])
    return {"steps": steps, "showfile_bytes": showfile.stat().st_size if showfile.exists() else 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json-out", type=Path, required=True, help="where to write the steps and their output")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="atlantis-"))
    try:
        result = run(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    args.json_out.write_text(json.dumps(result, indent=2))
    failed = [step for step in result["steps"] if step["returncode"] != 0]
    for step in failed:
        print(f"{step['stage']}: {step['command']} exited {step['returncode']}\n{step['stdout'][-3000:]}\n{step['stderr'][-3000:]}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
