"""A review: the difference between two sides' snapshots (added, removed, granted another way, unknown
until apply, identity-only changes), its findings and the enhanced fan-out's cost, as JSON or markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xacct_ops.review import render
from xacct_ops.review.access import Access, Finding, Snapshot
from xacct_ops.review.efo_prices import PRICES, efo_changes
from xacct_ops.review.findings import findings

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

    def markdown(self, title: str = "Access review") -> str:
        return render.markdown(self, title)


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
