"""Each candidate decided by the IAM engine, the two sides apart: within an account either side's
Allow suffices; across accounts (or for a service, or anyone) the resource side decides, since the
other account controls its principal's identity policies; a grant of only the identity side is listed
apart. The stacks of one side are seen together, as AWS sees them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from xacct_ops.iam import data as iam_data
from xacct_ops.iam.engine import evaluate
from xacct_ops.iam.policy import ALLOW_ALL, Call
from xacct_ops.iam.request_context import TABLE
from xacct_ops.iam.resolver import THIRD_ACCOUNT, StateResolver
from xacct_ops.iam.stack import Stack
from xacct_ops.review.access import BY_BOTH, BY_IDENTITY, BY_RESOURCE, KNOWN_AFTER_APPLY, NOT_DECIDED, Access, Snapshot
from xacct_ops.review.candidates import Candidate, candidates, representative
from xacct_ops.review.efo_prices import StreamEfo

def resource_account(stack: Stack, call: Call) -> str:
    """The account that owns the resource: from its ARN; a bucket's (no account in its ARN) from the
    provider that creates it; a resource-less action's ("*") the caller's own."""
    if call.account:
        return call.account
    if call.resource.startswith("arn:aws:s3:::"):
        bucket = call.resource.split(":::", 1)[1].split("/", 1)[0]
        found = stack.find("aws_s3_bucket", bucket=bucket)
        if found:
            return stack.r.account_of(found[1]) if not isinstance(stack.r, StateResolver) else _caller_account(call)
    return _caller_account(call)


def _caller_account(call: Call) -> str:
    return call.caller.split(":")[4] if call.caller.startswith("arn:") and call.caller.count(":") >= 4 else ""


class Side:
    """The stacks of one side as AWS sees them together: a role's identity policies and a resource's
    policy from whichever stack holds them (a split fan-out's producer plan holds the stream's policy,
    each account plan its reader's role)."""

    def __init__(self, stacks: list[Stack]) -> None:
        self.stacks = stacks

    def declares(self, principal: str) -> bool:
        return any(stack.declares(principal) for stack in self.stacks)

    def identity_policies(self, principal: str) -> list[dict[str, Any]]:
        return [policy for stack in self.stacks for policy in stack.identity_policies(principal)]

    def resource_policy(self, call: Call) -> Optional[dict[str, Any]]:
        return next((p for p in (stack.resource_policy(call) for stack in self.stacks) if p is not None), None)


def _request(side: Side, stack: Stack, call: Call, known_actions: set[str]) -> dict[str, Any]:
    action = representative(call.action, call.resource, known_actions)
    evaluated = replace(call, action=action, caller=f"arn:aws:iam::{THIRD_ACCOUNT}:role/anyone" if call.caller == "*" else call.caller)
    if side.declares(evaluated.caller):
        identity = side.identity_policies(evaluated.caller)
    elif evaluated.caller.startswith("arn:"):
        identity = [{"name": "its own account", "policy": ALLOW_ALL}]
    else:
        identity = []
    return {"principal": evaluated.caller, "action": action, "resource": evaluated.resource,
            "resourceAccount": resource_account(stack, call) or "000000000000", "context": evaluated.context,
            "identityPolicies": identity, "resourcePolicy": side.resource_policy(evaluated)}


# The engine's resource-side answers that grant: to the principal itself, or to its whole account (the
# principal's account root named: that account's IAM policies decide).
GRANTED, GRANTED_TO_ACCOUNT = "Allowed", "AllowedForAccount"


def _decide(candidate: Candidate, answer: dict[str, Any], declared: bool, account: str, has_policy: bool) -> Optional[tuple[str, str]]:
    """(where the entry goes: "access", "identity only" or "unknown"; what grants it, or why it is
    unknown), or None for no access. Within an account either side's Allow suffices (the engine's
    answer, KMS's key policy rule included). Across accounts, or for a service or anyone, the resource
    side decides: the other account controls its principal's identity policies, outside this plan;
    a grant of only the identity side is listed apart."""
    call = candidate.call
    # The evaluator reports each validation error as its message and as the engine's JSON of it: the messages.
    errors = [e for e in answer.get("errors") or [] if not e.startswith("{")]
    if any("no.resource.types" in e for e in errors):
        return None  # the action does not apply to this resource (a bucket action on its objects): IAM ignores the pair
    if errors:
        return "unknown", f"{NOT_DECIDED} by the engine: {'; '.join(errors)[:200]}"
    if "ExplicitlyDenied" in (answer["result"], answer.get("identity"), answer.get("resource")):
        return None
    by_identity = declared and answer.get("identity") == "Allowed"
    by_resource = answer.get("resource") == GRANTED
    undecided = ("unknown", f"{NOT_DECIDED}: it depends on condition keys this review cannot establish for {call.caller}: {', '.join(candidate.undecided)}")
    caller = _caller_account(call)
    if not declared:
        if by_resource or answer.get("resource") == GRANTED_TO_ACCOUNT:
            return "access", BY_RESOURCE
        return undecided if candidate.undecided else None
    if caller and caller == account:
        if answer["result"] == "Allowed":
            return "access", BY_BOTH if by_identity and by_resource else BY_IDENTITY if by_identity else BY_RESOURCE
        return undecided if candidate.undecided else None
    if by_resource or (by_identity and answer.get("resource") == GRANTED_TO_ACCOUNT):
        return "access", BY_BOTH if by_identity else BY_RESOURCE
    if by_identity:
        whose = f"account {account}'s" if account else "the resource's"
        return "identity only", f"{BY_IDENTITY} only: {whose} policy " + ("does not grant it" if has_policy else "is not in this configuration")
    return undecided if candidate.undecided else None


def stream_efo(stack: Stack) -> list[StreamEfo]:
    """Each stream of the stack with its EFO consumers, shards and the settings' usage estimate."""
    usage = sum(float(v) for k, v in stack.config.get("locals", {}).items() if "monthly_data_gb" in k and isinstance(v, (int, float)))
    found = []
    for address, body in stack.each("aws_kinesis_stream"):
        arn = stack.value(address, "arn")
        shard_count = stack.r(body.get("shard_count"))
        mode = (stack.r(body.get("stream_mode_details")) or {}).get("stream_mode") or ("PROVISIONED" if shard_count else "ON_DEMAND")
        consumers = sum(1 for _, c in stack.each("aws_kinesis_stream_consumer") if stack.r(c.get("stream_arn")) == arn)
        shards = int(shard_count) if mode == "PROVISIONED" and isinstance(shard_count, (int, str)) and str(shard_count).isdigit() else 0
        found.append(StreamEfo(arn, mode, shards, consumers, usage))
    return found


@dataclass
class _Prepared:
    """One side's requests for the engine, with what decides each answer, and what needs no engine."""

    result: Snapshot
    side: Side
    pending: list[tuple[Candidate, Stack, dict[str, Any]]] = field(default_factory=list)


def _prepare(stacks: list[Stack]) -> _Prepared:
    prepared = _Prepared(Snapshot(), Side(stacks))
    result, side = prepared.result, prepared.side
    for stack in stacks:
        result.efo += stream_efo(stack)
        result.accounts.update(a for a in stack.r.accounts.values())
        found, broad = candidates(stack)
        result.access.update(broad)
        known_actions = {c.call.action for c in found} | {a for row in TABLE for a in row.actions}
        seen: set[tuple[str, ...]] = set()
        for candidate in found:
            call = candidate.call
            key = (call.caller, call.action, call.resource, call.context.get("kms:ViaService", ""), candidate.written)
            if key in seen:
                continue
            seen.add(key)
            unresolved = re.findall(r"<([^<>]+)>", f"{call.caller} {call.action} {call.resource}")
            if unresolved:
                # A reference this review cannot resolve: listed as unknown, never dropped.
                result.unknown.add(Access(call.resource, call.caller, call.action, "", resource_account(stack, call), candidate.written,
                                          f"{NOT_DECIDED}: no value for {', '.join(unresolved)}"))
                continue
            prepared.pending.append((candidate, stack, _request(side, stack, call, known_actions)))
    return prepared


def _finish(prepared: _Prepared, answers: list[dict[str, Any]]) -> Snapshot:
    result, side = prepared.result, prepared.side
    for (candidate, stack, request), answer in zip(prepared.pending, answers):
        call = candidate.call
        account = resource_account(stack, call)
        decided = _decide(candidate, answer, side.declares(request["principal"]), account, request["resourcePolicy"] is not None)
        if decided is None:
            continue
        where, granted_by = decided
        via = call.context.get("kms:ViaService", "").split(".")[0]
        entry = Access(call.resource, call.caller, iam_data.canonical(call.action), via, account, candidate.written, granted_by)
        stand_ins = getattr(stack.r, "stand_ins", {})  # a plan's only
        named = [s for s in stand_ins if s in f"{call.resource} {call.caller}"]
        if named:
            # Named by what it stands for: the stand-in is no ARN a reviewer should see.
            for stand_in in sorted(named, key=len, reverse=True):
                entry = replace(entry, resource=entry.resource.replace(stand_in, stand_ins[stand_in]),
                                principal=entry.principal.replace(stand_in, stand_ins[stand_in]))
            where, entry = "unknown", replace(entry, granted_by=f"{KNOWN_AFTER_APPLY}; {granted_by}")
        {"access": result.access, "identity only": result.identity_only, "unknown": result.unknown}[where].add(entry)
    return result


def snapshots(sides: list[list[Stack]]) -> list[Snapshot]:
    """Every access each side's stacks grant, decided by the engine in one run (a request asked by
    several sides is asked once)."""
    prepared = [_prepare(stacks) for stacks in sides]
    index: dict[str, int] = {}
    requests: list[dict[str, Any]] = []
    keys: list[list[int]] = []
    for p in prepared:
        keys.append([])
        for _, _, request in p.pending:
            key = json.dumps(request, sort_keys=True)
            if key not in index:
                index[key] = len(requests)
                requests.append(request)
            keys[-1].append(index[key])
    answers = evaluate(requests) if requests else []
    return [_finish(p, [answers[i] for i in k]) for p, k in zip(prepared, keys)]


def snapshot(stacks: list[Stack]) -> Snapshot:
    """Every access the stacks grant, decided by the engine, in one evaluator run."""
    return snapshots([stacks])[0]
