"""`make deploy`: terraform apply of exactly the plan `make plan` saved, with one retry for a known race.

A resource policy that names a role the same apply has just created can be refused while IAM makes the
new role known everywhere: DynamoDB's PutResourcePolicy answers "Invalid principal in policy document"
(terraform-provider-aws #42933; the provider does not retry it), Kinesis's PutResourcePolicy does the
same, and AWS documents the delay ("Changes that I make are not always immediately visible", IAM User
Guide; KMS's PutKeyPolicy: "you might need to enforce a delay before including the new principal").
When that is the only failure, this waits and applies again, once: it plans again and applies only if
the new plan's changes are changes the reviewed plan already had (what was left undone), never more.
Any other failure stops at once, with the next steps printed.

    python -m xacct_ops.deploy --stack-dir cdktf.out/stacks/<stack> --tfvars terraform.tfvars [--wait 20]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

# Resource policies whose create the provider does not retry on a principal IAM does not know yet.
RACY_POLICIES = ("aws_kinesis_resource_policy", "aws_dynamodb_resource_policy")
INVALID_PRINCIPAL = re.compile(r"invalid principal", re.IGNORECASE)
ERROR_START = re.compile(r"^(?:│ )?Error: ", re.MULTILINE)
WITH_ADDRESS = re.compile(r"with ((?:module\.[^.\s]+\.)*aws_[a-z0-9_]+\.[A-Za-z0-9_-]+(?:\[[^\]]+\])?),")
DEFAULT_WAIT_SECONDS = 20

NEXT_STEPS = """next steps:
- "Invalid principal" on a resource policy (a role seconds old): make deploy retries once by itself; if it failed
  again, wait a minute, then make plan and make deploy (docs/operations.md, "The first apply across accounts").
- anything else: read the error above; fix, then make plan and make deploy. What was applied stays in the state."""


def errors_of(output: str) -> list[tuple[str, str]]:
    """(resource address or "", the error's text) for each `Error:` block of Terraform's output."""
    starts = [m.start() for m in ERROR_START.finditer(output)]
    blocks = [output[start:end] for start, end in zip(starts, [*starts[1:], len(output)])]
    found = []
    for block in blocks:
        address = WITH_ADDRESS.search(block)
        found.append((address.group(1) if address else "", block))
    return found


def only_the_race(output: str) -> list[str]:
    """The resource policies refused for a principal not known yet, if that is every error; else []."""
    errors = errors_of(output)
    if not errors or not all(INVALID_PRINCIPAL.search(text) and address.split(".")[0] in RACY_POLICIES for address, text in errors):
        return []
    return [address for address, _ in errors]


def _terraform(stack_dir: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    command = ["terraform", f"-chdir={stack_dir}", *args]
    if not capture:
        # The apply's own output goes to the console as it runs, and is kept to read its errors.
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line)
        return subprocess.CompletedProcess(command, process.wait(), "".join(lines), "")
    return subprocess.run(command, capture_output=True, text=True)


def changes(stack_dir: Path, plan_file: str) -> set[tuple[str, tuple[str, ...]]]:
    """(address, actions) of every change a saved plan makes."""
    shown = _terraform(stack_dir, "show", "-json", plan_file, capture=True)
    if shown.returncode != 0:
        raise RuntimeError(f"terraform show {plan_file} failed: {shown.stderr[-2000:]}")
    plan = json.loads(shown.stdout)
    return {(c["address"], tuple(c["change"]["actions"])) for c in plan.get("resource_changes", []) if c["change"]["actions"] != ["no-op"]}


def deploy(stack_dir: Path, tfvars: Path, wait_seconds: float, sleep: object = time.sleep) -> int:
    if not (stack_dir / "tfplan").is_file():
        print(f"error: no saved plan in {stack_dir}: run 'make plan' first", file=sys.stderr)
        return 2
    reviewed = changes(stack_dir, "tfplan")
    first = _terraform(stack_dir, "apply", "-input=false", "-no-color", "tfplan")
    if first.returncode == 0:
        return 0
    refused = only_the_race(first.stdout)
    if not refused:
        print(NEXT_STEPS)
        return 1
    print(f"retrying once in {wait_seconds:g} s: {', '.join(refused)} refused a role IAM did not know yet (Invalid principal)")
    sleep(wait_seconds)  # type: ignore[operator]
    replanned = _terraform(stack_dir, "plan", "-input=false", "-no-color", f"-var-file={tfvars}", "-out=tfplan.retry", capture=True)
    if replanned.returncode != 0:
        print(replanned.stdout[-4000:] + replanned.stderr[-4000:])
        print(NEXT_STEPS)
        return 1
    extra = sorted(f"{address} ({'-'.join(actions)})" for address, actions in changes(stack_dir, "tfplan.retry") - reviewed)
    if extra:
        print(f"not retried: the new plan changes what the reviewed plan did not: {', '.join(extra)}")
        print(NEXT_STEPS)
        return 1
    second = _terraform(stack_dir, "apply", "-input=false", "-no-color", "tfplan.retry")
    if second.returncode != 0:
        print(NEXT_STEPS)
    return second.returncode


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack-dir", type=Path, required=True)
    parser.add_argument("--tfvars", type=Path, required=True, help="the tfvars the plan was made with (for the retry's plan)")
    parser.add_argument("--wait", type=float, default=DEFAULT_WAIT_SECONDS, help="seconds before the retry (IAM propagation)")
    args = parser.parse_args(argv)
    return deploy(args.stack_dir, args.tfvars.resolve(), args.wait)


if __name__ == "__main__":
    sys.exit(main())
