#!/usr/bin/env python3
"""`make policy-check`: every data-plane call the stacks make, evaluated by an independent IAM engine.

moto stores policies and enforces none, so the rehearsal cannot tell whether a real account would
allow what the system does. This lists, for each synthesized stack, the calls AWS would evaluate
when the system runs, as AWS makes them (who calls, what, on which ARN, with the request context
the service sends: kms:ViaService, the encryption context, aws:SourceArn / aws:SourceAccount,
sts:ExternalId), and asks @cloud-copilot/iam-simulate (npm, pinned in package.json; AGPL-3.0, used
only here, never shipped) to decide each against the synthesized policies: the caller's identity
policies and the target's resource policy (Kinesis and DynamoDB resource policies, key policies,
trust policies, topic policies, Lambda permissions), each in its own account.

Every expected call must be Allowed. For each one, variants that must be denied: the same call by
a role in a third account (same identity policies), and for a call into another account by
another role of the caller's account and by that account's root; the same caller on another
resource of the kind; the request context changed (another region's service, a missing or wrong
external id, another source ARN or account, another encryption context); and a write by every
reader of a shared stream.

References (`${aws_x.y.arn}`) are resolved with deterministic stand-ins (producer 111111111111,
consumer 222222222222, eu-west-1), or, with `--state`, with the real ARNs of an applied stack
(`terraform show -json`: the rehearsal does this after its apply).

    python tests/harness/policy_check.py --stacks-dir cdktf.out/stacks [--reports reports]

Writes reports/policy-check.json and .md (stack, caller, action, resource, expected, got, the
statements that decided); exit status 1 if any call is not decided as expected.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "constructs"))

# The model, shared with make access-review (xacct_ops.iam).
from xacct_ops import manifest  # noqa: E402
from xacct_ops.iam.calls import calls_by_type, expected_calls  # noqa: E402
from xacct_ops.iam.engine import evaluate, request_of  # noqa: E402
from xacct_ops.iam.policy import Call  # noqa: E402
from xacct_ops.iam.resolver import ACCOUNTS, OTHER_REGION, REGION, THIRD_ACCOUNT, stable_account_id  # noqa: E402
from xacct_ops.iam.sources import load_state  # noqa: E402
from xacct_ops.iam.stack import Stack  # noqa: E402

__all__ = ["ACCOUNTS", "Stack", "check_stack", "load_state", "stable_account_id", "summarize"]


# ---- what must be denied ---------------------------------------------------------------------

def _other_resource(arn: str) -> str:
    """Another resource of the same kind in the same account: the name changed where it is."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return f"other-{arn}"
    service, resource = parts[2], parts[5]
    if service == "s3":
        resource = f"other-{resource}"
    elif service == "logs":
        resource = re.sub(r"^log-group:([^:]+)", r"log-group:\1-other", resource)
    elif "/" in resource:
        kind, _, rest = resource.partition("/")
        resource = f"{kind}/other-{rest}"
    elif ":" in resource:
        kind, _, rest = resource.partition(":")
        resource = f"{kind}:other-{rest}"
    else:
        resource = f"other-{resource}"
    return ":".join([*parts[:5], resource])


def denied_variants(call: Call, stack: Stack) -> list[Call]:
    out: list[Call] = []
    deny = lambda **changes: out.append(replace(call, expected="Denied", **changes))  # noqa: E731
    is_role = bool(call.identity)
    caller_account = call.caller.split(":")[4] if call.caller.startswith("arn:") else ""
    if is_role:
        deny(caller=f"arn:aws:iam::{THIRD_ACCOUNT}:role/intruder", what=f"{call.what} [by a role in a third account, same identity policies]")
        if call.account and call.account != caller_account:
            deny(caller=f"arn:aws:iam::{caller_account}:role/other-team", what=f"{call.what} [by another role of the caller's account, same identity policies]")
            deny(caller=f"arn:aws:iam::{caller_account}:root", identity=(), what=f"{call.what} [by the caller account's root]")
        deny(resource=_other_resource(call.resource), what=f"{call.what} [on another resource of the kind]")
    else:
        deny(resource=_other_resource(call.resource), what=f"{call.what} [on another resource of the kind]")
    context, scoped = call.context, set(call.scoped)
    if "kms:ViaService" in scoped:
        deny(context={**context, "kms:ViaService": context["kms:ViaService"].replace(REGION, OTHER_REGION)}, what=f"{call.what} [through the service in another region]")
    for key in sorted(k for k in scoped if k.startswith("kms:EncryptionContext:")):
        deny(context={**context, key: _other_resource(context[key])}, what=f"{call.what} [another encryption context]")
    if "sts:ExternalId" in scoped:
        deny(context={k: v for k, v in context.items() if k != "sts:ExternalId"}, what=f"{call.what} [without the external id]")
        deny(context={**context, "sts:ExternalId": "wrong-external-id"}, what=f"{call.what} [with a wrong external id]")
    if "aws:SourceArn" in scoped:
        deny(context={**context, "aws:SourceArn": _other_resource(context["aws:SourceArn"])}, what=f"{call.what} [for another source]")
    if "aws:SourceAccount" in scoped:
        deny(context={**context, "aws:SourceAccount": THIRD_ACCOUNT}, what=f"{call.what} [for another source account]")
    if call.action in ("kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"):
        # A reader may use its own EFO consumer, and no other reader's (fan-out).
        for address, _ in stack.each("aws_kinesis_stream_consumer"):
            other = stack.value(address, "arn")
            if other != call.resource:
                deny(resource=other, context={}, what=f"{call.what} [on {other.rsplit('/', 1)[-1].split(':')[0]}'s EFO consumer]")
    if call.action in ("kinesis:GetRecords",) and call.account != caller_account:
        deny(action="kinesis:PutRecord", context={}, what=f"{call.what} [a write by a reader]")
    if call.action == "dynamodb:GetRecords":
        deny(action="dynamodb:PutItem", resource=call.resource.split("/stream/")[0], context={}, what=f"{call.what} [a write by a reader]")
    return out


def check_stack(stack: Stack) -> list[dict[str, Any]]:
    allowed = expected_calls(stack)
    calls = allowed + [variant for call in allowed for variant in denied_variants(call, stack)]
    requests = [request_of(call, stack) for call in calls]
    rows = []
    for call, answer in zip(calls, evaluate(requests)):
        got = "Allowed" if answer["result"] == "Allowed" else "Denied"
        deciding = answer["allowedBy"] if got == "Allowed" else (answer["deniedBy"] or [f"identity {answer['identity']}, resource {answer['resource']}"])
        rows.append({**asdict(call), "got": got, "engine": answer["result"], "decided_by": deciding, "errors": answer["errors"],
                     "ok": got == call.expected and not answer["errors"]})
    return rows


def missing_calls(stack_dir: Path, stack: Stack) -> list[str]:
    """A line for each resource type whose calls the stack's kind expects (catalog.StackKind.calls, as
    manifest.json records them) and the model found none of: the check would pass without deciding them."""
    try:
        entry = manifest.kind_entry(stack_dir)
    except manifest.NoKindError as error:
        return [f"NOTE   {error}: its calls are checked, no kind's expectations"]
    found = calls_by_type(stack)
    return [f"MISSING  {stack.name}: kind {entry['kind']} expects calls of {type_} (catalog.StackKind.calls); the IAM model found none"
            for type_ in entry.get("calls", []) if not found.get(type_)]


def write_reports(rows: list[dict[str, Any]], reports: Path) -> None:
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "policy-check.json").write_text(json.dumps(rows, indent=2))
    lines = ["| stack | caller | action | resource | expected | got | decided by | call |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        mark = "" if row["ok"] else " **WRONG**"
        lines.append(f"| {row['stack']} | `{row['caller']}` | `{row['action']}` | `{row['resource']}` | {row['expected']} | {row['got']}{mark} | {'; '.join(row['decided_by'])} | {row['what']} |")
    (reports / "policy-check.md").write_text("\n".join(lines) + "\n")


def summarize(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = out.setdefault(row["stack"], {"allowed": 0, "denied": 0, "wrong": 0})
        counts["wrong" if not row["ok"] else row["expected"].lower()] += 1
    return out


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks-dir", type=Path, required=True)
    parser.add_argument("--reports", type=Path, default=ROOT / "reports")
    parser.add_argument("--state", action="append", default=[], metavar="STACK=SHOW_JSON",
                        help="resolve a stack's references with `terraform show -json` of its applied state")
    args = parser.parse_args(argv)
    states = dict(item.split("=", 1) for item in args.state)
    stack_dirs = sorted(p for p in args.stacks_dir.glob("*/") if (p / "cdk.tf.json").is_file())
    if not stack_dirs:
        print(f"nothing synthesized in {args.stacks_dir}: run 'make synth' first", file=sys.stderr)
        return 2
    rows: list[dict[str, Any]] = []
    missing: list[str] = []
    for stack_dir in stack_dirs:
        state = load_state(Path(states[stack_dir.name])) if stack_dir.name in states else None
        stack = Stack(stack_dir.name, json.loads((stack_dir / "cdk.tf.json").read_text()), state)
        missing += missing_calls(stack_dir, stack)
        rows += check_stack(stack)
    write_reports(rows, args.reports)
    for line in missing:
        print(line)
    for row in rows:
        if not row["ok"]:
            print(f"WRONG  {row['stack']}: {row['caller']} {row['action']} {row['resource']} {row['context'] or ''}: expected {row['expected']}, "
                  f"got {row['engine']} ({'; '.join(row['decided_by'])}) {' '.join(row['errors'])[:300]} -- {row['what']}")
    for stack, counts in summarize(rows).items():
        print(f"{stack}: {counts['allowed']} allowed and {counts['denied']} denied as expected, {counts['wrong']} wrong")
    print(f"report: {args.reports / 'policy-check.md'}")
    return 0 if all(row["ok"] for row in rows) and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
