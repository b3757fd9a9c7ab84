"""The smoke flows (make smoke), by name, as a stack kind names its own (catalog.StackKind.smoke_flow):
what each sends, where it polls, and the outputs it reads (smoke.py says what each does)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Optional

from botocore.exceptions import ClientError

from xacct_ops.deploy_accounts import verified_identities

from xacct_ops.smoke_session import SIMULATOR_RECIPIENT, Flow, Smoke, SmokeError


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
