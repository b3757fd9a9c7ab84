"""Small checks used by the props dataclasses; each raises ConfigError naming the field."""

from __future__ import annotations

import re
from typing import Any, Collection, Mapping, Sequence

from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.patterns import PROVIDER_REGIONS, PROVIDER_VERSION


def require_int(field: str, value: Any, low: int, high: int) -> None:
    # bool is an int subclass; `batch_size = true` in a config file is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(field, value, f"an integer from {low} to {high}")
    if not low <= value <= high:
        raise ConfigError(field, value, f"an integer from {low} to {high}")


def require_number(field: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ConfigError(field, value, f"a number from {low:,} to {high:,}")


def require_int_or_minus_one(field: str, value: Any, low: int, high: int, minus_one_means: str) -> None:
    """An integer from `low` to `high`, or -1, which AWS and Terraform give a meaning of its own."""
    if type(value) is int and value == -1:
        return
    try:
        require_int(field, value, low, high)
    except ConfigError as error:
        raise ConfigError(field, value, f"-1 ({minus_one_means}) or {error.allowed}") from None


def require_region(field: str, value: Any, region: Any = None, partition: str | None = None) -> None:
    """`region` (default: `value` itself, else the region inside `value`, an ARN or URI) is one the pinned
    provider accepts, in `partition` when the value names one: the plan would stop at "invalid AWS Region"."""
    region = value if region is None else region
    known = PROVIDER_REGIONS.get(partition, ()) if partition else tuple(r for rs in PROVIDER_REGIONS.values() for r in rs)
    if isinstance(region, str) and region in known:
        return
    where = f"of partition {partition!r} " if partition else ""
    other = next((p for p, rs in PROVIDER_REGIONS.items() if region in rs), None)
    why = f" ({region!r} is in partition {other!r})" if other else ""
    raise ConfigError(field, value, f"a region {where}that the pinned AWS provider (hashicorp/aws {PROVIDER_VERSION}) knows{why}: "
                                    + ", ".join(known))


def require_one_of(field: str, value: Any, allowed: Collection[Any]) -> None:
    if value not in allowed:
        raise ConfigError(field, value, "one of " + ", ".join(repr(a) for a in allowed))


def require_match(field: str, value: Any, pattern: str, description: str) -> None:
    if not isinstance(value, str) or re.fullmatch(pattern, value) is None:
        raise ConfigError(field, value, description)


def require_bool(field: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(field, value, "true or false")


def require_tags(field: str, value: Any) -> None:
    """AWS tag rules, as the `tags` variable checks them: at most 40 tags, keys 1-128 characters not
    starting with 'aws:', values up to 256, all strings."""
    allowed = "a table of at most 40 string tags, keys 1-128 characters not starting with 'aws:', values up to 256"
    if not isinstance(value, Mapping) or len(value) > 40:
        raise ConfigError(field, value, allowed)
    for key, tag in value.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise ConfigError(f"{field}.{key}", tag, allowed)
        if not isinstance(tag, str) or len(tag) > 256:
            raise ConfigError(f"{field}.{key}", tag, allowed)


def require_list(field: str, value: Any, pattern: str, description: str, most: int) -> tuple[str, ...]:
    """A list of distinct strings matching `pattern`, returned as a tuple."""
    if not isinstance(value, (list, tuple)) or len(value) > most or len(set(value)) != len(value):
        raise ConfigError(field, value, description)
    for item in value:
        require_match(field, item, pattern, description)
    return tuple(value)


# Lambda sets these itself and refuses a function that sets them (Lambda docs, "Reserved
# environment variables"); AWS_* names are reserved as a whole.
RESERVED_ENVIRONMENT = ("_HANDLER", "_X_AMZN_TRACE_ID", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ")


def require_environment(field: str, value: Any, taken: Sequence[str] = ()) -> None:
    """Environment variables: names of letters, digits and _ starting with a letter, none that
    Lambda reserves, string values."""
    if not isinstance(value, Mapping):
        raise ConfigError(field, value, "a table of NAME = \"value\" strings")
    for name, text in value.items():
        if not isinstance(name, str) or re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_]{0,127}", name) is None:
            raise ConfigError(f"{field}.{name}", text, "a variable name of letters, digits and _ starting with a letter")
        if name.startswith("AWS_") or name in RESERVED_ENVIRONMENT or name in taken:
            reason = "a name the stack sets itself" if name in taken else "a name Lambda does not reserve (not AWS_*, _HANDLER, LAMBDA_TASK_ROOT, ...)"
            raise ConfigError(f"{field}.{name}", text, reason)
        if not isinstance(text, str):
            raise ConfigError(f"{field}.{name}", text, "a string value")
