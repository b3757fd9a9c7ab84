"""The independent IAM engine: @cloud-copilot/iam-simulate (npm, pinned in package.json; AGPL-3.0, a
development tool here, never shipped), run by `evaluate.cjs` next to this file. It decides a request
with identity and resource policies, KMS key policies and cross-account rules."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from xacct_ops.iam.policy import ALLOW_ALL, Call
from xacct_ops.iam.resolver import ACCOUNTS
from xacct_ops.iam.stack import Stack

ROOT = Path(__file__).resolve().parents[3]
EVALUATOR = Path(__file__).with_name("evaluate.cjs")


class EngineError(RuntimeError):
    """The engine could not run (no Node.js, the evaluator failed): nothing was decided."""


def request_of(call: Call, stack: Stack) -> dict[str, Any]:
    """The engine's request for a call of the running system: the caller's identity policies from
    the stack (the root user may do anything in its account), the resource's policy."""
    identity: list[dict[str, Any]] = []
    if call.caller.endswith(":root"):
        identity = [{"name": "root user", "policy": ALLOW_ALL}]
    elif call.identity:
        identity = stack.identity_policies(call.identity[0])
    return {
        "principal": call.caller, "action": call.action, "resource": call.resource, "resourceAccount": call.account or ACCOUNTS["aws.consumer"],
        "context": call.context, "identityPolicies": identity, "resourcePolicy": stack.resource_policy(call),
    }


def evaluate(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The engine's answer to each request, in one evaluator run."""
    node = shutil.which("node")
    if node is None:
        raise EngineError("node is not on PATH: the IAM engine (make policy-check, make access-review) needs Node.js")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(requests, handle)
    try:
        result = subprocess.run([node, str(EVALUATOR), handle.name], capture_output=True, text=True, cwd=ROOT, timeout=600)
    finally:
        Path(handle.name).unlink()
    if result.returncode != 0:
        raise EngineError(f"the IAM engine failed: {result.stderr[-3000:]}")
    return json.loads(result.stdout)
