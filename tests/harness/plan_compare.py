"""The HCL export means what the JSON means: two plans of one stack, the JSON and the HCL configuration
planned against the same moto server before anything is applied, compared.

`compare` takes `terraform show -json` of the two plans and names every difference in their resource
changes (address, provider, actions, planned values, which values are unknown or sensitive) and output
changes. A value moto makes up at plan time (a data source's random password) is masked in both first.
Each stack's rehearsal runs it right after its first plan (`rehearse.py --hcl-twin`), so the JSON plan
is the one the rehearsal applies and no Terraform command is run twice for it.
"""

from __future__ import annotations

import json
from typing import Any

# Data sources whose values moto generates anew on every read.
GENERATED = {"aws_secretsmanager_random_password": "random_password"}


def _go_json_string(value: str) -> str:
    """`value` inside a JSON string as Terraform's jsonencode writes it (Go escapes <, > and &)."""
    return json.dumps(value, ensure_ascii=False)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _replaced(value: Any, generated: dict[str, str]) -> Any:
    if isinstance(value, str):
        for secret, mask in generated.items():
            value = value.replace(secret, mask).replace(_go_json_string(secret), mask)
        return value
    if isinstance(value, dict):
        return {key: _replaced(item, generated) for key, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item, generated) for item in value]
    return value


def _masked(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan's resource and output changes, with values generated at plan time replaced."""
    generated = {}
    for resource in plan.get("prior_state", {}).get("values", {}).get("root_module", {}).get("resources", []):
        attribute = GENERATED.get(resource["type"])
        if attribute and resource.get("values", {}).get(attribute):
            generated[resource["values"][attribute]] = f"<{resource['address']}.{attribute}>"
    changes = {"resource_changes": plan.get("resource_changes", []), "output_changes": plan.get("output_changes", {})}
    return _replaced(changes, generated)


def compare(json_plan: dict[str, Any], hcl_plan: dict[str, Any]) -> list[str]:
    """What differs between the two plans' changes, one line each (empty: they mean the same)."""
    ours, theirs = _masked(json_plan), _masked(hcl_plan)
    by_address = lambda plan: {change["address"]: change for change in plan["resource_changes"]}  # noqa: E731
    left, right = by_address(ours), by_address(theirs)
    differences = [f"only in the JSON plan: {a}" for a in sorted(left.keys() - right.keys())]
    differences += [f"only in the HCL plan: {a}" for a in sorted(right.keys() - left.keys())]
    for address in sorted(left.keys() & right.keys()):
        for key in sorted(set(left[address]) | set(right[address])):
            if key == "change":
                for part in sorted(set(left[address]["change"]) | set(right[address]["change"])):
                    if left[address]["change"].get(part) != right[address]["change"].get(part):
                        differences.append(f"{address}: change.{part} differs")
            elif left[address].get(key) != right[address].get(key):
                differences.append(f"{address}: {key} differs")
    for name in sorted(set(ours["output_changes"]) | set(theirs["output_changes"])):
        if ours["output_changes"].get(name) != theirs["output_changes"].get(name):
            differences.append(f"output {name} differs")
    return differences
