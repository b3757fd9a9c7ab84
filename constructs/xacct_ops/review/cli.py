"""`make access-review`: who gains and who loses access in a change, before and after, from the policies.

    python -m xacct_ops.access_review --before PATH --after PATH [--format md|json] [--output FILE]
    python -m xacct_ops.access_review --live --stack-dir DIR [--tfvars FILE]

PATH is a synthesized stack directory (`cdktf.out/stacks/<stack>`, or an output directory with several
under `stacks/`), a `terraform show -json` of a plan (its stack's `cdk.tf.json` next to it, or
`--config`), or of a state (a state file itself too). A missing or empty state is "nothing yet".

For every resource the stacks share or protect (streams, EFO consumers, tables and their streams,
keys, topics, secrets, queues, functions, delivery streams, buckets, role trusts) it lists which
principals can perform which actions: the calls the running system makes (as `make policy-check`
builds them, with the request context AWS sends: `iam/request_context.py`) and every principal and action
an Allow statement names (resource, key and trust policies, KMS grants, Lambda permissions, the roles'
own policies), each decided by the same IAM engine with identity and resource policies, cross-account
rules included. A principal outside the configuration is taken to be allowed by its own account.
Log groups are left out (each function writes its own).

The difference is reported as added, removed and unknown until apply (an entry whose resource or
principal is a value Terraform computes: a new key's id, an EFO consumer's ARN). Findings fail the
review (exit status 1), each named (review/findings.py). Any other change exits 0; an input that
cannot be read exits 2, naming it; an internal error 70, asking for a report.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Optional

from xacct_ops.iam import data as iam_data
from xacct_ops.iam.engine import EngineError
from xacct_ops.iam.policy import PolicyError
from xacct_ops.iam.request_context import NotInTable
from xacct_ops.iam.sources import SourceError, load_side, read_json
from xacct_ops.review.access import Snapshot
from xacct_ops.review.decide import snapshot
from xacct_ops.review.diff import Review, review

def _snapshot_of(path: Path, config: Optional[Path]) -> Snapshot:
    """One side, its input's problems named with its path (exit 2)."""
    try:
        return snapshot(load_side(path, config))
    except SourceError:
        raise
    except (PolicyError, NotInTable) as error:
        raise SourceError(f"{path}: {error}") from None


def _live_review(stack_dir: Path, tfvars_path: Path, endpoint: Optional[str]) -> tuple[Review, list[str]]:
    """The live policies of the stack in `stack_dir`, read with the tfvars' deploy roles, against its
    configuration (review/live.py); and a line per policy read or not there."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from xacct_ops import deploy_accounts
    from xacct_ops.review import live as live_policies
    from xacct_streaming.settings.errors import ConfigError

    config = read_json(stack_dir / "cdk.tf.json", "give --stack-dir a synthesized stack directory (make synth)")
    if not isinstance(config, dict) or not isinstance(config.get("resource"), dict):
        raise SourceError(f"{stack_dir / 'cdk.tf.json'}: not a synthesized stack (no resource object)")
    try:
        aliases = deploy_accounts.stack_aliases(config)
        tfvars = deploy_accounts.read_tfvars(tfvars_path, aliases)
        accounts = deploy_accounts.accounts(tfvars, aliases)
    except (ConfigError, OSError, ValueError) as error:
        raise SourceError(f"{tfvars_path}: {error}") from None
    sessions = {}
    for alias, (role, _) in accounts.items():
        try:
            sessions[alias] = deploy_accounts.assumed(boto3.Session(region_name=tfvars["region"]), role, tfvars["region"], endpoint, f"xacct-access-review-{alias}")
        except (ClientError, BotoCoreError) as error:
            raise SourceError(f"{tfvars_path}: cannot assume {role} for account {alias}: {error}") from None
    try:
        side = live_policies.read_live(stack_dir.name, config, {a: account for a, (_, account) in accounts.items()}, tfvars,
                                       live_policies.session_client(sessions, endpoint))
    except live_policies.LiveError as error:
        raise SourceError(f"{stack_dir}: {error}") from None
    lines = [f"read: {line}" for line in side.read] + [f"not there: {line}" for line in side.absent]
    return live_policies.review_live(side), lines


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="synthesized stack directory, or terraform show -json of a plan or state")
    parser.add_argument("--after", type=Path, help="the same kinds of input as --before")
    parser.add_argument("--config", type=Path, default=None, help="the cdk.tf.json of a plan given as --after (default: next to the plan)")
    parser.add_argument("--live", action="store_true", help="the live policies (read with the deploy roles) against --stack-dir's configuration")
    parser.add_argument("--stack-dir", type=Path, default=None, help="with --live: the synthesized stack (cdktf.out/stacks/<stack>)")
    parser.add_argument("--tfvars", type=Path, default=Path("terraform.tfvars"), help="with --live: the accounts and deploy roles")
    parser.add_argument("--endpoint-url", default=None, help=argparse.SUPPRESS)  # tests: a local AWS
    parser.add_argument("--format", choices=("md", "json"), default="md")
    parser.add_argument("--output", type=Path, default=None, help="also write the report here")
    parser.add_argument("--debug", action="store_true", help="an internal error's traceback")
    args = parser.parse_args(argv)
    if args.live and args.stack_dir is None:
        parser.error("--live needs --stack-dir")
    if not args.live and (args.before is None or args.after is None):
        parser.error("--before and --after are required (or --live --stack-dir)")
    read: list[str] = []
    try:
        if args.live:
            result, read = _live_review(args.stack_dir, args.tfvars, args.endpoint_url)
        else:
            result = review(_snapshot_of(args.before, args.config), _snapshot_of(args.after, args.config))
    except (SourceError, iam_data.NoIamData, EngineError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a bug, not the input: never a pass, never mistaken for a finding (1)
        if args.debug:
            traceback.print_exc()
        print(f"error: internal error of the access review, please report it (--debug shows where): {type(error).__name__}: {error}", file=sys.stderr)
        return 70
    if args.format == "json":
        text = json.dumps({**result.as_json(), **({"live_policies": read} if args.live else {})}, indent=2) + "\n"
    else:
        text = result.markdown(title="Access review: live policies against the plan" if args.live else "Access review")
        if args.live:
            text += "\nLive policies (`removed`: what the apply would take away):\n\n" + "\n".join(f"- {line}" for line in read) + "\n"
    sys.stdout.write(text)
    if args.output:
        args.output.write_text(text)
    return 1 if result.findings else 0


if __name__ == "__main__":
    sys.exit(main())
