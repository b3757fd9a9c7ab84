"""What synthesis recorded about each stack in the output's manifest.json: its kind, and what the
tools run on it (catalog.StackKind.manifest_entry): the smoke flow, the rehearsal scenario, the
resource types whose calls make policy-check must find, and a split fan-out plan's account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional


class NoKindError(ValueError):
    """A stack the manifest records no kind for (a stack of one's own, or an output from before kinds were recorded)."""


def entry(stack_dir: Path) -> Optional[dict[str, Any]]:
    """The manifest's entry of the stack in `stack_dir` (`<outdir>/stacks/<stack>`), or None when the
    directory is in no synthesized output."""
    manifest = stack_dir.resolve().parent.parent / "manifest.json"
    if stack_dir.resolve().parent.name != "stacks" or not manifest.is_file():
        return None
    return json.loads(manifest.read_text()).get("stacks", {}).get(stack_dir.resolve().name)


def kind_entry(stack_dir: Path) -> dict[str, Any]:
    """The entry, with its kind, or NoKindError saying what is missing."""
    found = entry(stack_dir)
    if found is None:
        raise NoKindError(f"{stack_dir}: not a stack directory of a synthesized output (<outdir>/stacks/<stack>, next to <outdir>/manifest.json)")
    if not found.get("kind"):
        raise NoKindError(f"{stack_dir}: the manifest records no stack kind for it (a stack of one's own, or an output synthesized "
                          "before kinds were recorded: synthesize it again)")
    return found
