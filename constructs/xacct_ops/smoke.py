"""`make smoke`: after a deploy, one change end to end through the stack, with its latency.

The flow is the stack's kind's (catalog.StackKind.smoke_flow, recorded in the output's manifest.json
next to the stack directory holding the outputs, or `--kind`):
- api_to_table (xacct-api-ingest): POSTs a uniquely tagged event to the API with the basic-auth
  secret's credentials (read with the consumer deploy role) and polls the sink table for the item the
  consumer writes under the shard and sequence number the API answered with;
- stream_to_replica_to_bucket (xacct-kinesis-replication): puts a record into the stream, polls the
  replica table for the writer's item, then the delivery bucket for the flattened change (Firehose
  buffers: the default wait adds the delivery stream's buffering interval);
- ses_to_stream (xacct-ses-notifications): sends one email through the configuration set, from SENDER
  (default: the SES account's verified identity) to SES's mailbox simulator, and reads the shard the
  email's message id keys, from just before the send, for its event;
- stream_to_every_sink (xacct-kinesis-fanout): puts a record and polls each consumer's table in its own
  account (found by the account of the consumer's role); in split mode with the outputs of the producer
  plan and of each account plan together;
- table_to_change_log (xacct-dynamodb-streams): writes a uniquely keyed item into the shared table and
  polls the consumer's change log for that item's change;
- stream_to_table (xacct-kinesis-efo): puts a record and polls the sink table for the item under the
  keys the consumer derives from the shard and sequence number Kinesis returns.
Polling is bounded, with a progress line; then the latency of each stop and of the whole is
printed, and the state of every alarm of the stack (the `alarm_names` output, read in each account).
Exit status 1 when something did not arrive in time or AWS refused a call (its message printed), 2
for unusable input (outputs the flow needs missing, no kind); an alarm's state is printed, not judged.
`--dry-run` names the flow and its path and calls nothing.

    python -m xacct_ops.smoke --tfvars terraform.tfvars --outputs cdktf.out/stacks/S/outputs.json [--outputs ...] [--kind K]
        [--timeout S] [--sender A] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional

from botocore.exceptions import BotoCoreError, ClientError

from xacct_ops import manifest
from xacct_ops.deploy_accounts import read_tfvars
from xacct_streaming.settings.errors import ConfigError

from xacct_ops.smoke_flows import FLOWS, FlowSpec
from xacct_ops.smoke_session import DEFAULT_TIMEOUT, Smoke, SmokeError


def flow_of_kind(paths: list[Path], kind: Optional[str]) -> tuple[str, FlowSpec]:
    """(the kind, its flow): `kind` given (a name in catalog.KINDS), else the one the manifest records
    for the stacks whose outputs these are (every one of the same kind)."""
    from xacct_streaming.settings.catalog import KINDS

    if kind is not None:
        if kind not in KINDS:
            raise ConfigError("--kind", kind, "one of " + ", ".join(KINDS))
        name = KINDS[kind].smoke_flow
    else:
        found = set()
        for path in paths:
            try:
                found.add((entry := manifest.kind_entry(path.parent))["kind"])
            except manifest.NoKindError as error:
                raise ConfigError("--outputs", str(path), f"outputs.json in a stack directory whose kind the manifest records, or --kind ({error})") from None
            name = entry["smoke_flow"]
        if len(found) != 1:
            raise ConfigError("--outputs", ", ".join(map(str, paths)), f"the outputs of stacks of one kind, not of {', '.join(sorted(found))}")
        (kind,) = found
    if name not in FLOWS:
        raise ConfigError("smoke_flow", name or "(none)", f"the smoke flow of stack kind {kind!r}: one of " + ", ".join(FLOWS))
    return kind, FLOWS[name]


def check_outputs(flow: FlowSpec, outputs: dict[str, Any], source: str) -> None:
    missing = [name for name in flow.needs if name not in outputs]
    if missing:
        raise ConfigError(source, ", ".join(sorted(outputs)) or "no outputs", f"the outputs the flow reads ({', '.join(flow.needs)}); missing: {', '.join(missing)}")


def account_id_of(tfvars: dict[str, Any], side: str) -> Optional[str]:
    """The id of a stack account named in outputs (producer, consumer, a fan-out account)."""
    if tfvars.get(f"{side}_account_id"):
        return str(tfvars[f"{side}_account_id"])
    entry = (tfvars.get("consumer_accounts") or {}).get(side)
    return str(entry["account_id"]) if entry else None


def alarm_states(smoke: Smoke) -> list[str]:
    """Each alarm's state, by account (the `alarm_names` output), read with that account's deploy role:
    after a smoke run, whether anything is in ALARM."""
    lines = []
    for side, names in sorted((smoke.outputs.get("alarm_names") or {}).items()):
        account = account_id_of(smoke.tfvars, side)
        if account is None:
            lines.append(f"  {side}: no account id in the tfvars: alarms not read")
            continue
        try:
            cloudwatch = smoke.session(account).client("cloudwatch", endpoint_url=smoke.endpoint)
            found = {a["AlarmName"]: a["StateValue"] for start in range(0, len(names), 100)
                     for a in cloudwatch.describe_alarms(AlarmNames=names[start:start + 100])["MetricAlarms"]}
        except (ClientError, BotoCoreError, SmokeError) as error:
            lines.append(f"  {side}: alarms not read: {error}")
            continue
        lines += [f"  {side}: {name}: {found.get(name, 'not found')}" for name in names]
    return lines


def report(flow: FlowSpec, smoke: Smoke, reached: dict[str, Optional[float]]) -> int:
    path = flow.path.format(**smoke.outputs)
    if len(reached) > 1:
        for stop, seconds in reached.items():
            print(f"  {stop}: {'not reached' if seconds is None else f'{seconds:.1f} s'}")
    if None in reached.values():
        print(f"FAIL  nothing reached the end ({path}) within {smoke.timeout:.0f} s")
        return 1
    print(f"PASS  end-to-end latency {max(reached.values()):.1f} s ({path})")  # type: ignore[type-var]
    return 0


def read_outputs(paths: list[Path]) -> dict[str, Any]:
    """`terraform output -json` of one stack, or of several (a split fan-out's plans) merged: maps by key;
    an account plan's `reader_role_arns` are its consumers' roles (`consumer_role_arns`)."""
    outputs: dict[str, Any] = {}
    for path in paths:
        for name, value in json.loads(path.read_text()).items():
            value = value["value"] if isinstance(value, dict) and "value" in value else value
            name = "consumer_role_arns" if name == "reader_role_arns" else name
            if isinstance(value, dict) and isinstance(outputs.get(name), dict):
                clashes = sorted(k for k in value if k in outputs[name] and outputs[name][k] != value[k])
                if clashes:
                    raise ConfigError(f"{path}: {name}", ", ".join(clashes), "keys no other outputs file gives another value")
                outputs[name] = {**outputs[name], **value}
            elif name in outputs and outputs[name] != value:
                raise ConfigError(f"{path}: {name}", json.dumps(value), f"the value the other outputs files give ({json.dumps(outputs[name])})")
            else:
                outputs[name] = value
    return outputs


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tfvars", type=Path, default=Path("terraform.tfvars"))
    parser.add_argument("--outputs", type=Path, required=True, action="append",
                        help="`terraform output -json` of the stack (again for each plan of a split fan-out)")
    parser.add_argument("--timeout", type=float, default=None,
                        help=f"seconds to wait (default {DEFAULT_TIMEOUT:.0f}, plus the buffering interval where Firehose buffers)")
    parser.add_argument("--sender", default=None, help="SES stacks: the verified address to send from (default: the verified identity)")
    parser.add_argument("--kind", default=None, help="the stack kind (default: the one manifest.json records for the stack whose outputs.json it is)")
    parser.add_argument("--dry-run", action="store_true", help="name the flow and its path; call nothing")
    parser.add_argument("--endpoint-url", default=None, help=argparse.SUPPRESS)  # tests: a local AWS
    args = parser.parse_args(argv)
    try:
        if args.timeout is not None and args.timeout <= 0:
            raise ConfigError("--timeout", str(args.timeout), "a number of seconds above 0")
        kind, flow = flow_of_kind(args.outputs, args.kind)
        outputs = read_outputs(args.outputs)
        check_outputs(flow, outputs, ", ".join(map(str, args.outputs)))
        if args.dry_run:
            print(f"DRY   {kind}: {flow.run.__name__} ({flow.path.format(**outputs)}); accounts {', '.join(flow.accounts)}")
            return 0
        tfvars = read_tfvars(args.tfvars, list(flow.accounts))
    except (ConfigError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    smoke = Smoke(tfvars, outputs, DEFAULT_TIMEOUT if args.timeout is None else args.timeout, endpoint=args.endpoint_url,
                  sender=args.sender, timeout_is_default=args.timeout is None)
    try:
        reached = flow.run(smoke)
    except SmokeError as error:
        print(f"FAIL  {error}")
        return 1
    except (ClientError, BotoCoreError) as error:  # a role not assumable, a resource not there...
        print(f"FAIL  AWS: {error}")
        return 1
    status = report(flow, smoke, reached)
    states = alarm_states(smoke)
    if states:
        print("alarms (state now):")
        print("\n".join(states))
    return status


if __name__ == "__main__":
    sys.exit(main())
