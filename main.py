#!/usr/bin/env python3
"""CDKTF app: cross-account streaming stacks, each with a producer and a consumer account in one plan.

    python main.py                       # every kind's default stack: cdktf.out/stacks/<stack>/cdk.tf.json
    python main.py --stack xacct-dynamodb-streams   # just that stack (repeatable); the others' directories stay
    python main.py --config a.toml --config b.toml  # just the stacks the settings files name (docs/operations.md,
                                                    # "Settings files"); the others' directories stay
    python main.py --hcl                 # HCL (cdk.tf) instead of JSON: the way out of CDKTF
    python main.py --teardown            # also teardown_override.tf.json: protection off, so a destroy removes all
    python main.py --list                # the stacks and the source document each one covers

Run with any Python 3.11: without the pinned packages it continues in the project's `.venv`, or
says to run `make venv`. The cdktf CLI runs it (cdktf.json) with `CDKTF_OUTDIR` and, for
`cdktf synth --hcl`, `SYNTH_HCL_OUTPUT`, both honoured.

Exit status 2 and one line on stderr for what a user can fix (a setting, the function code given, a
construct used wrongly in the code building a stack); 70 and a line asking for a report for anything
else, a bug of this package (`--debug` prints its traceback). Either way the previous output is left
untouched.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent


# `constructs/` is a source root (no __init__.py), not a package: `import constructs` must keep
# resolving to the constructs library that cdktf is built on.
sys.path.insert(0, str(ROOT / "constructs"))

from xacct_streaming.framework import FrameworkError, line  # noqa: E402  (no framework loaded)

# Each framework line's environment (xacct_streaming.framework): make venv, make check-cdktn.
VENVS = {"cdktf": (".venv", "make venv", "requirements.txt"), "cdktn": (".venv-cdktn", "make .venv-cdktn/.installed", "requirements-cdktn.txt")}


def _require_packages() -> None:
    """A fresh clone's `python3 main.py` (the cdktf CLI's app command): continue in the project's
    venv of the framework line (XACCT_FRAMEWORK) if this interpreter lacks its pinned packages, or
    say how to make it."""
    try:
        chosen = line()
    except FrameworkError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    if importlib.util.find_spec(chosen.core) is not None:
        return
    venv, target, requirements = VENVS[chosen.name]
    venv_python = ROOT / venv / "bin" / "python"
    if venv_python.is_file() and Path(sys.executable).absolute() != venv_python:
        os.execv(str(venv_python), [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]])
    sys.exit(f"error: the pinned packages ({chosen.core}, the AWS provider bindings) are not installed for {sys.executable}: "
             f"run `{target}` in {ROOT} (creates {venv} from {requirements})")


_require_packages()

from xacct_streaming.settings.catalog import KINDS, kind_of, select  # noqa: E402
from xacct_streaming.settings.config import load_stacks  # noqa: E402
from xacct_streaming.settings.errors import ConfigError, ConstructError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="FILE",
        help="TOML settings file: one stack, or several as [[stack]] tables (repeatable; several of one kind allowed); "
        "only the stacks the files name are synthesized, other stacks' directories stay "
        "(default: $XACCT_CONFIG, several separated by ':', else every kind's default stack)",
    )
    parser.add_argument(
        "--outdir",
        default=os.environ.get("CDKTF_OUTDIR") or "cdktf.out",
        help="output directory (default: $CDKTF_OUTDIR as set by the cdktf CLI, else cdktf.out)",
    )
    parser.add_argument(
        "--hcl",
        action="store_true",
        default=os.environ.get("SYNTH_HCL_OUTPUT", "").lower() in ("true", "1"),
        help="write HCL (cdk.tf) instead of JSON (default: $SYNTH_HCL_OUTPUT, as `cdktf synth --hcl` sets it)",
    )
    parser.add_argument(
        "--teardown",
        action="store_true",
        help="also write teardown_override.tf.json per stack: table deletion protection off, buckets force_destroy; "
        "deploy that, then destroy",
    )
    parser.add_argument(
        "--stack",
        action="append",
        default=[],
        metavar="NAME",
        help="synthesize only this stack (repeatable; default: every stack)",
    )
    parser.add_argument("--list", action="store_true", help="list the stacks and exit")
    parser.add_argument("--debug", action="store_true", help="an internal error's traceback")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except Exception as error:  # a bug, not the input: never mistaken for a setting (2)
        if args.debug:
            traceback.print_exc()
        print(f"error: internal error, please report it (--debug shows where): {type(error).__name__}: {error}", file=sys.stderr)
        return INTERNAL_ERROR


# sysexits.h EX_SOFTWARE: an internal software error.
INTERNAL_ERROR = 70


def _run(args: argparse.Namespace) -> int:
    config_files = args.config or [f for f in os.environ.get("XACCT_CONFIG", "").split(os.pathsep) if f]
    names = [name for value in args.stack for name in value.split() if name]
    try:
        stacks = select([props for path in config_files for props in load_stacks(path)], names)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for props in stacks:
        for warning in getattr(props, "warnings", []):
            print(f"warning: {warning}", file=sys.stderr)
    if args.list:
        for props in stacks:
            kind = kind_of(props)
            print(f"{props.stack_name:<28s} source document {kind.source_document}  {kind.summary}")
        listed = {kind_of(props).name for props in stacks}
        others = [k.name for k in KINDS.values() if k.name not in listed and not k.by_default]
        if others and not config_files:
            print(f"(only from a settings file that names its kind: {', '.join(others)})")
        return 0

    if args.teardown and args.hcl:
        print("error: --teardown writes a JSON override next to cdk.tf.json: synthesize JSON (without --hcl) to tear down", file=sys.stderr)
        return 2

    from xacct_streaming.synthesis.lambda_archive import ArchiveError
    from xacct_streaming.synthesis.node_runtime import use_supported_node
    from xacct_streaming.synthesis.synth import synthesize

    use_supported_node(ROOT)
    try:
        written = synthesize(stacks, outdir=Path(args.outdir), hcl=args.hcl, keep_other_stacks=bool(names or config_files), teardown=args.teardown)
    except (ConfigError, ConstructError, ArchiveError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for stack_dir in written:
        print(f"synthesized {os.path.relpath(stack_dir)}")
    written_names = {stack_dir.name for stack_dir in written}
    kept = sorted(p for p in (Path(args.outdir) / "stacks").iterdir() if p.is_dir() and p.name not in written_names)
    if kept and (names or config_files):
        # They are still validated, scanned and listed in the manifest: say so, once per run. On stdout:
        # the cdktf CLI shows whatever its app writes to stderr as an [ERROR].
        print(f"note: kept from earlier runs, not rewritten: {', '.join(p.name for p in kept)} "
              f"(`python main.py` with neither --config nor --stack replaces the whole output)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
