"""A call to decide, and a policy document as IAM reads it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Sid": "RootUser", "Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True)
class Call:
    stack: str
    caller: str
    action: str
    resource: str
    expected: str  # "Allowed" or "Denied"
    what: str
    context: dict[str, str] = field(default_factory=dict)
    identity: tuple[str, ...] = ()  # whose identity policies apply (a role ARN); empty for a service or root
    # The context keys the policies are meant to check for this call (the variants change only these:
    # a role using its own account's key for anything is allowed by design, a grant to a service or
    # to another account must hold only for what the service sends).
    scoped: tuple[str, ...] = ()
    # The resource is one made-up instance of many the system writes (a log stream, an object): the
    # access review lists the grant as its policy writes it instead.
    example: bool = False

    @property
    def account(self) -> str:
        arn = self.resource.split(":")
        return arn[4] if len(arn) > 4 and arn[4] else ""


class PolicyError(ValueError):
    """A policy document that is not one (not JSON, no statement list): named, never guessed at."""


def policy_document(text: Any) -> dict[str, Any]:
    """A policy document as IAM reads it: JSON text or an object; `Statement` one statement or a list."""
    try:
        document = json.loads(text) if isinstance(text, str) else text
    except ValueError as error:
        raise PolicyError(f"a policy is not JSON ({error}): {str(text)[:120]}") from None
    if not isinstance(document, dict):
        raise PolicyError(f"a policy is not a JSON object: {str(text)[:120]}")
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise PolicyError(f"a policy's Statement is not a list of statements: {str(text)[:120]}")
    return {**document, "Statement": statements}
