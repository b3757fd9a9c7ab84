"""The live policies of a deployed stack against its plan (xacct_ops/review/live.py): what an apply
would remove of what someone added by hand. Here with a stand-in for AWS that serves what the apply
wrote; `make rehearse` does it against moto after a real apply (the fan-out rehearsal)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from xacct_ops.iam.resolver import PlanResolver
from xacct_ops.iam.stack import Stack
from xacct_ops.review import live as live_policies

PRODUCER, CONSUMER = "123456789012", "210987654321"
ACCOUNTS = {"producer": PRODUCER, "consumer": CONSUMER}
VARIABLES = {"region": "eu-west-1", "producer_account_id": PRODUCER, "consumer_account_id": CONSUMER}
STREAM = f"arn:aws:kinesis:eu-west-1:{PRODUCER}:stream/xacct-shared-stream"
CONSUMER_ARN = f"{STREAM}/consumer/xacct-lambda-consumer:1767225600"
HAND = {"Sid": "AddedByHand", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{CONSUMER}:role/analyst"},
        "Action": ["kinesis:DescribeStreamSummary", "kinesis:GetRecords"], "Resource": STREAM}


def _missing(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "not found"}}, operation)


class FakeAws:
    """Answers the reads live_policies makes with what an apply of `config` wrote (its documents,
    resolved with the ids below), with `edits` applied: {type: function(document) -> document or None}."""

    def __init__(self, config: dict[str, Any], edits: dict[str, Callable[[dict[str, Any]], Any]] | None = None,
                 fail: tuple[str, str] | None = None) -> None:
        self.config, self.edits, self.fail = config, edits or {}, fail
        aliases = {f"aws.{a}": i for a, i in ACCOUNTS.items()}
        known = {f"aws_kms_key.{name}": {"arn": f"arn:aws:kms:eu-west-1:{aliases[body['provider']]}:key/{n:08d}-0000-0000-0000-000000000000",
                                         "key_id": f"{n:08d}-0000-0000-0000-000000000000"}
                 for n, (name, body) in enumerate(config["resource"]["aws_kms_key"].items())}
        known.update({f"aws_kinesis_stream_consumer.{name}": {"arn": CONSUMER_ARN} for name in config["resource"]["aws_kinesis_stream_consumer"]})
        self.applied = Stack("applied", config, resolver=PlanResolver(config, known, accounts=aliases, variables=VARIABLES))
        self.known, self.calls = known, []

    def document(self, type_: str, match: Callable[[Stack, dict[str, Any]], bool], argument: str = "policy") -> str:
        ((name, body),) = [(n, b) for n, b in self.config["resource"][type_].items() if match(self.applied, b)]
        document = self.applied.document(self.applied.r(body[argument]))
        if type_ in self.edits:
            document = self.edits[type_](document)
            if document is None:
                raise _missing("Get")
        return json.dumps(document)

    def __call__(self, alias: str, service: str) -> Any:
        fake = self

        class Client:
            def __getattr__(self, operation: str) -> Any:
                def call(**kwargs: Any) -> Any:
                    fake.calls.append((alias, service, operation))
                    if fake.fail == (service, operation):
                        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, operation)
                    return getattr(fake, f"{service}_{operation}")(**kwargs)
                return call

        return Client()

    def kms_describe_key(self, KeyId: str) -> Any:
        (address,) = [a for a, b in self.applied.each("aws_kms_alias") if self.applied.r(b["name"]) == KeyId]
        key = self.applied.r(self.applied.r.resources[address]["target_key_id"].replace("key_id", "arn"))
        return {"KeyMetadata": {"Arn": key, "KeyId": key.rsplit("/", 1)[1]}}

    def kms_get_key_policy(self, KeyId: str, PolicyName: str) -> Any:
        return {"Policy": self.document("aws_kms_key_policy", lambda s, b: s.key_arn(b["key_id"]) == KeyId)}

    def kinesis_describe_stream_consumer(self, StreamARN: str, ConsumerName: str) -> Any:
        return {"ConsumerDescription": {"ConsumerARN": CONSUMER_ARN}}

    def kinesis_get_resource_policy(self, ResourceARN: str) -> Any:
        return {"Policy": self.document("aws_kinesis_resource_policy", lambda s, b: s.r(b["resource_arn"]) == ResourceARN)}

    def dynamodb_describe_table(self, TableName: str) -> Any:
        return {"Table": {"TableArn": f"arn:aws:dynamodb:eu-west-1:{CONSUMER}:table/{TableName}"}}

    def sns_get_topic_attributes(self, TopicArn: str) -> Any:
        return {"Attributes": {"Policy": self.document("aws_sns_topic_policy", lambda s, b: s.r(b["arn"]) == TopicArn)}}

    def iam_get_role(self, RoleName: str) -> Any:
        return {"Role": {"AssumeRolePolicyDocument": json.loads(self.document("aws_iam_role", lambda s, b: s.r(b["name"]) == RoleName, "assume_role_policy"))}}

    def iam_get_role_policy(self, RoleName: str, PolicyName: str) -> Any:
        return {"PolicyDocument": json.loads(self.document("aws_iam_role_policy", lambda s, b: s.r(b["name"]) == PolicyName))}


@pytest.fixture(scope="module")
def core(cli_outdir: Path) -> dict[str, Any]:
    return json.loads((cli_outdir / "stacks" / "xacct-kinesis-efo" / "cdk.tf.json").read_text())


def _stream_policy_with(extra: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def edit(document: dict[str, Any]) -> dict[str, Any]:
        if document["Statement"][0]["Resource"] != STREAM:
            return document  # the consumer's policy
        return {**document, "Statement": [*document["Statement"], extra]}
    return edit


def test_live_policies_as_applied_are_no_change(core: dict[str, Any]) -> None:
    # GIVEN the accounts hold exactly what the apply wrote
    side = live_policies.read_live("xacct-kinesis-efo", core, ACCOUNTS, VARIABLES, FakeAws(core))
    # THEN the live side resolves like the plan: no change, every policy read
    assert live_policies.review_live(side).empty
    assert len(side.read) == sum(len(core["resource"][t]) for t in (
        "aws_kinesis_resource_policy", "aws_kms_key_policy", "aws_sns_topic_policy", "aws_iam_role", "aws_iam_role_policy")) and side.absent == []


def test_a_statement_added_by_hand_is_what_the_apply_would_remove(core: dict[str, Any]) -> None:
    # GIVEN the stream's policy with a statement someone added in the console
    side = live_policies.read_live("xacct-kinesis-efo", core, ACCOUNTS, VARIABLES, FakeAws(core, {"aws_kinesis_resource_policy": _stream_policy_with(HAND)}))
    # WHEN the live policies are reviewed against the plan
    result = live_policies.review_live(side)
    # THEN exactly the hand-made grant is removed by the apply, granted by the resource policy
    assert [(a.principal, a.action, a.resource, a.granted_by) for a in result.removed] == [
        (f"arn:aws:iam::{CONSUMER}:role/analyst", action, STREAM, "resource policy") for action in HAND["Action"]]
    assert (result.added, result.changed, result.unknown, result.findings) == ([], [], [], [])


def test_a_policy_not_there_yet_is_what_the_apply_would_add(core: dict[str, Any]) -> None:
    # GIVEN the stream's and consumer's policies are not there (a first apply stopped before them)
    side = live_policies.read_live("xacct-kinesis-efo", core, ACCOUNTS, VARIABLES, FakeAws(core, {"aws_kinesis_resource_policy": lambda d: None}))
    result = live_policies.review_live(side)
    # THEN they are listed as not there, by what they protect
    policies = core["resource"]["aws_kinesis_resource_policy"]
    assert sorted(side.absent) == sorted(f"aws_kinesis_resource_policy.{n}: {CONSUMER_ARN if 'consumer' in n else STREAM}" for n in policies)
    # AND the reader's reads are what the apply adds (its own policy alone grants nothing in the producer's account)
    reader = f"arn:aws:iam::{CONSUMER}:role/xacct-stream-consumer-role"
    reads = sorted([*((STREAM, a) for a in ("kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator",
                                            "kinesis:ListShards")), *((CONSUMER_ARN, a) for a in ("kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"))])
    assert sorted((a.resource, a.action) for a in result.added if a.principal == reader and a.granted_by == "both") == reads
    assert sorted((a.resource, a.action) for a in result.identity_only_removed) == reads
    assert (result.removed, result.changed, result.findings) == ([], [], [])


def test_a_policy_that_cannot_be_read_stops_the_review_naming_it(core: dict[str, Any]) -> None:
    with pytest.raises(live_policies.LiveError, match=r"aws_kms_key_policy\.consumer-alarm-topic_key_policy_[0-9A-F]+: cannot read its live policy in account consumer: .*AccessDenied"):
        live_policies.read_live("xacct-kinesis-efo", core, ACCOUNTS, VARIABLES, FakeAws(core, fail=("kms", "get_key_policy")))


@pytest.mark.parametrize(
    ("written", "read"),
    [
        pytest.param(CONSUMER_ARN, CONSUMER_ARN, id="aws-arn-kept"),
        pytest.param(CONSUMER_ARN.rsplit(":", 1)[0], CONSUMER_ARN, id="moto-arn-given-a-creation-time"),
    ],
)
def test_a_consumer_arn_with_its_creation_time_is_read_as_it_is(written: str, read: str) -> None:
    # a real consumer ARN once lost the last letter of its name to the moto fix-up: "...-consume:1767225600r:1767225600"
    from xacct_ops.iam.sources import MOTO_CONSUMER_ARN

    assert MOTO_CONSUMER_ARN.sub(r"\1:1767225600", json.dumps({"arn": written})) == json.dumps({"arn": read})
