"""`make access-review`: who gains and who loses access in a change, before and after, from the policies.

    python -m xacct_ops.access_review --before PATH --after PATH [--format md|json] [--output FILE]

PATH is a synthesized stack directory (`cdktf.out/stacks/<stack>`, or an output directory with several
under `stacks/`), a `terraform show -json` of a plan (its stack's `cdk.tf.json` next to it, or
`--config`), or of a state (a state file itself too). A missing or empty state is "nothing yet".

For every resource the stacks share or protect (streams, EFO consumers, tables and their streams,
keys, topics, secrets, queues, functions, delivery streams, buckets, role trusts) it lists which
principals can perform which actions: the calls the running system makes (as `make policy-check`
builds them, with the request context AWS sends: `request_context.py`) and every principal and action
an Allow statement names (resource, key and trust policies, KMS grants, Lambda permissions, the roles'
own policies), each decided by the same IAM engine with identity and resource policies, cross-account
rules included. A principal outside the configuration is taken to be allowed by its own account.
Log groups are left out (each function writes its own).

The difference is reported as added, removed and unknown until apply (an entry whose resource or
principal is a value Terraform computes: a new key's id, an EFO consumer's ARN). Findings fail the
review (exit status 1), each named: access added for another account's root, for a wildcard principal
or action, or for a principal in an account the stacks do not declare. A key policy's statement for
the key's own account root (the KMS default that lets IAM policies of that account apply) is not a
finding. Any other change exits 0.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import re
import sys
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from xacct_ops import iam_data
from xacct_ops.efo_prices import HOURS_PER_MONTH, PRICES, StreamEfo, efo_changes
from xacct_ops.iam_model import (
    ACCOUNTS,
    ALLOW_ALL,
    MOTO_CONSUMER_ARN,
    THIRD_ACCOUNT,
    PolicyError,
    Call,
    EngineError,
    Resolver,
    Stack,
    evaluate,
    expected_calls,
    load_state,
)
from xacct_ops.request_context import TABLE, NotInTable, condition_keys

# Condition keys a role's request can carry (IAM sets the principal keys; the service a KMS call goes
# through sets kms:ViaService and the encryption context; sts:ExternalId is the caller's own).
ROLE_KEYS_PREFIXES = ("aws:Principal", "kms:CallerAccount", "kms:ViaService", "kms:EncryptionContext:", "sts:ExternalId")
# Attributes Terraform computes at apply that no name determines (a key's id, an EFO consumer's
# creation time, a secret's suffix, a table stream's label, an API's id): in a plan, an entry naming
# the resolver's stand-in for one is unknown until apply. (A role's ARN follows from its name.)
NOT_DERIVABLE = {
    "aws_kms_key": ("arn", "key_id", "id"),
    "aws_kinesis_stream_consumer": ("arn", "id"),
    "aws_secretsmanager_secret": ("arn", "id"),
    "aws_dynamodb_table": ("stream_arn", "stream_label"),
    "aws_api_gateway_rest_api": ("id", "execution_arn", "root_resource_id"),
}


# What grants an access (`Access.granted_by`). Across accounts a resource policy's grant is access the
# other account holds: it controls its principal's identity policies, outside this plan.
BY_IDENTITY, BY_RESOURCE, BY_BOTH = "identity policy", "resource policy", "both"
KNOWN_AFTER_APPLY = "known after apply"
NOT_DECIDED = "not decided"  # how an unknown entry's reason starts when nothing here can decide it (a finding)


@dataclass(frozen=True, order=True)
class Access:
    resource: str
    principal: str
    action: str
    via: str = ""  # the service a KMS call goes through (kms:ViaService), when the access holds only that way
    account: str = ""  # the resource's account, where known
    # A resource policy's statement whose Resource, as written, has a wildcard: it is listed apart
    # from the exact grant (and is a finding), though the policy protects only `resource`.
    written: str = ""
    # Which side grants it (BY_*); for an entry not decided, why. Not part of its identity: the same
    # access granted another way is "changed", not added and removed.
    granted_by: str = field(default="", compare=False)

    def as_row(self) -> dict[str, str]:
        row = {"principal": self.principal, "action": self.action, "resource": self.resource, "account": self.account}
        row.update({k: v for k, v in (("via", self.via), ("written", self.written), ("granted_by", self.granted_by)) if v})
        return row


@dataclass
class Snapshot:
    """What one side of the review can do: access, and what depends on values computed at apply."""

    access: set[Access] = field(default_factory=set)
    # Entries not decided: a value computed at apply, or what the engine or the review cannot decide.
    unknown: set[Access] = field(default_factory=set)
    # A role's own policy allows it on another account's resource that does not grant it (or whose
    # policy is not in this configuration): no access until that account grants it.
    identity_only: set[Access] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)  # the accounts the stacks declare
    efo: list[StreamEfo] = field(default_factory=list)  # each stream's enhanced fan-out, for its price


@dataclass(frozen=True)
class Finding:
    rule: str
    access: Access

    def text(self) -> str:
        a = self.access
        on = f"{a.resource} (as written: {a.written})" if a.written else a.resource
        return f"{self.rule}: {a.principal} may {a.action} on {on}" + (f" (via {a.via})" if a.via else "")


# ---- reading a side ---------------------------------------------------------------------------

def stable_account_id(alias: str) -> str:
    """A fan-out account's stand-in id from its name, so adding an account changes no other's id."""
    return f"{int(hashlib.sha256(alias.encode()).hexdigest(), 16) % 10**11 + 10**11:012d}"


def _stand_in_accounts(config: dict[str, Any]) -> dict[str, str]:
    aliases = [p["alias"] for p in config.get("provider", {}).get("aws", []) if "alias" in p]
    return {f"aws.{a}": stable_account_id(a) for a in aliases if f"aws.{a}" not in ACCOUNTS}


def _read_json(path: Path, what: str) -> Any:
    """A file's JSON, or the reason it is not usable (a ReviewError naming the file)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ReviewError(f"{path}: cannot read it ({error.__class__.__name__}: {error})") from None
    # moto's EFO consumer ARNs lack AWS's creation time: given one, as load_state does for a state.
    text = MOTO_CONSUMER_ARN.sub(r"\1:1767225600", text)
    try:
        return json.loads(text) if text else {}
    except ValueError as error:
        raise ReviewError(f"{path}: not JSON ({error}): {what}") from None


USAGE = "give a synthesized stack directory, a stack's cdk.tf.json, or `terraform show -json` of a plan or a state"


def load_side(path: Path, config_path: Optional[Path] = None) -> list[Stack]:
    """The stacks of one side: synthesized directories, or a plan or state with real values."""
    if path.is_dir():
        dirs = [path] if (path / "cdk.tf.json").is_file() else sorted(p for p in (path / "stacks").glob("*/") if (p / "cdk.tf.json").is_file())
        if not dirs:
            raise ReviewError(f"{path}: no cdk.tf.json in it or in {path}/stacks/*/")
        configs = [(d.name, _read_json(d / "cdk.tf.json", USAGE)) for d in dirs]
        for (name, config), directory in zip(configs, dirs):
            if not isinstance(config, dict) or not isinstance(config.get("resource", {}), dict):
                raise ReviewError(f"{directory / 'cdk.tf.json'}: not a synthesized stack (no resource object)")
        return _synthesized(configs)
    if not path.exists():
        raise ReviewError(f"{path}: no such file or directory")
    document = _read_json(path, USAGE)
    if not isinstance(document, dict):
        raise ReviewError(f"{path}: not a plan, a state or a stack: {USAGE}")
    if "planned_values" in document or "resource_changes" in document:
        return [_plan_stack(path, document, config_path or path.parent / "cdk.tf.json")]
    if "resource" in document and isinstance(document["resource"], dict):
        return _synthesized([(path.parent.name, document)])
    if not document or "values" in document or ("resources" in document and "version" in document):
        return [_state_stack(path)]
    raise ReviewError(f"{path}: not a plan, a state or a stack (no resource_changes, values, resources or resource): {USAGE}")


def _synthesized(configs: list[tuple[str, dict[str, Any]]]) -> list[Stack]:
    """Synthesized stacks with stand-in values. The plans of a split fan-out get what the handoff
    would give them: the producer plan every account plan's `reader_role_arns`, each account plan its
    entry of the producer's `stream_shares`, and each account plan its own account's id."""
    stacks: list[Stack] = []
    for name, config in configs:
        accounts = _stand_in_accounts(config)
        variables = {}
        if "consumer_account_id" in config.get("variable", {}) and len(accounts) == 1:
            variables["consumer_account_id"] = next(iter(accounts.values()))
        stacks.append(Stack(name, config, resolver=Resolver(config, accounts=accounts, variables=variables)))
    producers = [s for s in stacks if "reader_role_arns" in s.config.get("variable", {})]
    readers = [s for s in stacks if "reader_role_arns" in s.config.get("output", {})]
    if producers and readers:
        roles = {k: v for s in readers for k, v in s.r(s.config["output"]["reader_role_arns"]["value"]).items()}
        for producer in producers:
            producer.r.variables["reader_role_arns"] = roles
            shares = producer.r(producer.config["output"]["stream_shares"]["value"])
            for reader in readers:
                (alias,) = [a.split(".", 1)[1] for a in _stand_in_accounts(reader.config)]
                if alias in shares:
                    reader.r.variables["stream_share"] = shares[alias]
    return stacks


def _variables(document: dict[str, Any]) -> dict[str, Any]:
    return {name: body.get("value") for name, body in document.get("variables", {}).items()}


def _accounts_of(document: dict[str, Any], variables: dict[str, Any]) -> dict[str, str]:
    """Provider alias -> account id, from each provider's allowed_account_ids in the plan."""
    accounts: dict[str, str] = {}
    for key, provider in document.get("configuration", {}).get("provider_config", {}).items():
        expression = provider.get("expressions", {}).get("allowed_account_ids", {})
        references = expression.get("references", []) if isinstance(expression, dict) else []
        for reference in references:
            value: Any = variables
            for part in reference.split(".")[1:] if reference.startswith("var.") else ["?"]:
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, str) and value.isdigit():
                accounts[f"aws.{provider.get('alias', key.split('.')[-1])}"] = value
                break
    return accounts


def _plan_stack(path: Path, document: dict[str, Any], config_path: Path) -> Stack:
    if not config_path.is_file():
        raise ReviewError(f"{path}: a plan is reviewed with its stack's configuration: no {config_path} (give --config)")
    config = _read_json(config_path, "a plan's cdk.tf.json (--config)")
    if not isinstance(config, dict) or not isinstance(config.get("resource", {}), dict):
        raise ReviewError(f"{config_path}: not a synthesized stack (no resource object)")
    variables = _variables(document)
    known = {}
    for change in document.get("resource_changes", []):
        actions = change["change"]["actions"]
        if change.get("mode") != "managed" or actions == ["delete"]:
            continue
        after = change["change"].get("after") or {}
        unknown = change["change"].get("after_unknown") or {}
        # `x[0]`: an instance of a resource with a count (a split fan-out's mappings and read policies).
        known[re.sub(r"\[[^\]]*\]$", "", change["address"])] = {k: v for k, v in after.items() if not unknown.get(k)}
    # What the plan will not have after the apply (count = 0, or destroyed) grants nothing.
    config = {**config, "resource": {type_: {name: body for name, body in group.items() if f"{type_}.{name}" in known}
                                     for type_, group in config.get("resource", {}).items()}}
    accounts = {**_stand_in_accounts(config), **_accounts_of(document, variables)}
    resolver = PlanResolver(config, known, accounts=accounts, variables=variables)
    return Stack(config_path.parent.name, config, resolver=resolver)


class PlanResolver(Resolver):
    """Known values from the plan; for a value computed at apply, the stand-in, remembered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stand_ins: dict[str, str] = {}  # stand-in -> what it stands for, as the report names it

    def attribute(self, type_: str, body: dict[str, Any], attribute: str, address: str) -> Any:
        value = super().attribute(type_, body, attribute, address)
        if attribute in NOT_DERIVABLE.get(type_, ()) and isinstance(value, str):
            self.stand_ins[value] = f"{address}.{attribute} (known after apply)"
        return value


# Nested blocks the model reads: a configuration writes each as an object, a state as a list of one.
BLOCKS = {"environment", "logging_config", "dead_letter_config", "destination_config", "on_failure", "server_side_encryption",
          "extended_s3_configuration", "cloudwatch_logging_options", "sns_destination", "stream_mode_details"}


def _as_configuration(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (_as_configuration(v[0]) if v else {}) if k in BLOCKS and isinstance(v, list) else _as_configuration(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_as_configuration(v) for v in value]
    return value


def _state_stack(path: Path) -> Stack:
    """A state as a configuration of literal values: every policy, name and ARN is known."""
    values = {address: _as_configuration(attributes) for address, attributes in (load_state(path) if path.read_text().strip() else {}).items()}
    config: dict[str, Any] = {"resource": {}}
    for address, attributes in values.items():
        type_, name = address.split(".", 1)
        config["resource"].setdefault(type_, {})[name] = dict(attributes)
    return Stack(path.stem, config, state=values, resolver=_StateResolver(config, values))


class _StateResolver(Resolver):
    """Values are literal; a role policy's account is its role's (a state has no provider aliases)."""

    def account_of(self, body: dict[str, Any]) -> str:
        role = body.get("role")
        for attributes in self.state.values():
            if attributes.get("name") == role and str(attributes.get("arn", "")).startswith("arn:aws:iam::"):
                return attributes["arn"].split(":")[4]
        return super().account_of(body)


class ReviewError(Exception):
    pass


# ---- who can do what ------------------------------------------------------------------------

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


def _representative(action: str, resource: str, known: Iterable[str]) -> str:
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


def _candidates(stack: Stack) -> tuple[list[Candidate], list[Access]]:
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


def resource_account(stack: Stack, call: Call) -> str:
    """The account that owns the resource: from its ARN; a bucket's (no account in its ARN) from the
    provider that creates it; a resource-less action's ("*") the caller's own."""
    if call.account:
        return call.account
    if call.resource.startswith("arn:aws:s3:::"):
        bucket = call.resource.split(":::", 1)[1].split("/", 1)[0]
        found = stack.find("aws_s3_bucket", bucket=bucket)
        if found:
            return stack.r.account_of(found[1]) if not isinstance(stack.r, _StateResolver) else _caller_account(call)
    return _caller_account(call)


def _caller_account(call: Call) -> str:
    return call.caller.split(":")[4] if call.caller.startswith("arn:") and call.caller.count(":") >= 4 else ""


class _Side:
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


def _request(side: _Side, stack: Stack, call: Call, known_actions: set[str]) -> dict[str, Any]:
    action = _representative(call.action, call.resource, known_actions)
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
    side: _Side
    pending: list[tuple[Candidate, Stack, dict[str, Any]]] = field(default_factory=list)


def _prepare(stacks: list[Stack]) -> _Prepared:
    prepared = _Prepared(Snapshot(), _Side(stacks))
    result, side = prepared.result, prepared.side
    for stack in stacks:
        result.efo += stream_efo(stack)
        result.accounts.update(a for a in stack.r.accounts.values())
        candidates, broad = _candidates(stack)
        result.access.update(broad)
        known_actions = {c.call.action for c in candidates} | {a for row in TABLE for a in row.actions}
        seen: set[tuple[str, ...]] = set()
        for candidate in candidates:
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


# ---- the review -------------------------------------------------------------------------------

def _wildcard_resource(resource: str, action: str) -> bool:
    """A resource that names every resource of its kind, or a name pattern: `*` for an action that has
    resource-level permissions, or a wildcard in an ARN's account, region or resource name. A wildcard
    below a named resource (a bucket's objects, a log group's streams) is that resource's own."""
    if resource == "*":
        return any(iam_data.resource_types(a) for a in iam_data.expand(action)) if ("*" in action or "?" in action) else bool(iam_data.resource_types(action))
    if not any(c in resource for c in "*?"):
        return False
    parts = resource.split(":", 5)
    if len(parts) < 6 or any(c in part for part in parts[1:5] for c in "*?"):
        return True
    named = parts[5].split("/", 1)[0] if parts[2] == "s3" else "/".join(re.split(r"[/:]", parts[5])[:2])
    return any(c in named for c in "*?")


def findings(added: Iterable[Access], accounts: set[str]) -> list[Finding]:
    out = []
    for access in sorted(added):
        principal_account = access.principal.split(":")[4] if access.principal.startswith("arn:") else ""
        own_root = access.principal.endswith(":root") and principal_account == access.account
        if access.principal == "*" or access.principal.startswith("NotPrincipal "):
            out.append(Finding("wildcard principal", access))
        elif access.principal.endswith(":root") and not own_root:
            out.append(Finding("another account's root", access))
        if ("*" in access.action or "?" in access.action or access.action.startswith("NotAction ")) and not own_root:
            out.append(Finding("wildcard action", access))
        if access.written.startswith("NotResource ") or _wildcard_resource(access.written or access.resource, access.action):
            out.append(Finding("wildcard resource", access))
        if principal_account and principal_account not in accounts:
            out.append(Finding("principal outside the declared accounts", access))
        if access.granted_by.startswith(NOT_DECIDED):
            out.append(Finding("not decided by the review", access))
    return out


CHANGES = ("added", "changed", "identity only, added", "unknown", "removed", "identity only, removed")


@dataclass
class Review:
    added: list[Access]
    removed: list[Access]
    unknown: list[Access]
    findings: list[Finding]
    efo_cost: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[Access, Access]] = field(default_factory=list)  # (before, after): granted another way
    identity_only_added: list[Access] = field(default_factory=list)
    identity_only_removed: list[Access] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.unknown or self.changed or self.identity_only_added or self.identity_only_removed)

    def as_json(self) -> dict[str, Any]:
        report = {
            "added": [a.as_row() for a in self.added],
            "removed": [a.as_row() for a in self.removed],
            "changed": [{**after.as_row(), "granted_by_before": before.granted_by} for before, after in self.changed],
            "unknown": [a.as_row() for a in self.unknown],
            "identity_only": {"added": [a.as_row() for a in self.identity_only_added], "removed": [a.as_row() for a in self.identity_only_removed]},
            "findings": [{"rule": f.rule, **f.access.as_row()} for f in self.findings],
        }
        return {**report, "efo_cost": self.efo_cost, "prices": PRICES} if self.efo_cost else report

    def _cost_lines(self) -> list[str]:
        if not self.efo_cost:
            return []
        lines = ["", "### Enhanced fan-out, a month", "",
                 "| stream | mode | EFO consumers | consumer-shard hours | GB retrieved | USD |", "|---|---|---|---|---|---|"]
        for row in self.efo_cost:
            gb = f"{row['retrieval_gb_per_month']:+g}" if row["retrieval_gb_per_month"] else "not priced (no `[stream] monthly_data_gb`)"
            lines.append(f"| `{row['stream']}` | {row['mode']}{' x ' + str(row['shards']) + ' shards' if row['shards'] else ''} | "
                         f"{row['efo_consumers_before']} -> {row['efo_consumers_after']} | {row['consumer_shard_hours_per_month']:+,} | {gb} | "
                         f"{row['usd_per_month']:+,.2f} |")
        lines += ["", f"Prices of {PRICES['region']} (checked {PRICES['checked']}; other regions differ): "
                      f"{PRICES['PROVISIONED']['consumer_shard_hour']} USD per consumer-shard hour and {PRICES['PROVISIONED']['retrieval_gb']} "
                      f"per GB on a provisioned stream, {PRICES['ON_DEMAND']['retrieval_gb']} per GB on demand; {HOURS_PER_MONTH} hours a month."]
        return lines

    def markdown(self, title: str = "Access review") -> str:
        lines = [f"## {title}", ""]
        if self.empty:
            lines.append("No access change.")
        else:
            counts = [f"{len(self.added)} added", f"{len(self.removed)} removed", f"{len(self.unknown)} unknown"]
            counts += [f"{len(self.changed)} granted another way"] if self.changed else []
            counts += [f"{len(self.identity_only_added) + len(self.identity_only_removed)} identity-only changes"] if (
                self.identity_only_added or self.identity_only_removed) else []
            lines.append(", ".join(counts) + ".")
        if self.findings:
            lines += ["", f"**{len(self.findings)} finding(s) fail the review:**", ""]
            lines += [f"- {f.text()}" for f in self.findings]
        lines += self._cost_lines()
        # One table per resource (and account: "*", an action without resource-level permissions, is each caller's).
        rows: list[tuple[str, Access, str]] = [("changed", after, f"{before.granted_by} -> {after.granted_by}") for before, after in self.changed]
        for change, entries in (("added", self.added), ("identity only, added", self.identity_only_added), ("unknown", self.unknown),
                                ("removed", self.removed), ("identity only, removed", self.identity_only_removed)):
            rows += [(change, access, access.granted_by) for access in entries]
        by_resource: dict[tuple[str, str], list[tuple[str, Access, str]]] = {}
        for change, access, granted in rows:
            by_resource.setdefault((access.resource, access.account), []).append((change, access, granted))
        for resource, account in sorted(by_resource, key=lambda r: (min(CHANGES.index(c) for c, _, _ in by_resource[r]), r)):
            entries = sorted(by_resource[(resource, account)], key=lambda e: CHANGES.index(e[0]))
            lines += ["", f"### `{resource}`" + (f" (account {account})" if account else ""), "",
                      "| change | principal | action | granted by | via |", "|---|---|---|---|---|"]
            lines += [f"| {change} | `{a.principal}` | `{a.action}`{f' (as written: `{a.written}`)' if a.written else ''} | {granted} | {a.via} |"
                      for change, a, granted in entries]
        return "\n".join(lines) + "\n"


def review(before: Snapshot, after: Snapshot) -> Review:
    added = sorted(after.access - before.access)
    removed = sorted(before.access - after.access - after.unknown)
    unknown = sorted(after.unknown - before.unknown - before.access)
    earlier, later = {a: a for a in before.access}, {a: a for a in after.access}
    changed = sorted((earlier[a], later[a]) for a in set(later) & set(earlier) if earlier[a].granted_by != later[a].granted_by)
    identity_added = sorted(after.identity_only - before.identity_only)
    identity_removed = sorted(before.identity_only - after.identity_only - after.unknown)
    return Review(added, removed, unknown, findings([*added, *unknown, *identity_added], after.accounts | before.accounts),
                  efo_changes(before.efo, after.efo), changed, identity_added, identity_removed)


def _snapshot_of(path: Path, config: Optional[Path]) -> Snapshot:
    """One side, its input's problems named with its path (exit 2)."""
    try:
        return snapshot(load_side(path, config))
    except ReviewError:
        raise
    except (PolicyError, NotInTable) as error:
        raise ReviewError(f"{path}: {error}") from None


def _live_review(stack_dir: Path, tfvars_path: Path, endpoint: Optional[str]) -> tuple[Review, list[str]]:
    """The live policies of the stack in `stack_dir`, read with the tfvars' deploy roles, against its
    configuration (live_policies.py); and a line per policy read or not there."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from xacct_ops import live_policies, preflight
    from xacct_streaming.settings.errors import ConfigError

    config = _read_json(stack_dir / "cdk.tf.json", "give --stack-dir a synthesized stack directory (make synth)")
    if not isinstance(config, dict) or not isinstance(config.get("resource"), dict):
        raise ReviewError(f"{stack_dir / 'cdk.tf.json'}: not a synthesized stack (no resource object)")
    try:
        aliases = preflight.stack_aliases(config)
        tfvars = preflight.read_tfvars(tfvars_path, aliases)
        accounts = preflight.accounts(tfvars, aliases)
    except (ConfigError, OSError, ValueError) as error:
        raise ReviewError(f"{tfvars_path}: {error}") from None
    sessions = {}
    for alias, (role, _) in accounts.items():
        try:
            sessions[alias] = preflight.assumed(boto3.Session(region_name=tfvars["region"]), role, tfvars["region"], endpoint, f"xacct-access-review-{alias}")
        except (ClientError, BotoCoreError) as error:
            raise ReviewError(f"{tfvars_path}: cannot assume {role} for account {alias}: {error}") from None
    try:
        side = live_policies.read_live(stack_dir.name, config, {a: account for a, (_, account) in accounts.items()}, tfvars,
                                       live_policies.session_client(sessions, endpoint))
    except live_policies.LiveError as error:
        raise ReviewError(f"{stack_dir}: {error}") from None
    lines = [f"read: {line}" for line in side.read] + [f"not there: {line}" for line in side.absent]
    return live_policies.review_live(side), lines


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="synthesized stack directory, or terraform show -json of a plan or state")
    parser.add_argument("--after", type=Path, help="the same kinds of input as --before")
    parser.add_argument("--config", type=Path, default=None, help="the cdk.tf.json of a plan given as --after (default: next to the plan)")
    parser.add_argument("--live", action="store_true", help="the live policies (read with the deploy roles) against --stack-dir's configuration")
    parser.add_argument("--stack-dir", type=Path, default=None, help="with --live: the synthesized stack (cdktf.out/stacks/<stack>)")
    parser.add_argument("--tfvars", type=Path, default=Path("terraform.tfvars"), help="with --live: the accounts and deploy roles")
    parser.add_argument("--endpoint-url", default=None, help=argparse.SUPPRESS)  # tests: a local AWS
    parser.add_argument("--format", choices=("md", "json"), default="md")
    parser.add_argument("--output", type=Path, default=None, help="also write the report here")
    parser.add_argument("--debug", action="store_true", help="an internal error's traceback")
    args = parser.parse_args(argv)
    if args.live and args.stack_dir is None:
        parser.error("--live needs --stack-dir")
    if not args.live and (args.before is None or args.after is None):
        parser.error("--before and --after are required (or --live --stack-dir)")
    read: list[str] = []
    try:
        if args.live:
            result, read = _live_review(args.stack_dir, args.tfvars, args.endpoint_url)
        else:
            result = review(_snapshot_of(args.before, args.config), _snapshot_of(args.after, args.config))
    except (ReviewError, iam_data.NoIamData, EngineError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a bug, not the input: never a pass, never mistaken for a finding (1)
        if args.debug:
            traceback.print_exc()
        print(f"error: internal error of the access review, please report it (--debug shows where): {type(error).__name__}: {error}", file=sys.stderr)
        return 70
    if args.format == "json":
        text = json.dumps({**result.as_json(), **({"live_policies": read} if args.live else {})}, indent=2) + "\n"
    else:
        text = result.markdown(title="Access review: live policies against the plan" if args.live else "Access review")
        if args.live:
            text += "\nLive policies (`removed`: what the apply would take away):\n\n" + "\n".join(f"- {line}" for line in read) + "\n"
    sys.stdout.write(text)
    if args.output:
        args.output.write_text(text)
    return 1 if result.findings else 0


if __name__ == "__main__":
    sys.exit(main())
