"""What the policies of a stack grant, as calls to decide: the calls its running system makes first
(their context is AWS's, sourced), then every principal and action an Allow statement names on the
resource its policy protects (resource, key and trust policies, KMS grants, Lambda permissions) or
on the resources it names (a role's own policies)."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from xacct_ops.iam import data as iam_data
from xacct_ops.iam.calls import expected_calls
from xacct_ops.iam.policy import Call
from xacct_ops.iam.request_context import TABLE, condition_keys
from xacct_ops.iam.stack import Stack
from xacct_ops.review.access import Access

# Condition keys a role's request can carry (IAM sets the principal keys; the service a KMS call goes
# through sets kms:ViaService and the encryption context; sts:ExternalId is the caller's own).
ROLE_KEYS_PREFIXES = ("aws:Principal", "kms:CallerAccount", "kms:ViaService", "kms:EncryptionContext:", "sts:ExternalId")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _document(stack: Stack, value: Any) -> dict[str, Any]:
    return stack.document(stack.r(value))


# How the policy a statement is in relates it to a resource: a resource policy protects one resource
# (its statements' Resource narrows or, with a wildcard, is only written wider); a key policy's "*" is
# its key (KMS: "In a key policy, the value of the Resource element is "*", which means this KMS key");
# a trust policy and a Lambda permission have the role or function as their resource.
RESOURCE, KEY, TRUST, PERMISSION, IDENTITY = "resource policy", "key policy", "trust policy", "Lambda permission", "identity policy"


def _policies(stack: Stack) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(the resource a policy protects, the policy, its kind) for every resource-side policy."""
    for protected, document in stack.resource_policies():
        yield protected, document, RESOURCE
    for _, body in stack.each("aws_kms_key_policy"):
        yield stack.key_arn(body["key_id"]), _document(stack, body["policy"]), KEY
    keys = {stack.r(body["key_id"]) for _, body in stack.each("aws_kms_grant")}
    for key in sorted(k for k in keys if isinstance(k, str)):
        grants = stack.grants_as_policy(key)
        if grants:
            yield key, grants, KEY
    for address, body in stack.each("aws_iam_role"):
        yield stack.value(address, "arn"), _document(stack, body["assume_role_policy"]), TRUST
    for _, body in stack.each("aws_lambda_permission"):
        function = stack.function(stack.r(body["function_name"]))
        if function is not None:
            arn = stack.value(function[0], "arn")
            yield arn, {"Version": "2012-10-17", "Statement": [stack.permission_statement(body, arn)]}, PERMISSION


def _principals(statement: dict[str, Any]) -> list[str]:
    """Every principal a statement names, as written; a bare account id is that account's root (IAM
    User Guide, "AWS JSON policy elements: Principal"). A kind of principal this review does not model
    (CanonicalUser, Federated) is kept with its kind, for the engine to leave undecided."""
    principal = statement.get("Principal")
    if principal is None:
        return []
    if not isinstance(principal, dict):
        return [str(principal)]
    out = []
    for kind, values in principal.items():
        for p in _as_list(values):
            if kind == "AWS" and isinstance(p, str) and re.fullmatch(r"\d{12}", p):
                out.append(f"arn:aws:iam::{p}:root")
            elif kind in ("AWS", "Service") or p == "*":
                out.append(str(p))
            else:
                out.append(f"{kind}:{p}")
    return out


def representative(action: str, resource: str, known: Iterable[str]) -> str:
    """A concrete action a wildcard stands for, for the engine (the entry keeps the wildcard): one of
    the actions it names that applies to the resource, where AWS's reference has one."""
    if "*" not in action and "?" not in action:
        return action
    named = iam_data.expand(action)
    applicable = [a for a in named if "*" in resource or iam_data.applies(a, resource)]
    if applicable:
        return applicable[0]
    matches = sorted(a for a in known if "*" not in a and fnmatch.fnmatchcase(a.lower(), action.lower()))
    return matches[0] if matches else action.replace("*", "List")


@dataclass(frozen=True)
class Candidate:
    """A call to decide: the call, the statement's Resource where it is written wider than the call's
    resource, and the condition keys this review cannot establish for the caller (their values
    decide, so a denial is not an answer)."""

    call: Call
    written: str = ""
    undecided: tuple[str, ...] = ()


def _context(stack: Stack, principal: str, action: str, statement: dict[str, Any]) -> tuple[dict[str, str], tuple[str, ...]]:
    """The statement's own condition values for the keys this principal's call is known to carry, and
    the keys whose presence nothing here establishes. A role's call carries the principal keys IAM
    sets, kms:ViaService and the encryption context of the service it goes through, and its own
    external id; a service sends what request_context.TABLE says (a key it does not list is absent);
    anyone (`*`) may send anything, so every condition of theirs is undecided."""
    keys = condition_keys(statement)
    values = {key: stack.r(_as_list(value)[0]) if _as_list(value) else "" for key, value in keys.items()}
    if principal == "*":
        return {}, tuple(sorted(keys))
    if principal.startswith("arn:"):
        known = {k: v for k, v in values.items() if k.startswith(ROLE_KEYS_PREFIXES)}
        return known, tuple(sorted(set(keys) - set(known)))
    rows = [row for row in TABLE if row.matches(principal, action)]
    if not rows:
        return {}, tuple(sorted(keys))
    sent = {key.lower() for row in rows for key in row.sends}
    return {k: v for k, v in values.items() if k.lower() in sent}, ()


def _broad(stack: Stack, resource: str, statement: dict[str, Any]) -> list[Access]:
    """An Allow with NotAction, NotPrincipal or NotResource grants all but what it names: listed as
    written, unevaluated."""
    def negated(element: str) -> str:
        value = stack.r(statement[element])
        written = json.dumps(value, sort_keys=True) if isinstance(value, dict) else ",".join(map(str, _as_list(value)))
        return f"{element} {written}"

    actions = [negated("NotAction")] if "NotAction" in statement else [stack.r(a) for a in _as_list(statement.get("Action"))]
    principals = [negated("NotPrincipal")] if "NotPrincipal" in statement else [stack.r(p) for p in _principals(statement)]
    written = negated("NotResource") if "NotResource" in statement else ""
    account = resource.split(":")[4] if resource.count(":") >= 4 else ""
    return [Access(resource, str(principal), str(action), "", account, written, "as written (not evaluated)")
            for principal in principals for action in actions]


def _within(resource: Any, protected: str) -> bool:
    return isinstance(resource, str) and (resource == protected or resource.startswith((protected + "/", protected + ":")))


def _statement_candidates(stack: Stack, resource: str, statement: dict[str, Any], kind: str) -> list[Candidate]:
    """What one Allow statement grants, each pair to decide: the principals and actions it names on
    the resource it protects (a resource-side policy) or on the resources it names (a role's policy)."""
    if kind == IDENTITY:
        resources = [(stack.r(r), "") for r in _as_list(statement.get("Resource"))]
    elif kind == RESOURCE:
        # As written, where it narrows the protected resource (a bucket's objects); else the protected
        # resource, the statement's Resource kept when a wildcard writes it wider.
        resources = []
        for written in (stack.r(r) for r in _as_list(statement.get("Resource")) or [resource]):
            if _within(written, resource):
                resources.append((written, ""))
            else:
                resources.append((resource, written if isinstance(written, str) and ("*" in written or "?" in written) else ""))
    else:
        resources = [(resource, "")]
    out = []
    for target, written in dict.fromkeys(resources):
        if not isinstance(target, str):
            continue
        for action in _as_list(statement.get("Action")):
            action = str(stack.r(action))
            for principal in _principals(statement):
                principal = str(stack.r(principal))
                context, undecided = _context(stack, principal, action, statement)
                identity = (principal,) if stack.declares(principal) else ()
                call = Call(stack.name, principal, action, target, "Allowed", f"named in a {kind}", context, identity)
                out.append(Candidate(call, written, undecided))
    return out


def candidates(stack: Stack) -> tuple[list[Candidate], list[Access]]:
    """The calls to decide, and the Allow statements too broad to decide (NotAction, NotPrincipal,
    NotResource). The calls the running system makes come first: their context is AWS's, sourced."""
    candidates = [Candidate(call) for call in expected_calls(stack, strict=False) if not call.example]
    broad: list[Access] = []
    statements: list[tuple[str, dict[str, Any], str]] = []
    for resource, document, kind in _policies(stack):
        statements += [(resource, s, kind) for s in document["Statement"]]
    for _, body in stack.each("aws_iam_role_policy"):
        role_name = stack.r(body["role"])
        role = stack.find("aws_iam_role", name=role_name)
        # A policy on a role this configuration does not create is that role's all the same.
        role_arn = stack.value(role[0], "arn") if role else f"arn:aws:iam::{stack.r.account_of(body)}:role/{role_name}"
        for statement in _document(stack, body["policy"])["Statement"]:
            statements.append((role_arn, {**statement, "Principal": {"AWS": role_arn}}, IDENTITY))
    for resource, statement, kind in statements:
        if statement.get("Effect") != "Allow" or not isinstance(resource, str):
            continue
        if "NotAction" in statement or "NotPrincipal" in statement or "NotResource" in statement:
            broad += _broad(stack, resource, statement)
            continue
        candidates += _statement_candidates(stack, resource, statement, kind)
    return candidates, broad
