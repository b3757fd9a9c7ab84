"""The findings that fail a review: access added for another account's root, for a wildcard principal,
action or resource, for a principal outside the declared accounts, or that the review cannot decide.
A key policy's statement for the key's own account root (the KMS default that lets IAM policies of that
account apply) is not a finding."""

from __future__ import annotations

import re
from typing import Iterable

from xacct_ops.iam import data as iam_data
from xacct_ops.review.access import NOT_DECIDED, Access, Finding

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
