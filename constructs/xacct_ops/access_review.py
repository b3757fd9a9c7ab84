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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from xacct_ops.efo_prices import HOURS_PER_MONTH, PRICES, StreamEfo, efo_changes
from xacct_ops.iam_model import (
    ACCOUNTS,
    ALLOW_ALL,
    MOTO_CONSUMER_ARN,
    THIRD_ACCOUNT,
    Call,
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
LEFT_OUT_SERVICES = ("logs",)
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


@dataclass(frozen=True, order=True)
class Access:
    resource: str
    principal: str
    action: str
    via: str = ""  # the service a KMS call goes through (kms:ViaService), when the access holds only that way
    account: str = ""  # the resource's account, where known

    def as_row(self) -> dict[str, str]:
        row = {"principal": self.principal, "action": self.action, "resource": self.resource, "account": self.account}
        return {**row, "via": self.via} if self.via else row


@dataclass
class Snapshot:
    """What one side of the review can do: access, and what depends on values computed at apply."""

    access: set[Access] = field(default_factory=set)
    unknown: set[Access] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)  # the accounts the stacks declare
    efo: list[StreamEfo] = field(default_factory=list)  # each stream's enhanced fan-out, for its price


@dataclass(frozen=True)
class Finding:
    rule: str
    access: Access

    def text(self) -> str:
        a = self.access
        return f"{self.rule}: {a.principal} may {a.action} on {a.resource}" + (f" (via {a.via})" if a.via else "")


# ---- reading a side ---------------------------------------------------------------------------

def stable_account_id(alias: str) -> str:
    """A fan-out account's stand-in id from its name, so adding an account changes no other's id."""
    return f"{int(hashlib.sha256(alias.encode()).hexdigest(), 16) % 10**11 + 10**11:012d}"


def _stand_in_accounts(config: dict[str, Any]) -> dict[str, str]:
    aliases = [p["alias"] for p in config.get("provider", {}).get("aws", []) if "alias" in p]
    return {f"aws.{a}": stable_account_id(a) for a in aliases if f"aws.{a}" not in ACCOUNTS}


def load_side(path: Path, config_path: Optional[Path] = None) -> list[Stack]:
    """The stacks of one side: synthesized directories, or a plan or state with real values."""
    if path.is_dir():
        dirs = [path] if (path / "cdk.tf.json").is_file() else sorted(p for p in (path / "stacks").glob("*/") if (p / "cdk.tf.json").is_file())
        if not dirs:
            raise ReviewError(f"{path}: no cdk.tf.json in it or in {path}/stacks/*/")
        return _synthesized([(d.name, json.loads((d / "cdk.tf.json").read_text())) for d in dirs])
    if not path.is_file():
        raise ReviewError(f"{path}: no such file or directory")
    # moto's EFO consumer ARNs lack AWS's creation time: given one, as load_state does for a state.
    text = MOTO_CONSUMER_ARN.sub(r"\1:1767225600", path.read_text().strip())
    try:
        document = json.loads(text) if text else {}
    except ValueError as error:
        raise ReviewError(f"{path}: not JSON ({error}): give a stack directory or `terraform show -json` output") from None
    if "planned_values" in document or "resource_changes" in document:
        return [_plan_stack(path, document, config_path or path.parent / "cdk.tf.json")]
    return [_state_stack(path)]


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
    config = json.loads(config_path.read_text())
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
    resolver = _PlanResolver(config, known, accounts=accounts, variables=variables)
    return Stack(config_path.parent.name, config, resolver=resolver)


class _PlanResolver(Resolver):
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
    return stack._doc(stack.r(value)) or {}


def _policies(stack: Stack) -> Iterator[tuple[str, dict[str, Any]]]:
    """(the resource a policy protects, the policy) for every resource, key and trust policy."""
    for type_, target in (("aws_kinesis_resource_policy", "resource_arn"), ("aws_dynamodb_resource_policy", "resource_arn"),
                          ("aws_sns_topic_policy", "arn")):
        for _, body in stack.each(type_):
            yield stack.r(body[target]), _document(stack, body["policy"])
    for _, body in stack.each("aws_kms_key_policy"):
        yield stack.key_arn(body["key_id"]), _document(stack, body["policy"])
    keys = {stack.r(body["key_id"]) for _, body in stack.each("aws_kms_grant")}
    for key in sorted(k for k in keys if isinstance(k, str)):
        grants = stack.grants_as_policy(key)
        if grants:
            yield key, grants
    for address, body in stack.each("aws_iam_role"):
        yield stack.value(address, "arn"), _document(stack, body["assume_role_policy"])
    for _, body in stack.each("aws_lambda_permission"):
        function = stack.function(stack.r(body["function_name"]))
        if function is None:
            continue
        statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": stack.r(body["principal"])}, "Action": stack.r(body["action"])}
        if body.get("source_arn"):
            statement["Condition"] = {"ArnLike": {"AWS:SourceArn": stack.r(body["source_arn"])}}
        yield stack.value(function[0], "arn"), {"Version": "2012-10-17", "Statement": [statement]}


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if not isinstance(principal, dict):
        return []
    # A bare account id is that account's root (IAM User Guide, "AWS JSON policy elements: Principal").
    return [f"arn:aws:iam::{p}:root" if isinstance(p, str) and re.fullmatch(r"\d{12}", p) else p
            for kind in ("AWS", "Service", "Federated") for p in _as_list(principal.get(kind))]


def _representative(action: str, known: Iterable[str]) -> str:
    """A concrete action a wildcard stands for, for the engine (the entry keeps the wildcard)."""
    if "*" not in action:
        return action
    matches = sorted(a for a in known if "*" not in a and fnmatch.fnmatchcase(a.lower(), action.lower()))
    return matches[0] if matches else action.replace("*", "List")


def _context(stack: Stack, principal: str, action: str, statement: dict[str, Any]) -> dict[str, str]:
    """The statement's own condition values, for the keys this principal's call can carry."""
    values = {key: stack.r(_as_list(value)[0]) if _as_list(value) else "" for key, value in condition_keys(statement).items()}
    if principal.startswith("arn:") or principal == "*":
        return {k: v for k, v in values.items() if k.startswith(ROLE_KEYS_PREFIXES)}
    sent: set[str] = set()
    for row in TABLE:
        if row.matches(principal, action):
            sent.update(row.sends)
    return {k: v for k, v in values.items() if k in sent or k.lower() in {s.lower() for s in sent}}


def _broad(stack: Stack, resource: str, statement: dict[str, Any]) -> list[Access]:
    """An Allow with NotAction or NotPrincipal grants all but what it names: listed as written, unevaluated."""
    actions = [f"NotAction {','.join(map(str, _as_list(statement['NotAction'])))}"] if "NotAction" in statement else _as_list(statement.get("Action"))
    if "NotPrincipal" in statement:
        not_principal = statement["NotPrincipal"]
        principals = [f"NotPrincipal {json.dumps(stack.r(not_principal), sort_keys=True)}"]
    else:
        principals = [stack.r(p) for p in _principals(statement)]
    account = resource.split(":")[4] if resource.count(":") >= 4 else ""
    return [Access(resource, principal, stack.r(action), "", account) for principal in principals for action in actions]


def _candidates(stack: Stack) -> tuple[list[Call], list[Access]]:
    """The calls to decide, and the Allow statements too broad to decide (NotAction, NotPrincipal)."""
    calls, broad = list(expected_calls(stack)), []
    statements: list[tuple[str, dict[str, Any]]] = []
    for resource, document in _policies(stack):
        statements += [(resource, s) for s in document.get("Statement", [])]
    for address, body in stack.each("aws_iam_role_policy"):
        role = stack.find("aws_iam_role", name=stack.r(body["role"]))
        if role is None:
            continue
        role_arn = stack.value(role[0], "arn")
        for statement in _document(stack, body["policy"]).get("Statement", []):
            for resource in _as_list(statement.get("Resource")):
                statements.append((stack.r(resource), {**statement, "Principal": {"AWS": role_arn}}))
    for resource, statement in statements:
        if statement.get("Effect") != "Allow" or not isinstance(resource, str):
            continue
        if "NotAction" in statement or "NotPrincipal" in statement:
            broad += _broad(stack, resource, statement)
            continue
        for action in _as_list(statement.get("Action")):
            action = stack.r(action)
            for principal in _principals(statement):
                principal = stack.r(principal)
                context = _context(stack, principal, action, statement)
                identity = (principal,) if stack.find("aws_iam_role", arn=principal) else ()
                calls.append(Call(stack.name, principal, action, resource, "Allowed", "named in a policy", context, identity))
    return calls, broad


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


def _request(stack: Stack, call: Call, known_actions: set[str]) -> dict[str, Any]:
    action = _representative(call.action, known_actions)
    evaluated = replace(call, action=action, caller=f"arn:aws:iam::{THIRD_ACCOUNT}:role/anyone" if call.caller == "*" else call.caller)
    if evaluated.identity:
        identity = stack.identity_policies(evaluated.identity[0])
    elif evaluated.caller.startswith("arn:"):
        identity = [{"name": "its own account", "policy": ALLOW_ALL}]
    else:
        identity = []
    resource_policy = stack.resource_policy(evaluated)
    return {"principal": evaluated.caller, "action": action, "resource": evaluated.resource,
            "resourceAccount": resource_account(stack, call) or "000000000000", "context": evaluated.context,
            "identityPolicies": identity, "resourcePolicy": resource_policy}


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


def snapshot(stacks: list[Stack]) -> Snapshot:
    """Every access the stacks grant, decided by the engine, in one evaluator run."""
    result = Snapshot()
    pending: list[tuple[Call, dict[str, Any]]] = []
    stacks_by_name = {stack.name: stack for stack in stacks}
    for stack in stacks:
        result.efo += stream_efo(stack)
        result.accounts.update(a for a in stack.r.accounts.values())
        calls, broad = _candidates(stack)
        result.access.update(broad)
        known_actions = {c.action for c in calls} | {a for row in TABLE for a in row.actions}
        seen: set[tuple[str, str, str, str]] = set()
        for call in calls:
            if call.resource.split(":")[2:3] == list(LEFT_OUT_SERVICES) or call.action.startswith("logs:"):
                continue
            key = (call.caller, call.action, call.resource, call.context.get("kms:ViaService", ""))
            if key in seen or "<" in call.resource:
                continue
            seen.add(key)
            pending.append((call, _request(stack, call, known_actions)))
    if not pending:
        return result
    for (call, _), answer in zip(pending, evaluate([request for _, request in pending])):
        errors = " ".join(answer.get("errors") or [])
        if "no.resource.types" in errors:
            continue  # the action does not apply to this resource (a bucket action on its objects): IAM ignores the pair
        if errors:
            # Not decided: listed as unknown, never dropped.
            result.unknown.add(Access(call.resource, call.caller, call.action, "", resource_account(stacks_by_name[call.stack], call)))
            continue
        if answer["result"] != "Allowed":
            continue
        via = call.context.get("kms:ViaService", "").split(".")[0]
        entry = Access(call.resource, call.caller, call.action, via, resource_account(stacks_by_name[call.stack], call))
        stand_ins = getattr(stacks_by_name[call.stack].r, "stand_ins", {})  # a plan's only
        named = [s for s in stand_ins if s in f"{call.resource} {call.caller}"]
        if not named:
            result.access.add(entry)
            continue
        # Named by what it stands for: the stand-in is no ARN a reviewer should see.
        for stand_in in sorted(named, key=len, reverse=True):
            entry = replace(entry, resource=entry.resource.replace(stand_in, stand_ins[stand_in]),
                            principal=entry.principal.replace(stand_in, stand_ins[stand_in]))
        result.unknown.add(entry)
    return result


# ---- the review -------------------------------------------------------------------------------

def findings(added: Iterable[Access], accounts: set[str]) -> list[Finding]:
    out = []
    for access in sorted(added):
        principal_account = access.principal.split(":")[4] if access.principal.startswith("arn:") else ""
        own_root = access.principal.endswith(":root") and principal_account == access.account
        if access.principal == "*" or access.principal.startswith("NotPrincipal "):
            out.append(Finding("wildcard principal", access))
        elif access.principal.endswith(":root") and not own_root:
            out.append(Finding("another account's root", access))
        if ("*" in access.action or access.action.startswith("NotAction ")) and not own_root:
            out.append(Finding("wildcard action", access))
        if principal_account and principal_account not in accounts:
            out.append(Finding("principal outside the declared accounts", access))
    return out


@dataclass
class Review:
    added: list[Access]
    removed: list[Access]
    unknown: list[Access]
    findings: list[Finding]
    efo_cost: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        report = {
            "added": [a.as_row() for a in self.added],
            "removed": [a.as_row() for a in self.removed],
            "unknown": [a.as_row() for a in self.unknown],
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

    def markdown(self) -> str:
        lines = ["## Access review", ""]
        if not (self.added or self.removed or self.unknown):
            lines.append("No access change.")
        else:
            lines.append(f"{len(self.added)} added, {len(self.removed)} removed, {len(self.unknown)} unknown until apply.")
        if self.findings:
            lines += ["", f"**{len(self.findings)} finding(s) fail the review:**", ""]
            lines += [f"- {f.text()}" for f in self.findings]
        lines += self._cost_lines()
        # One table per resource (and account: "*", an action without resource-level permissions, is each caller's).
        by_resource: dict[tuple[str, str], list[tuple[str, Access]]] = {}
        for change, entries in (("added", self.added), ("unknown until apply", self.unknown), ("removed", self.removed)):
            for access in entries:
                by_resource.setdefault((access.resource, access.account), []).append((change, access))
        for resource, account in sorted(by_resource, key=lambda r: (min(("added", "unknown until apply", "removed").index(c) for c, _ in by_resource[r]), r)):
            rows = by_resource[(resource, account)]
            lines += ["", f"### `{resource}`" + (f" (account {account})" if account else ""), "",
                      "| change | principal | action | via |", "|---|---|---|---|"]
            lines += [f"| {change} | `{a.principal}` | `{a.action}` | {a.via} |" for change, a in rows]
        return "\n".join(lines) + "\n"


def review(before: Snapshot, after: Snapshot) -> Review:
    added = sorted(after.access - before.access)
    removed = sorted(before.access - after.access - after.unknown)
    unknown = sorted(after.unknown - before.unknown - before.access)
    return Review(added, removed, unknown, findings([*added, *unknown], after.accounts | before.accounts), efo_changes(before.efo, after.efo))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="synthesized stack directory, or terraform show -json of a plan or state")
    parser.add_argument("--after", type=Path, required=True, help="the same kinds of input as --before")
    parser.add_argument("--config", type=Path, default=None, help="the cdk.tf.json of a plan given as --after (default: next to the plan)")
    parser.add_argument("--format", choices=("md", "json"), default="md")
    parser.add_argument("--output", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    try:
        result = review(snapshot(load_side(args.before, args.config)), snapshot(load_side(args.after, args.config)))
    except (ReviewError, NotInTable, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = json.dumps(result.as_json(), indent=2) + "\n" if args.format == "json" else result.markdown()
    sys.stdout.write(text)
    if args.output:
        args.output.write_text(text)
    return 1 if result.findings else 0


if __name__ == "__main__":
    sys.exit(main())
