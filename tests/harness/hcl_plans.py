#!/usr/bin/env python3
"""The HCL export means what the JSON means: each stack planned both ways against moto, plans compared.

For every stack in both trees, the JSON and the HCL configuration are copied to a scratch directory,
pointed at one moto server with the rehearsal's provider override and tfvars (from the JSON; the
override is a `.tf.json` file, which Terraform merges into either), initialized and planned; then
`terraform show -json` of the two plans is compared: every resource change (address, provider,
actions, planned values, which values are unknown or sensitive) and every output change. A value
moto makes up at plan time (a data source's random password) is masked in both first.

    python tests/harness/hcl_plans.py --json-stacks cdktf.out/stacks --hcl-stacks cdktf.out-hcl/stacks --json-out result.json

Writes {"stacks": {name: {"resources": N, "actions": {...}, "differences": [...]}}}; exits 1 when a
plan fails or differs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rehearse  # noqa: E402

# Data sources whose values moto generates anew on every read.
GENERATED = {"aws_secretsmanager_random_password": "random_password"}
PLAN_JOBS = 2


def _plan(stack_dir: Path, endpoint: str, config: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    rehearse.write_override(stack_dir, endpoint, config)
    rehearse.terraform(stack_dir, env, "init", "-input=false")
    rehearse.terraform(stack_dir, env, "plan", "-input=false", "-var-file=rehearsal.tfvars", "-out=tfplan")
    shown = rehearse.terraform(stack_dir, env, "show", "-json", "tfplan").stdout
    return json.loads(shown)


def _go_json_string(value: str) -> str:
    """`value` inside a JSON string as Terraform's jsonencode writes it (Go escapes <, > and &)."""
    return json.dumps(value, ensure_ascii=False)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _replaced(value: Any, generated: dict[str, str]) -> Any:
    if isinstance(value, str):
        for secret, mask in generated.items():
            value = value.replace(secret, mask).replace(_go_json_string(secret), mask)
        return value
    if isinstance(value, dict):
        return {key: _replaced(item, generated) for key, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item, generated) for item in value]
    return value


def _masked(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan's resource and output changes, with values generated at plan time replaced."""
    generated = {}
    for resource in plan.get("prior_state", {}).get("values", {}).get("root_module", {}).get("resources", []):
        attribute = GENERATED.get(resource["type"])
        if attribute and resource.get("values", {}).get(attribute):
            generated[resource["values"][attribute]] = f"<{resource['address']}.{attribute}>"
    changes = {"resource_changes": plan.get("resource_changes", []), "output_changes": plan.get("output_changes", {})}
    return _replaced(changes, generated)


def compare(json_plan: dict[str, Any], hcl_plan: dict[str, Any]) -> list[str]:
    """What differs between the two plans' changes, one line each (empty: they mean the same)."""
    ours, theirs = _masked(json_plan), _masked(hcl_plan)
    by_address = lambda plan: {change["address"]: change for change in plan["resource_changes"]}  # noqa: E731
    left, right = by_address(ours), by_address(theirs)
    differences = [f"only in the JSON plan: {a}" for a in sorted(left.keys() - right.keys())]
    differences += [f"only in the HCL plan: {a}" for a in sorted(right.keys() - left.keys())]
    for address in sorted(left.keys() & right.keys()):
        for key in sorted(set(left[address]) | set(right[address])):
            if key == "change":
                for part in sorted(set(left[address]["change"]) | set(right[address]["change"])):
                    if left[address]["change"].get(part) != right[address]["change"].get(part):
                        differences.append(f"{address}: change.{part} differs")
            elif left[address].get(key) != right[address].get(key):
                differences.append(f"{address}: {key} differs")
    for name in sorted(set(ours["output_changes"]) | set(theirs["output_changes"])):
        if ours["output_changes"].get(name) != theirs["output_changes"].get(name):
            differences.append(f"output {name} differs")
    return differences


def run(json_stacks: Path, hcl_stacks: Path, workdir: Path) -> dict[str, Any]:
    names = sorted(p.name for p in json_stacks.iterdir() if (p / "cdk.tf.json").is_file() and (hcl_stacks / p.name / "cdk.tf").is_file())
    if not names:
        raise rehearse.RehearsalFailed(f"no stack is in both {json_stacks} and {hcl_stacks}")
    env = rehearse.mirror_config(workdir)
    ignore = shutil.ignore_patterns(".terraform", "tfplan", "*.tfstate*")
    tasks = []
    for name in names:
        config = json.loads((json_stacks / name / "cdk.tf.json").read_text())
        for flavor, source in (("json", json_stacks / name), ("hcl", hcl_stacks / name)):
            target = workdir / flavor / name
            shutil.copytree(source, target, ignore=ignore)
            tasks.append((name, flavor, target, config))
    with rehearse.moto_server() as endpoint, ThreadPoolExecutor(max_workers=PLAN_JOBS) as pool:
        plans = dict(zip([(n, f) for n, f, _, _ in tasks], pool.map(lambda t: _plan(t[2], endpoint, t[3], env), tasks)))
    result: dict[str, Any] = {}
    for name in names:
        changes = plans[(name, "json")].get("resource_changes", [])
        result[name] = {
            "resources": len(changes),
            "actions": dict(Counter("-".join(c["change"]["actions"]) for c in changes)),
            "differences": compare(plans[(name, "json")], plans[(name, "hcl")]),
        }
    return {"stacks": result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json-stacks", type=Path, required=True, help="the JSON output's stacks/ directory")
    parser.add_argument("--hcl-stacks", type=Path, required=True, help="the HCL output's stacks/ directory (main.py --hcl)")
    parser.add_argument("--json-out", type=Path, required=True, help="where to write the comparison")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="hcl-plans-"))
    try:
        result = run(args.json_stacks, args.hcl_stacks, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    args.json_out.write_text(json.dumps(result, indent=2))
    for name, stack in result["stacks"].items():
        print(f"{name}: {stack['resources']} resource changes {stack['actions']}, {len(stack['differences'])} differences")
        for line in stack["differences"][:20]:
            print(f"  {line}")
    return 1 if any(stack["differences"] for stack in result["stacks"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
