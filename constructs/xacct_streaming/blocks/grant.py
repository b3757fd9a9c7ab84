"""Grant: what one grant wrote, and what anything using it must wait for.

Like the AWS CDK's `Grant` (aws-iam/lib/grant.ts) and its `policyDependable`: a grant may update the
grantee's identity policy, the resource's policy, a key policy or a key grant, depending on the
accounts; whoever relies on it (an event source mapping, above all) depends on exactly what it wrote.
Terraform cannot see that ordering through references (a mapping names a function and a source, not
the policies that let the function's role read the source), so a mapping's `depends_on` is collected
from the grants it is given, never listed by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Grant:
    """`grantee` may perform `actions` on `resources` once every resource in `dependables` exists."""

    grantee: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    dependables: tuple[Any, ...]

    @staticmethod
    def of(grantee: str, actions: Iterable[str], resources: Iterable[str], dependables: Iterable[Any]) -> "Grant":
        return Grant(grantee, tuple(actions), tuple(resources), tuple(d for d in dependables if d is not None))


def dependables(grants: Iterable[Grant]) -> list[Any]:
    """Every dependable of `grants`, in order, each once."""
    seen: list[Any] = []
    for grant in grants:
        for dependable in grant.dependables:
            if not any(dependable is s for s in seen):
                seen.append(dependable)
    return seen
