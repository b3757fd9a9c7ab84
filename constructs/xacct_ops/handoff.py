"""Passes values between the plans of a split fan-out, in the order a single plan gets from depends_on.

    python -m xacct_ops.handoff readers --to <producer plan dir> <account plan dir>...
    python -m xacct_ops.handoff share --from <producer plan dir> <account plan dir>...

`readers` (after every account plan's first apply): merges their `reader_role_arns` outputs into
the producer plan's input. `share` (after the producer plan's apply): gives each account plan its
entry of the producer's `stream_shares` output as `stream_share`. Each writes
`split-handoff.auto.tfvars.json` in the receiving plan's directory, which Terraform loads by itself
and a new synth keeps. Outputs are read with `terraform output -json` in each directory (its
backend, the environment's Terraform settings). Exit status 2 for unusable input, 1 when Terraform fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

HANDOFF_FILE = "split-handoff.auto.tfvars.json"


class HandoffError(Exception):
    """Unusable input: the message says which directory and what to do."""


class TerraformOutputFailed(HandoffError):
    """`terraform output` itself failed (not initialized, no state, backend unreachable)."""


def terraform_output(stack_dir: Path, name: str) -> Any:
    result = subprocess.run(
        ["terraform", f"-chdir={stack_dir}", "output", "-json", name], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise TerraformOutputFailed(f"{stack_dir}: terraform output {name} failed (is the plan initialized and applied?): {result.stderr.strip()[-400:]}")
    return json.loads(result.stdout)


def _variables(stack_dir: Path) -> dict[str, Any]:
    config_file = stack_dir / "cdk.tf.json"
    if not config_file.is_file():
        raise HandoffError(f"{stack_dir}: no cdk.tf.json (a synthesized stack directory, e.g. cdktf.out/stacks/<stack>)")
    config = json.loads(config_file.read_text())
    return {"variables": config.get("variable", {}), "aliases": [p["alias"] for p in config.get("provider", {}).get("aws", [])]}


def _require_plan(stack_dir: Path, variable: str, what: str) -> list[str]:
    described = _variables(stack_dir)
    if variable not in described["variables"]:
        raise HandoffError(f"{stack_dir}: not {what} of a split fan-out (it has no {variable} variable)")
    return described["aliases"]


def readers(producer_dir: Path, account_dirs: Sequence[Path], output: Callable[[Path, str], Any] = terraform_output) -> dict[str, str]:
    """The producer plan's reader_role_arns, from every account plan's output; written to its handoff file."""
    _require_plan(producer_dir, "reader_role_arns", "the producer plan")
    merged: dict[str, str] = {}
    owner: dict[str, Path] = {}
    for account_dir in account_dirs:
        _require_plan(account_dir, "stream_share", "an account plan")
        roles = output(account_dir, "reader_role_arns")
        if not isinstance(roles, dict) or not roles:
            raise HandoffError(f"{account_dir}: its reader_role_arns output is empty; apply that plan first")
        for name, arn in roles.items():
            if name in merged:
                raise HandoffError(f"consumer {name!r} is in two account plans: {owner[name]} and {account_dir}")
            merged[name], owner[name] = arn, account_dir
    _write(producer_dir, {"reader_role_arns": merged})
    return merged


def share(producer_dir: Path, account_dirs: Sequence[Path], output: Callable[[Path, str], Any] = terraform_output) -> dict[str, Any]:
    """Each account plan's stream_share, from the producer plan's stream_shares output."""
    _require_plan(producer_dir, "reader_role_arns", "the producer plan")
    shares = output(producer_dir, "stream_shares")
    if not isinstance(shares, dict) or not shares:
        raise HandoffError(f"{producer_dir}: its stream_shares output is empty; apply the producer plan first")
    written: dict[str, tuple[Path, Any]] = {}
    for account_dir in account_dirs:
        (account,) = _require_plan(account_dir, "stream_share", "an account plan")
        if account not in shares:
            raise HandoffError(f"{account_dir}: the producer plan shares nothing with account {account!r} (it shares with {', '.join(sorted(shares))}); synthesize and apply both from the same settings")
        written[account] = (account_dir, shares[account])
    # Every directory checked first: a refusal writes nothing.
    for account_dir, value in written.values():
        _write(account_dir, {"stream_share": value})
    return {account: value for account, (_, value) in written.items()}


def _write(stack_dir: Path, values: dict[str, Any]) -> None:
    (stack_dir / HANDOFF_FILE).write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    to_producer = steps.add_parser("readers", help="account plans' reader_role_arns -> the producer plan (after the account plans' first apply)")
    to_producer.add_argument("--to", type=Path, required=True, dest="producer", help="the producer plan's directory")
    to_producer.add_argument("accounts", type=Path, nargs="+", help="every account plan's directory")
    to_accounts = steps.add_parser("share", help="the producer plan's stream_shares -> each account plan (after the producer plan's apply)")
    to_accounts.add_argument("--from", type=Path, required=True, dest="producer", help="the producer plan's directory")
    to_accounts.add_argument("accounts", type=Path, nargs="+", help="the account plans' directories")
    args = parser.parse_args(argv)
    try:
        if args.step == "readers":
            roles = readers(args.producer, args.accounts)
            print(f"{args.producer / HANDOFF_FILE}: reader_role_arns for {', '.join(sorted(roles))}")
        else:
            for account in share(args.producer, args.accounts):
                print(f"stream_share for account {account}")
    except HandoffError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1 if isinstance(err, TerraformOutputFailed) else 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
