"""function_code_asset: one TerraformAsset per distinct code archive in a stack.

Functions that run the same code (every consumer of a fan-out on the built-in runtime) share one
archive in the output instead of a copy each. An archive's name is its SHA-256 (lambda_archive.py),
so two functions share an asset exactly when their code is byte-identical; a function whose code
changes gets an archive, an asset and a `source_code_hash` of its own, and nothing else in the plan
changes.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path

from xacct_streaming.framework import AssetType, Fn, TerraformAsset, TerraformStack
from constructs import Construct


@dataclass(frozen=True)
class FunctionCodeAsset:
    """Where a function's archive is in the synthesized stack, and its hash for `source_code_hash`."""

    path: str
    source_code_hash: str


# Per stack, by archive content (its SHA-256 name). Weak: a stack that is gone takes its assets along.
_ASSETS: "weakref.WeakKeyDictionary[TerraformStack, dict[str, FunctionCodeAsset]]" = weakref.WeakKeyDictionary()


def function_code_asset(scope: Construct, archive: Path) -> FunctionCodeAsset:
    """The asset of `archive` in `scope`'s stack, created by the first function that needs it."""
    stack = TerraformStack.of(scope)
    assets = _ASSETS.setdefault(stack, {})
    digest = archive.stem
    if digest not in assets:
        asset = TerraformAsset(stack, f"function-code-{digest[:16]}", path=str(archive), type=AssetType.FILE)
        path = asset.path  # a token; read once, each read is a round trip to the jsii kernel
        assets[digest] = FunctionCodeAsset(path=path, source_code_hash=Fn.filebase64sha256(path))
    return assets[digest]
