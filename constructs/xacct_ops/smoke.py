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
import base64
import gzip
import hashlib
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from xacct_consumer.records import item_keys
from xacct_ops import manifest
from xacct_ops.preflight import assumed, read_tfvars, verified_identities
from xacct_streaming.settings.errors import ConfigError

DEFAULT_TIMEOUT = 180.0
# SES's mailbox simulator: accepted in the sandbox, delivered without touching the sender's reputation.
SIMULATOR_RECIPIENT = "success@simulator.amazonses.com"


class SmokeError(Exception):
    """The flow could not start (a refused request, a missing identity): exit 1 with this message."""


def deploy_roles(tfvars: dict[str, Any]) -> dict[str, str]:
    """Each account id the tfvars name, with its deploy role: producer, consumer, every fan-out account."""
    roles = {}
    for side in ("producer", "consumer"):
        if tfvars.get(f"{side}_account_id"):
            roles[str(tfvars[f"{side}_account_id"])] = tfvars[f"{side}_deploy_role_arn"]
    for account in (tfvars.get("consumer_accounts") or {}).values():
        roles[str(account["account_id"])] = account["deploy_role_arn"]
    return roles


@dataclass
class Smoke:
    """One run: the outputs, the deploy-role sessions (assumed once each), and the bounded wait."""

    tfvars: dict[str, Any]
    outputs: dict[str, Any]
    timeout: float
    interval: float = 1.0
    endpoint: Optional[str] = None
    progress: TextIO = field(default_factory=lambda: sys.stderr)
    clock: Callable[[], float] = time.time
    sender: Optional[str] = None
    timeout_is_default: bool = False  # flows through a buffer may wait longer
    marker: str = field(default_factory=lambda: f"xacct-smoke-{uuid.uuid4()}")
    _sessions: dict[str, boto3.Session] = field(default_factory=dict)

    def session(self, account_id: str) -> boto3.Session:
        if account_id not in self._sessions:
            roles = deploy_roles(self.tfvars)
            if account_id not in roles:
                raise SmokeError(f"account {account_id} (from the outputs) is not in the tfvars: no deploy role to read it with")
            region = self.tfvars["region"]
            self._sessions[account_id] = assumed(boto3.Session(region_name=region), roles[account_id], region, self.endpoint, "xacct-smoke")
        return self._sessions[account_id]

    def client(self, side: str, service: str) -> Any:
        """A client in the producer or consumer account, through its deploy role."""
        return self.session(str(self.tfvars[f"{side}_account_id"])).client(service, endpoint_url=self.endpoint)

    def say(self, line: str) -> None:
        print(line, file=self.progress, flush=True)

    def wait(self, stops: dict[str, Callable[[], bool]], sent: float) -> dict[str, Optional[float]]:
        """Seconds from `sent` until each stop's check holds, polled together; None for those not there by the deadline."""
        deadline, reached = sent + self.timeout, {}
        pending = dict(stops)
        while pending and self.clock() < deadline:
            for name, arrived in list(pending.items()):
                if arrived():
                    reached[name] = self.clock() - sent
                    del pending[name]
            if pending:
                print(f"\r  {self.clock() - sent:5.0f} s / {self.timeout:.0f} s", end="", file=self.progress, flush=True)
                time.sleep(self.interval)
        print(file=self.progress)
        return {name: reached.get(name) for name in stops}

    # ---- the pieces the flows share --------------------------------------------------------------

    def put_record(self) -> tuple[float, str, str]:
        """Puts the marker into the shared stream: the send time, the shard and the sequence number."""
        sent = self.clock()
        put = self.client("producer", "kinesis").put_record(
            StreamName=self.outputs["stream_name"], PartitionKey=self.marker,
            Data=json.dumps({"smoke_test_id": self.marker, "sent_at": sent}).encode(),
        )
        self.say(f"put {self.marker} to {self.outputs['stream_name']} ({put['ShardId']}, {put['SequenceNumber']})")
        return sent, put["ShardId"], put["SequenceNumber"]

    def item_arrived(self, dynamodb: Any, table: str, shard_id: str, sequence_number: str) -> Callable[[], bool]:
        """Whether the consumer wrote the marker's record into `table` (under the keys it derives)."""
        pk, sk = item_keys(shard_id, sequence_number, 0)

        def arrived() -> bool:
            item = dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True).get("Item")
            if item is not None and json.loads(item["payload"]["S"]).get("smoke_test_id") != self.marker:
                raise RuntimeError(f"item {pk}/{sk} of {table} holds another record: {item['payload']['S'][:200]}")
            return item is not None

        return arrived


Flow = Callable[[Smoke], dict[str, Optional[float]]]


def stream_to_table(smoke: Smoke) -> dict[str, Optional[float]]:
    sent, shard, sequence = smoke.put_record()
    table = smoke.outputs["sink_table_name"]
    smoke.say(f"waiting for it in {table}")
    return smoke.wait({f"table {table}": smoke.item_arrived(smoke.client("consumer", "dynamodb"), table, shard, sequence)}, sent)


def api_to_table(smoke: Smoke) -> dict[str, Optional[float]]:
    secret = json.loads(smoke.client("consumer", "secretsmanager").get_secret_value(SecretId=smoke.outputs["basic_auth_secret_arn"])["SecretString"])
    credentials = base64.b64encode(f"{secret['username']}:{secret['password']}".encode()).decode()
    url = smoke.outputs["api_invoke_url"].replace("{eventId}", smoke.marker)
    sent = smoke.clock()
    request = urllib.request.Request(
        url, method="POST", data=json.dumps({"smoke_test_id": smoke.marker, "sent_at": sent}).encode(),
        headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the stack's own https URL)
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise SmokeError(f"POST {url} answered {error.code}: {error.read()[:300].decode(errors='replace')}") from None
    except urllib.error.URLError as error:
        raise SmokeError(f"POST {url} failed: {error.reason}") from None
    api = {f"API {smoke.outputs['api_id']}": smoke.clock() - sent}
    smoke.say(f"POST {url}: 200, {answer['shardId']}, {answer['sequenceNumber']}")
    table = smoke.outputs["sink_table_name"]
    smoke.say(f"waiting for it in {table}")
    arrived = smoke.item_arrived(smoke.client("consumer", "dynamodb"), table, answer["shardId"], answer["sequenceNumber"])
    return {**api, **smoke.wait({f"table {table}": arrived}, sent)}


def delivery_prefixes(prefix: str, sent: float, now: float) -> list[str]:
    """Where Firehose puts what it delivers between `sent` and `now`: after the configured prefix, an
    hour folder YYYY/MM/DD/HH/ (UTC) of the delivery time; a prefix with !{...} expressions lays out
    its own folders, so only the part before the first is known."""
    if "!{" in prefix:
        return [prefix.split("!{")[0]]
    hours = range(int(sent // 3600), int(now // 3600) + 1)
    return [prefix + time.strftime("%Y/%m/%d/%H/", time.gmtime(hour * 3600)) for hour in hours]


def _objects_with(s3: Any, bucket: str, prefixes: list[str], not_before: float, marker: str, seen: set[str]) -> bool:
    """Whether an object written since `not_before` under `prefixes`, not read before, holds `marker`
    (Firehose's GZIP unpacked)."""
    for prefix in prefixes:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for listed in page.get("Contents", []):
                if listed["Key"] in seen or listed["LastModified"].timestamp() < not_before:
                    continue
                seen.add(listed["Key"])
                body = s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()
                if marker.encode() in (gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body):
                    return True
    return False


def _s3_destination(smoke: Smoke) -> dict[str, Any]:
    """The delivery stream's S3 settings (prefix, buffering), read with the consumer deploy role."""
    destination = smoke.client("consumer", "firehose").describe_delivery_stream(
        DeliveryStreamName=smoke.outputs["delivery_stream_name"])["DeliveryStreamDescription"]["Destinations"][0]
    return destination.get("ExtendedS3DestinationDescription") or destination["S3DestinationDescription"]


def stream_to_replica_to_bucket(smoke: Smoke) -> dict[str, Optional[float]]:
    s3_settings = _s3_destination(smoke)
    if smoke.timeout_is_default:  # the bucket cannot see the change before Firehose's buffer is flushed
        smoke.timeout += float(s3_settings.get("BufferingHints", {}).get("IntervalInSeconds", 300))
    sent, shard, sequence = smoke.put_record()
    table, bucket = smoke.outputs["replica_table_name"], smoke.outputs["delivery_bucket_name"]
    smoke.say(f"waiting for it in {table}, then in s3://{bucket}/{s3_settings.get('Prefix', '')}, up to {smoke.timeout:.0f} s")
    replica = smoke.wait({f"replica table {table}": smoke.item_arrived(smoke.client("consumer", "dynamodb"), table, shard, sequence)}, sent)
    if None in replica.values():
        return {**replica, f"bucket {bucket}": None}
    s3, seen, prefix = smoke.client("consumer", "s3"), set(), s3_settings.get("Prefix", "")

    def delivered() -> bool:
        # S3's LastModified has whole seconds: an object of the same second as the put may hold it.
        return _objects_with(s3, bucket, delivery_prefixes(prefix, sent, smoke.clock()), int(sent), smoke.marker, seen)

    return {**replica, **smoke.wait({f"bucket {bucket}": delivered}, sent)}


def _sender(smoke: Smoke, ses: Any) -> str:
    if smoke.sender:
        return smoke.sender
    verified = verified_identities(ses)
    if not verified:
        raise SmokeError("no verified SES identity in the SES account to send from: verify one, or pass SENDER=<address>")
    # An address is used as it is; a verified domain sends from any address in it.
    return next((i for i in verified if "@" in i), f"xacct-smoke@{verified[0]}")


def _shards_of(kinesis: Any, stream: str, partition_key: str) -> list[str]:
    """The open shards whose hash key range holds `partition_key` (Kinesis: MD5 of the key)."""
    hashed = int(hashlib.md5(partition_key.encode("utf-8")).hexdigest(), 16)  # noqa: S324 (Kinesis's own mapping)
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    return [s["ShardId"] for s in shards if "EndingSequenceNumber" not in s.get("SequenceNumberRange", {})
            and int(s["HashKeyRange"]["StartingHashKey"]) <= hashed <= int(s["HashKeyRange"]["EndingHashKey"])]


def ses_to_stream(smoke: Smoke) -> dict[str, Optional[float]]:
    ses = smoke.client("consumer", "ses")
    sender, stream = _sender(smoke, ses), smoke.outputs["stream_name"]
    kinesis = smoke.client("producer", "kinesis")
    sent = smoke.clock()
    try:
        message_id = ses.send_email(
            Source=sender, Destination={"ToAddresses": [SIMULATOR_RECIPIENT]},
            Message={"Subject": {"Data": smoke.marker}, "Body": {"Text": {"Data": f"xacct smoke test {smoke.marker}"}}},
            ConfigurationSetName=smoke.outputs["ses_configuration_set_name"], Tags=[{"Name": "smoke_test_id", "Value": smoke.marker}],
        )["MessageId"]
    except ClientError as error:  # not verified, sending paused, no such configuration set...
        raise SmokeError(f"SES refused the email from {sender}: {error.response['Error']['Message']}") from None
    # The forwarder keys each event by the email's message id: only the shard that key maps to can hold it.
    iterators = {
        shard: kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="AT_TIMESTAMP", Timestamp=sent - 60)["ShardIterator"]
        for shard in _shards_of(kinesis, stream, message_id)
    }
    smoke.say(f"sent {message_id} from {sender} to {SIMULATOR_RECIPIENT} with {smoke.outputs['ses_configuration_set_name']}; waiting for its event in {stream}")

    def arrived() -> bool:
        for shard, iterator in list(iterators.items()):
            while iterator:
                page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
                iterator = page.get("NextShardIterator")
                if any(r["PartitionKey"] == message_id and smoke.marker.encode() in r["Data"] for r in page["Records"]):
                    return True
                if not page["Records"] or page.get("MillisBehindLatest", 0) == 0:
                    break
            iterators[shard] = iterator
        return False

    return smoke.wait({f"stream {stream}": arrived}, sent)


def stream_to_every_sink(smoke: Smoke) -> dict[str, Optional[float]]:
    tables, roles = smoke.outputs["consumer_sink_table_names"], smoke.outputs["consumer_role_arns"]
    if not tables:
        raise SmokeError("no consumer of this fan-out writes a sink table the toolkit creates: nothing to poll")
    unknown = sorted(set(tables) - set(roles))
    if unknown:
        raise SmokeError(f"no role in the outputs for {', '.join(unknown)}: pass the outputs of the plan that creates its function too")
    sent, shard, sequence = smoke.put_record()
    stops = {}
    for name, table in sorted(tables.items()):
        account = roles[name].split(":")[4]  # the table is in the account of the consumer's role
        dynamodb = smoke.session(account).client("dynamodb", endpoint_url=smoke.endpoint)
        stops[f"{name}: table {table}"] = smoke.item_arrived(dynamodb, table, shard, sequence)
    smoke.say(f"waiting for it in {len(stops)} sink tables")
    return smoke.wait(stops, sent)


def table_to_change_log(smoke: Smoke) -> dict[str, Optional[float]]:
    from xacct_changes.images import to_json

    source = smoke.client("producer", "dynamodb")
    description = source.describe_table(TableName=smoke.outputs["table_name"])["Table"]
    types = {a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]}
    sent = smoke.clock()
    # Every key attribute gets the marker (a number key: the send time in microseconds).
    keys = {k["AttributeName"]: str(int(sent * 1_000_000)) if types[k["AttributeName"]] == "N" else smoke.marker for k in description["KeySchema"]}
    item = {name: {types[name]: value} for name, value in keys.items()}
    source.put_item(TableName=smoke.outputs["table_name"], Item={**item, "smoke_test_id": {"S": smoke.marker}})
    pk = to_json({name: (int(value) if types[name] == "N" else value) for name, value in sorted(keys.items())})
    log_table = smoke.outputs["change_log_table_name"]
    smoke.say(f"wrote {pk} to {smoke.outputs['table_name']}; waiting for its change in {log_table}")
    log = smoke.client("consumer", "dynamodb")

    def arrived() -> bool:
        found = log.query(TableName=log_table, KeyConditionExpression="pk = :pk",
                          ExpressionAttributeValues={":pk": {"S": pk}}, ConsistentRead=True)["Items"]
        if found and smoke.marker not in found[0].get("new_image", {}).get("S", ""):
            raise RuntimeError(f"the change of {pk} holds another item: {found[0]}")
        return bool(found)

    return smoke.wait({f"change log {log_table}": arrived}, sent)


@dataclass(frozen=True)
class FlowSpec:
    needs: tuple[str, ...]  # outputs the flow reads
    run: Flow
    path: str  # what it goes through, formatted with the outputs
    accounts: tuple[str, ...] = ("producer", "consumer")  # tfvars accounts it needs


# The flows by name, as a stack kind names its own (catalog.StackKind.smoke_flow).
FLOWS: dict[str, FlowSpec] = {
    "api_to_table": FlowSpec(("api_invoke_url", "basic_auth_secret_arn", "sink_table_name"), api_to_table,
                             "API {api_id} -> stream {stream_name} -> table {sink_table_name}"),
    "stream_to_replica_to_bucket": FlowSpec(("stream_name", "replica_table_name", "delivery_bucket_name", "delivery_stream_name"),
                                            stream_to_replica_to_bucket,
                                            "stream {stream_name} -> replica table {replica_table_name} -> bucket {delivery_bucket_name}"),
    "ses_to_stream": FlowSpec(("ses_configuration_set_name", "stream_name"), ses_to_stream, "SES {ses_configuration_set_name} -> stream {stream_name}"),
    "stream_to_every_sink": FlowSpec(("stream_name", "consumer_sink_table_names", "consumer_role_arns"), stream_to_every_sink,
                                     "stream {stream_name} -> every consumer's sink table", accounts=("producer",)),
    "table_to_change_log": FlowSpec(("table_name", "change_log_table_name"), table_to_change_log, "table {table_name} -> change log {change_log_table_name}"),
    "stream_to_table": FlowSpec(("stream_name", "sink_table_name"), stream_to_table, "stream {stream_name} -> table {sink_table_name}"),
}


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
