#!/usr/bin/env python3
"""`make review-edits`: does the access review see every edit of every policy?

For every policy document of every synthesized stack (resource, key and trust policies, the roles'
own policies, KMS grants, Lambda permissions, an existing stream owner's statements), each Allow
statement is edited the ways a hand edit or a bad change would: an action added, a principal of the
resource's own account, of another declared account, of an undeclared account and `*` added, the
statement dropped, its Resource widened to `*`. Each edited stack is reviewed against the stack as
synthesized; an edit is seen when the review lists an added, removed, changed, unknown or
identity-only entry, or a finding. All edits of all stacks are decided in one engine run.

    python tests/harness/review_edits.py --stacks-dir cdktf.out/stacks [--json-out FILE]

Prints a table per stack (edits, seen, not applicable) and every edit not seen; exit status 1 if any.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "constructs"))

from xacct_ops.iam import data as iam_data  # noqa: E402
from xacct_ops.iam.sources import load_side  # noqa: E402
from xacct_ops.iam.stack import OWNER_STATEMENTS_OUTPUT as OWNER_OUTPUT, Stack  # noqa: E402
from xacct_ops.review.access import Snapshot  # noqa: E402
from xacct_ops.review.decide import snapshots  # noqa: E402
from xacct_ops.review.diff import Review, review  # noqa: E402

# Principals an edit adds: a role of the account named, not in any configuration.
PROBE_ROLE = "edit-probe"
UNDECLARED_ACCOUNT = "999988887777"
# The kinds of edit, in the order they are made.
KINDS = ("add action", "add principal: same account", "add principal: another declared account",
         "add principal: undeclared account", "add principal: *", "drop statement", "widen resource to *")


@dataclass(frozen=True)
class Edit:
    stack: str  # the side's name (a stack, or a split fan-out's plans together)
    where: str  # the document: "<address>.<argument>" and the statement's index or Sid
    kind: str
    detail: str
    config_name: str  # which configuration of the side the edit changes
    config: dict[str, Any]  # that configuration, edited
    identity_in_own_account: bool = False  # a role's own policy on a resource of its own account


@dataclass
class Outcome:
    edit: Edit
    review: Review

    @property
    def seen(self) -> bool:
        return not self.review.empty or bool(self.review.findings)


@dataclass
class Side:
    """One side of the review: its configurations by stack name, as load_side reads them."""

    name: str
    configs: dict[str, dict[str, Any]]
    stacks: list[Stack] = field(default_factory=list)
    # The output manifest's entries of its stacks (a split plan's part: the review looks it up there).
    manifest: dict[str, Any] = field(default_factory=dict)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


# ---- the documents of a configuration ------------------------------------------------------------

# type -> (argument holding the document, how its statements relate to a resource)
DOCUMENTS = {
    "aws_kinesis_resource_policy": ("policy", "resource"),
    "aws_dynamodb_resource_policy": ("policy", "resource"),
    "aws_sns_topic_policy": ("policy", "resource"),
    "aws_sqs_queue_policy": ("policy", "resource"),
    "aws_secretsmanager_secret_policy": ("policy", "resource"),
    "aws_s3_bucket_policy": ("policy", "resource"),
    "aws_kms_key_policy": ("policy", "key"),
    "aws_iam_role": ("assume_role_policy", "trust"),
    "aws_iam_role_policy": ("policy", "identity"),
}


def documents(config: dict[str, Any]) -> Iterator[tuple[str, str, str, Callable[[dict[str, Any]], dict[str, Any]]]]:
    """(where, kind, the document's JSON text, how to put an edited document into a copy of config)."""
    for type_, (argument, kind) in DOCUMENTS.items():
        for name, body in config.get("resource", {}).get(type_, {}).items():
            def put(document: dict[str, Any], type_: str = type_, name: str = name, argument: str = argument) -> dict[str, Any]:
                edited = copy.deepcopy(config)
                edited["resource"][type_][name][argument] = json.dumps(document)
                return edited
            yield f"{type_}.{name}.{argument}", kind, body[argument], put
    owner = config.get("output", {}).get(OWNER_OUTPUT)
    if owner:
        def put_owner(document: dict[str, Any]) -> dict[str, Any]:
            edited = copy.deepcopy(config)
            edited["output"][OWNER_OUTPUT]["value"] = json.dumps(document)
            return edited
        yield f"output.{OWNER_OUTPUT}", "resource", owner["value"], put_owner


# ---- the edits ---------------------------------------------------------------------------------

def _protected(stack: Stack, where: str, kind: str, statement: dict[str, Any]) -> str:
    """The resource a statement's grant is decided on (resolved): what its policy protects, or for a
    role's own policy its first Resource."""
    type_, name = where.split(".")[:2]
    if kind == "identity" or type_ == "output":
        return str(stack.r(_as_list(statement.get("Resource"))[0])) if statement.get("Resource") else "*"
    body = stack.config["resource"][type_][name]
    if type_ == "aws_iam_role":
        return str(stack.value(f"{type_}.{name}", "arn"))
    if type_ == "aws_kms_key_policy":
        return str(stack.key_arn(body["key_id"]))
    return str(stack.protected_by(type_, body))


def _new_action(statement: dict[str, Any], resource: str, granted: set[str]) -> Optional[str]:
    """An action of the statement's service that applies to its resource and that it (and the
    configuration, to the same principals on the same resource) does not grant already."""
    actions = [str(a) for a in _as_list(statement.get("Action"))]
    if not actions:
        return None
    service = actions[0].split(":", 1)[0]
    named = {a.lower() for pattern in actions for a in iam_data.expand(pattern)}
    for action in iam_data.actions(service):
        if action.lower() in named or action.lower() in granted or not iam_data.applies(action, resource):
            continue
        return action
    return None


def _with_principal(statement: dict[str, Any], principal: str) -> Optional[dict[str, Any]]:
    written = statement.get("Principal")
    if written == "*" or written is None:
        return None
    edited = dict(statement)
    principals = dict(written) if isinstance(written, dict) else {}
    principals["AWS"] = [*_as_list(principals.get("AWS")), principal]
    edited["Principal"] = principals
    return edited


def statement_edits(side: Side, stack: Stack, config_name: str) -> Iterator[Edit]:
    config = side.configs[config_name]
    baseline_grants = _grants_by_principal(side)
    accounts = sorted(set(stack.r.accounts.values()))
    for where, kind, text, put in documents(config):
        document = stack.document(text)
        for index, statement in enumerate(document["Statement"]):
            if statement.get("Effect") != "Allow":
                continue
            label = f"{where}[{statement.get('Sid') or index}]"
            resource = _protected(stack, where, kind, statement)
            resource_account = resource.split(":")[4] if resource.count(":") >= 5 and resource.split(":")[4] else ""
            role_account = ""
            if kind == "identity":
                role_account = stack.r.account_of(config["resource"]["aws_iam_role_policy"][where.split(".")[1]])

            def edited(statements: list[dict[str, Any]]) -> dict[str, Any]:
                return put({**document, "Statement": statements})

            def replace_statement(new: dict[str, Any]) -> dict[str, Any]:
                return edited([new if i == index else s for i, s in enumerate(document["Statement"])])

            principals = [str(stack.r(p)) for p in _principals_of(statement, kind, stack, where)]
            granted = {action for p in principals for action in baseline_grants.get((p, resource), set())}
            action = _new_action(statement, resource, granted)
            if action:
                own = kind == "identity" and resource_account == role_account
                yield Edit(side.name, label, "add action", action, config_name,
                           replace_statement({**statement, "Action": [*_as_list(statement.get("Action")), action]}), own)
            if kind != "identity":
                others = [a for a in accounts if a != resource_account]
                probes = {
                    "add principal: same account": f"arn:aws:iam::{resource_account}:role/{PROBE_ROLE}" if resource_account else None,
                    "add principal: another declared account": f"arn:aws:iam::{others[0]}:role/{PROBE_ROLE}" if others else None,
                    "add principal: undeclared account": f"arn:aws:iam::{UNDECLARED_ACCOUNT}:role/{PROBE_ROLE}",
                    "add principal: *": "*",
                }
                for edit_kind, principal in probes.items():
                    new = _with_principal(statement, principal) if principal else None
                    if new is not None:
                        yield Edit(side.name, label, edit_kind, principal, config_name, replace_statement(new))
            yield Edit(side.name, label, "drop statement", "", config_name, edited([s for i, s in enumerate(document["Statement"]) if i != index]))
            if kind in ("identity", "resource") and statement.get("Resource") not in (None, "*"):
                yield Edit(side.name, label, "widen resource to *", "", config_name, replace_statement({**statement, "Resource": "*"}))


def _principals_of(statement: dict[str, Any], kind: str, stack: Stack, where: str) -> list[str]:
    if kind == "identity":
        role = stack.config["resource"]["aws_iam_role_policy"][where.split(".")[1]]["role"]
        found = stack.find("aws_iam_role", name=stack.r(role))
        return [stack.value(found[0], "arn")] if found else []
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        return [p for values in principal.values() for p in _as_list(values)]
    return _as_list(principal)


def permission_edits(side: Side, stack: Stack, config_name: str) -> Iterator[Edit]:
    """A Lambda permission: its principal made `*`, another declared account, an undeclared account; dropped."""
    config = side.configs[config_name]
    function_account = {a for a in stack.r.accounts.values()}
    for name, body in config.get("resource", {}).get("aws_lambda_permission", {}).items():
        label = f"aws_lambda_permission.{name}"
        own = stack.r.account_of(body)
        others = sorted(function_account - {own})
        for kind, principal in (("add principal: *", "*"), ("add principal: another declared account", others[0] if others else None),
                                ("add principal: undeclared account", UNDECLARED_ACCOUNT)):
            if principal is None:
                continue
            edited = copy.deepcopy(config)
            edited["resource"]["aws_lambda_permission"][name]["principal"] = principal
            yield Edit(side.name, label, kind, principal, config_name, edited)
        edited = copy.deepcopy(config)
        del edited["resource"]["aws_lambda_permission"][name]
        yield Edit(side.name, label, "drop statement", "", config_name, edited)


def grant_edits(side: Side, stack: Stack, config_name: str) -> Iterator[Edit]:
    """A KMS grant: an operation added, its grantee in an undeclared account; dropped."""
    config = side.configs[config_name]
    for name, body in config.get("resource", {}).get("aws_kms_grant", {}).items():
        label = f"aws_kms_grant.{name}"
        operations = list(body["operations"])
        extra = next(op for op in ("Encrypt", "GenerateDataKey", "ReEncryptFrom", "Decrypt") if op not in operations)
        for kind, change in (("add action", {"operations": [*operations, extra]}),
                             ("add principal: undeclared account", {"grantee_principal": f"arn:aws:iam::{UNDECLARED_ACCOUNT}:role/{PROBE_ROLE}"})):
            edited = copy.deepcopy(config)
            edited["resource"]["aws_kms_grant"][name].update(change)
            yield Edit(side.name, label, kind, json.dumps(change), config_name, edited)
        edited = copy.deepcopy(config)
        del edited["resource"]["aws_kms_grant"][name]
        yield Edit(side.name, label, "drop statement", "", config_name, edited)


_BASELINES: dict[str, Snapshot] = {}


def _grants_by_principal(side: Side) -> dict[tuple[str, str], set[str]]:
    snap = _BASELINES[side.name]
    found: dict[tuple[str, str], set[str]] = {}
    for access in [*snap.access, *snap.identity_only, *snap.unknown]:
        found.setdefault((access.principal, access.resource), set()).add(access.action.lower())
    return found


def edits_of(side: Side) -> list[Edit]:
    out: list[Edit] = []
    for stack in side.stacks:
        for make in (statement_edits, permission_edits, grant_edits):
            out += make(side, stack, stack.name)
    return out


# ---- running them ------------------------------------------------------------------------------

def load_sides(stacks_dir: Path, names: Optional[list[str]] = None, together: Optional[dict[str, list[str]]] = None) -> list[Side]:
    """Each stack directory a side of its own; `together`: a side's name -> the stacks it is made of
    (a split fan-out's plans)."""
    together = together or {}
    grouped = {n for names_ in together.values() for n in names_}
    manifest_file = stacks_dir.parent / "manifest.json"
    entries = json.loads(manifest_file.read_text()).get("stacks", {}) if manifest_file.is_file() else {}
    sides = []
    for directory in sorted(p for p in stacks_dir.iterdir() if (p / "cdk.tf.json").is_file()):
        if (names and directory.name not in names) or directory.name in grouped:
            continue
        sides.append(Side(directory.name, {directory.name: json.loads((directory / "cdk.tf.json").read_text())},
                          manifest={directory.name: entries.get(directory.name, {})}))
    for name, members in together.items():
        sides.append(Side(name, {m: json.loads((stacks_dir / m / "cdk.tf.json").read_text()) for m in members},
                          manifest={m: entries.get(m, {}) for m in members}))
    return sides


_written = iter(range(10**9))


def _stacks(side: Side, configs: dict[str, dict[str, Any]], scratch: Path) -> list[Stack]:
    """The stacks of a side as the review reads a directory (stand-ins, the handoff's values)."""
    root = scratch / side.name / str(next(_written))
    for name, config in configs.items():
        (root / "stacks" / name).mkdir(parents=True)
        (root / "stacks" / name / "cdk.tf.json").write_text(json.dumps(config))
    (root / "manifest.json").write_text(json.dumps({"stacks": side.manifest}))
    return load_side(root if len(configs) > 1 else root / "stacks" / next(iter(configs)))


def run(sides: list[Side], scratch: Path) -> list[Outcome]:
    for side in sides:
        side.stacks = _stacks(side, side.configs, scratch)
    for side, snap in zip(sides, snapshots([side.stacks for side in sides])):
        _BASELINES[side.name] = snap
    edits = [edit for side in sides for edit in edits_of(side)]
    by_side = {side.name: side for side in sides}
    edited_sides = [_stacks(by_side[e.stack], {**by_side[e.stack].configs, e.config_name: e.config}, scratch) for e in edits]
    results = snapshots(edited_sides)
    return [Outcome(edit, review(_BASELINES[edit.stack], after)) for edit, after in zip(edits, results)]


def summary(outcomes: list[Outcome]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for outcome in outcomes:
        row = table.setdefault(outcome.edit.stack, {"edits": 0, "seen": 0})
        row["edits"] += 1
        row["seen"] += outcome.seen
    return table


def main(argv: Optional[list[str]] = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks-dir", type=Path, required=True)
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        outcomes = run(load_sides(args.stacks_dir), Path(scratch))
    table = summary(outcomes)
    print("| stack | edits | seen by the review |\n|---|---|---|")
    for stack, row in sorted(table.items()):
        print(f"| {stack} | {row['edits']} | {row['seen']} |")
    missed = [o.edit for o in outcomes if not o.seen]
    for edit in missed:
        print(f"NOT SEEN: {edit.stack}: {edit.where}: {edit.kind} {edit.detail}")
    if args.json_out:
        args.json_out.write_text(json.dumps({"stacks": table, "not_seen": [f"{e.stack}: {e.where}: {e.kind} {e.detail}" for e in missed]}, indent=2))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
