"""A review as markdown: the counts, the findings, the enhanced fan-out's cost, and one table per
resource (and account) of what changed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xacct_ops.review.access import Access
from xacct_ops.review.efo_prices import HOURS_PER_MONTH, PRICES

if TYPE_CHECKING:
    from xacct_ops.review.diff import Review

# The order of the changes, in a table and among tables.
CHANGES = ("added", "changed", "identity only, added", "unknown", "removed", "identity only, removed")


def cost_lines(review: Review) -> list[str]:
    if not review.efo_cost:
        return []
    lines = ["", "### Enhanced fan-out, a month", "",
             "| stream | mode | EFO consumers | consumer-shard hours | GB retrieved | USD |", "|---|---|---|---|---|---|"]
    for row in review.efo_cost:
        gb = f"{row['retrieval_gb_per_month']:+g}" if row["retrieval_gb_per_month"] else "not priced (no `[stream] monthly_data_gb`)"
        lines.append(f"| `{row['stream']}` | {row['mode']}{' x ' + str(row['shards']) + ' shards' if row['shards'] else ''} | "
                     f"{row['efo_consumers_before']} -> {row['efo_consumers_after']} | {row['consumer_shard_hours_per_month']:+,} | {gb} | "
                     f"{row['usd_per_month']:+,.2f} |")
    lines += ["", f"Prices of {PRICES['region']} (checked {PRICES['checked']}; other regions differ): "
                  f"{PRICES['PROVISIONED']['consumer_shard_hour']} USD per consumer-shard hour and {PRICES['PROVISIONED']['retrieval_gb']} "
                  f"per GB on a provisioned stream, {PRICES['ON_DEMAND']['retrieval_gb']} per GB on demand; {HOURS_PER_MONTH} hours a month."]
    return lines


def markdown(review: Review, title: str = "Access review") -> str:
    lines = [f"## {title}", ""]
    if review.empty:
        lines.append("No access change.")
    else:
        counts = [f"{len(review.added)} added", f"{len(review.removed)} removed", f"{len(review.unknown)} unknown"]
        counts += [f"{len(review.changed)} granted another way"] if review.changed else []
        counts += [f"{len(review.identity_only_added) + len(review.identity_only_removed)} identity-only changes"] if (
            review.identity_only_added or review.identity_only_removed) else []
        lines.append(", ".join(counts) + ".")
    if review.findings:
        lines += ["", f"**{len(review.findings)} finding(s) fail the review:**", ""]
        lines += [f"- {f.text()}" for f in review.findings]
    lines += cost_lines(review)
    # One table per resource (and account: "*", an action without resource-level permissions, is each caller's).
    rows: list[tuple[str, Access, str]] = [("changed", after, f"{before.granted_by} -> {after.granted_by}") for before, after in review.changed]
    for change, entries in (("added", review.added), ("identity only, added", review.identity_only_added), ("unknown", review.unknown),
                            ("removed", review.removed), ("identity only, removed", review.identity_only_removed)):
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
