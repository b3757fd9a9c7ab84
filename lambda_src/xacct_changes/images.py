"""DynamoDB-typed attribute values to plain JSON, without losing a digit.

Seed 001 flattened only S, N and B values and kept the type letters of everything else. Here
every type is flattened: `{"S": "x"}` -> "x", `{"N": "1.50"}` -> 1.50 (the number's text is
written as is: DynamoDB keeps 38 digits, a float would keep 17), `{"B": ...}` -> the base64 text,
BOOL, NULL, maps and lists recursively, and the sets SS/NS/BS as sorted lists.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping


class ImageError(ValueError):
    """An attribute value that is not DynamoDB's JSON form."""


class Number(str):
    """A DynamoDB number kept as its exact text; written to JSON as a number, not a string."""

    __slots__ = ()


def _number(text: Any) -> Number:
    if not isinstance(text, str):
        raise ImageError(f"number {text!r} is not a string")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ImageError(f"number {text!r} is not a decimal") from None
    if not value.is_finite():
        raise ImageError(f"number {text!r} is not finite")
    return Number(text.strip())


def _sorted_numbers(values: list[Any]) -> list[Number]:
    numbers = [_number(v) for v in values]
    return sorted(numbers, key=Decimal)


def flatten_value(typed: Any) -> Any:
    if not isinstance(typed, Mapping) or len(typed) != 1:
        raise ImageError(f"attribute value {typed!r} is not a one-key map such as {{'S': 'x'}}")
    (kind, value), = typed.items()
    if kind in ("S", "B"):
        if not isinstance(value, str):
            raise ImageError(f"{kind} value {value!r} is not a string")
        return value
    if kind == "N":
        return _number(value)
    if kind == "BOOL":
        if not isinstance(value, bool):
            raise ImageError(f"BOOL value {value!r} is not a boolean")
        return value
    if kind == "NULL":
        return None
    if kind == "M":
        return flatten(value)
    if kind == "L":
        if not isinstance(value, list):
            raise ImageError(f"L value {value!r} is not a list")
        return [flatten_value(v) for v in value]
    if kind in ("SS", "BS"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ImageError(f"{kind} value {value!r} is not a list of strings")
        return sorted(value)
    if kind == "NS":
        if not isinstance(value, list):
            raise ImageError(f"NS value {value!r} is not a list")
        return _sorted_numbers(value)
    raise ImageError(f"unknown attribute type {kind!r}")


def flatten(image: Any) -> dict[str, Any]:
    """A DynamoDB image (attribute name -> typed value) as a plain dict."""
    if not isinstance(image, Mapping):
        raise ImageError(f"image {image!r} is not a map")
    return {name: flatten_value(value) for name, value in image.items()}


def to_json(value: Any) -> str:
    """Compact JSON with keys in order; Number text is written as a JSON number."""
    if isinstance(value, Number):
        return str.__str__(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(json.dumps(k) + ":" + to_json(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)
