"""What the access review lists: an access (who may do what on which resource, granted by which
side), one side's snapshot of them, and a finding that fails the review."""

from __future__ import annotations

from dataclasses import dataclass, field

from xacct_ops.review.efo_prices import StreamEfo

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
