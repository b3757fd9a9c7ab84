"""The rehearsal (apply, verify, replan, destroy against moto) and the moto extensions it relies on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from conftest import API_STACK, Background, DDB_STACK, DEFAULT_STACK, FANOUT_REHEARSAL, PLANNED_CREATES, POLICY_COUNTS, REPLICATION_STACK, SES_STACK, SPLIT_REHEARSAL, TESTS, assumed_session, rehearsal_job

sys.path.insert(0, str(TESTS / "harness"))

import moto_extensions  # noqa: E402
import rehearse  # noqa: E402

REGION = "eu-west-1"



def test_stream_name_of_stream_and_consumer_arns() -> None:
    assert moto_extensions.stream_name_of("arn:aws:kinesis:eu-west-1:111111111111:stream/s1") == "s1"
    assert moto_extensions.stream_name_of("arn:aws:kinesis:eu-west-1:111111111111:stream/s1/consumer/c:1763799000") == "s1"


@pytest.mark.parametrize("with_policies", [False, True], ids=["without-resource-policies", "with-resource-policies"])
def test_mapping_on_another_accounts_efo_consumer_needs_both_resource_policies(aws_env: None, with_policies: bool) -> None:
    moto_extensions.install()
    with mock_aws():
        # GIVEN a stream and EFO consumer in 111111111111 and a function in 222222222222
        producer, consumer = assumed_session("111111111111", "deploy"), assumed_session("222222222222", "deploy")
        kinesis = producer.client("kinesis")
        kinesis.create_stream(StreamName="s1", ShardCount=1)
        stream_arn = kinesis.describe_stream_summary(StreamName="s1")["StreamDescriptionSummary"]["StreamARN"]
        consumer_arn = kinesis.register_stream_consumer(StreamARN=stream_arn, ConsumerName="c1")["Consumer"]["ConsumerARN"]
        role = consumer.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        consumer.client("lambda").create_function(
            FunctionName="fn", Runtime="python3.12", Role=role, Handler="h.h", Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        )
        if with_policies:
            for arn, actions in ((stream_arn, sorted(moto_extensions.STREAM_READ_ACTIONS)), (consumer_arn, sorted(moto_extensions.CONSUMER_READ_ACTIONS))):
                policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": role}, "Action": actions, "Resource": arn}]}
                kinesis.put_resource_policy(ResourceARN=arn, Policy=json.dumps(policy))
            # AND the consumer's policy can be read back (moto failed on consumer ARNs)
            assert json.loads(kinesis.get_resource_policy(ResourceARN=consumer_arn)["Policy"])["Statement"][0]["Principal"] == {"AWS": role}
        # WHEN
        create = lambda: consumer.client("lambda").create_event_source_mapping(  # noqa: E731
            FunctionName="fn", EventSourceArn=consumer_arn, StartingPosition="TRIM_HORIZON"
        )
        # THEN as AWS: refused without the resource policies, accepted with them
        if with_policies:
            assert create()["EventSourceArn"] == consumer_arn
        else:
            with pytest.raises(ClientError, match="Cannot access stream"):
                create()


@pytest.mark.parametrize("with_policy", [False, True], ids=["without-stream-policy", "with-stream-policy"])
def test_mapping_on_another_accounts_table_stream_needs_the_stream_policy(aws_env: None, with_policy: bool) -> None:
    moto_extensions.install()
    with mock_aws():
        # GIVEN a table with a stream in 111111111111 and a function in 222222222222
        producer, consumer = assumed_session("111111111111", "deploy"), assumed_session("222222222222", "deploy")
        dynamodb = producer.client("dynamodb")
        table = dynamodb.create_table(
            TableName="t1", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]
        stream_arn = table["LatestStreamArn"]
        role = consumer.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        consumer.client("lambda").create_function(
            FunctionName="fn", Runtime="python3.12", Role=role, Handler="h.h", Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        )
        if with_policy:
            policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": role}, "Action": sorted(moto_extensions.TABLE_STREAM_READ_ACTIONS), "Resource": stream_arn}]}
            dynamodb.put_resource_policy(ResourceArn=stream_arn, Policy=json.dumps(policy))
            # AND it reads back by the stream's ARN (moto took the label for a table name)
            assert json.loads(dynamodb.get_resource_policy(ResourceArn=stream_arn)["Policy"]) == policy
        # WHEN
        create = lambda: consumer.client("lambda").create_event_source_mapping(  # noqa: E731
            FunctionName="fn", EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON"
        )
        # THEN as AWS: refused without the stream's resource policy, accepted with it
        if with_policy:
            assert create()["EventSourceArn"] == stream_arn
            # AND writes to the table do not try to invoke the function (moto would need Docker)
            dynamodb.put_item(TableName="t1", Item={"pk": {"S": "a"}})
        else:
            with pytest.raises(ClientError, match="Cannot access stream"):
                create()


def _steps(terraform_jobs: "Background", stack: str) -> dict[str, str]:
    return {step["step"]: step["detail"] for step in terraform_jobs.result(rehearsal_job(stack))["steps"]}


@pytest.mark.terraform
@pytest.mark.rehearsal
@pytest.mark.background(rehearsal_job(DEFAULT_STACK))
def test_rehearsal_apply_verify_replan_destroy(terraform_jobs: "Background") -> None:
    # terraform_jobs: skips where terraform or the provider mirror is missing
    details = _steps(terraform_jobs, DEFAULT_STACK)
    assert list(details) == [
        "override + init", "plan -out", "HCL export plans the same", "apply", "verify both accounts", "policy check on applied ARNs", "records through the handler",
        "replan: no changes", "teardown: unprotect + destroy", "verify nothing left",
    ]
    created = PLANNED_CREATES[DEFAULT_STACK]
    assert details["apply"].startswith(f"Apply complete! Resources: {created} added")
    assert details["HCL export plans the same"] == f"{created} resource changes and the outputs identical in both"
    # every call of make policy-check, with the ARNs moto handed out, decided by the IAM engine
    assert details["policy check on applied ARNs"] == "{} allowed and {} denied as expected".format(*POLICY_COUNTS[DEFAULT_STACK])
    assert details["records through the handler"] == "294 written, 6 parked"
    assert details["replan: no changes"] == "No changes."
    assert details["teardown: unprotect + destroy"] == f"Destroy complete! Resources: {created} destroyed."


SEED_REHEARSALS = [
    pytest.param(DDB_STACK, PLANNED_CREATES[DDB_STACK], "55 changes in the change log", id="seed-003-dynamodb-streams"),
    pytest.param(REPLICATION_STACK, PLANNED_CREATES[REPLICATION_STACK], "196 replicated, 4 parked, 196 lines in S3", id="seed-001-replication"),
    pytest.param(SES_STACK, PLANNED_CREATES[SES_STACK], "120 notifications of 40 emails on 4 shards", id="seed-004-ses-notifications"),
    pytest.param(
        API_STACK, PLANNED_CREATES[API_STACK], "authorizer allow/deny ok, 100 events put as the API role, 95 written, 5 parked", id="seed-002-api-ingest"
    ),
]


@pytest.mark.terraform
@pytest.mark.rehearsal
@pytest.mark.background(*(rehearsal_job(param.values[0]) for param in SEED_REHEARSALS))
@pytest.mark.parametrize("stack, resources, traffic", SEED_REHEARSALS)
def test_stack_rehearsal(terraform_jobs: "Background", stack: str, resources: int, traffic: str) -> None:
    details = _steps(terraform_jobs, stack)
    assert details["apply"].startswith(f"Apply complete! Resources: {resources} added")
    assert details["policy check on applied ARNs"] == "{} allowed and {} denied as expected".format(*POLICY_COUNTS[stack])
    assert details["records through the handler"] == traffic
    assert details["teardown: unprotect + destroy"] == f"Destroy complete! Resources: {resources} destroyed."
    if stack == API_STACK:
        # the documented rotation: only the secret version replaced, a fresh password nowhere in plan or state
        assert details["rotate the password + replan"] == (
            "only the secret version replaced; warm authorizer: new password Allow at once, old Allow for the 300 s grace, then Deny; "
            "neither in plan or state; replan empty"
        )
        # an in-place edit of the API plans a new deployment (the stage would serve the old one otherwise)
        assert details["edit redeploys"] == "template edit: integration updated, deployment replaced"
    else:
        assert details["replan: no changes"] == "No changes."
        assert "edit redeploys" not in details and "rotate the password + replan" not in details


def test_several_stacks_are_rehearsed_side_by_side_and_json_out_takes_one(tmp_path: Path) -> None:
    # GIVEN two stack directories and --json-out
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "cdk.tf.json").write_text("{}")
    script = Path(rehearse.__file__)
    # WHEN
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "a"), str(tmp_path / "b"), "--json-out", str(tmp_path / "r.json")],
        capture_output=True, text=True, timeout=60,
    )
    # THEN a usage error, before anything runs
    assert (result.returncode, result.stderr.strip()) == (2, "--json-out takes one stack directory")


@pytest.mark.terraform
@pytest.mark.rehearsal
@pytest.mark.background(FANOUT_REHEARSAL)
def test_fanout_rehearsal_every_reader_gets_every_record_and_a_consumer_goes_cleanly(terraform_jobs: "Background") -> None:
    # GIVEN tests/configs/fanout-rehearsal.toml: analytics, billing, search in accounts of their own
    # through EFO, audit polling in the producer account (five accounts' providers in one plan)
    result = terraform_jobs.result(FANOUT_REHEARSAL)
    details = {step["step"]: step["detail"] for step in result["steps"]}
    assert list(details) == [
        "override + init", "plan -out", "apply", "verify every account", "policy check on applied ARNs", "records through every reader",
        "a reader falls behind: alarm to queue", "replan: no changes", "a hand-made grant: live review", "remove a consumer", "replan after the removal: no changes",
        "teardown: unprotect + destroy", "verify nothing left",
    ]
    assert details["apply"].startswith("Apply complete! Resources: 109 added")
    assert details["policy check on applied ARNs"] == "141 allowed and 349 denied as expected"
    assert details["records through every reader"] == "4 readers in 4 accounts each got 118 records, 2 parked"
    # a statement added by hand to the live stream policy before the second apply: the live access review of
    # the configuration about to be applied reports it as access that apply removes (and search's, removed on purpose)
    assert details["a hand-made grant: live review"] == (
        "25 live policies read; the apply removes the 2 hand-made grants and 6 of fanout-rehearsal-search-role")
    # a reader stops while records wait: its iterator-age alarm's notifications (ALARM, then OK) reach the operator's
    # queue in its account through that account's alarm topic (moto evaluates no metric: the state is set as the lag would)
    assert details["a reader falls behind: alarm to queue"] == (
        "fanout-rehearsal-analytics-iterator-age: ALARM then OK reached ops-alarms through fanout-rehearsal-alarms")
    # removing search (its account kept one apply as retired): its 20 resources go, the stream's and
    # the key's policies are updated, nothing else changes
    assert details["remove a consumer"] == "26 destroyed, 2 shared policies updated, nothing else"
    assert details["replan after the removal: no changes"] == "No changes."
    assert details["teardown: unprotect + destroy"] == "Destroy complete! Resources: 83 destroyed."


@pytest.mark.terraform
@pytest.mark.rehearsal
@pytest.mark.background(SPLIT_REHEARSAL)
def test_split_fanout_rehearsal_hands_values_over_in_order_and_every_reader_gets_every_record(terraform_jobs: "Background") -> None:
    # GIVEN tests/configs/fanout-split.toml: analytics and search (EFO) in one account, billing
    # (polling) in another, audit in the producer account: three plans, one provider each
    result = terraform_jobs.result(SPLIT_REHEARSAL)
    details = {step["step"]: step["detail"] for step in result["steps"]}
    assert result["stacks"] == ["split-rehearsal-producer", "split-rehearsal-analytics", "split-rehearsal-billing"]
    # THEN the account plans first create roles and functions but no read policy and no mapping
    assert details["accounts: roles, functions"] == "2 plans: 60 to add, 0 to change, 0 to destroy"
    assert details["handoff: readers"] == "3 reader roles to the producer plan"
    assert details["producer: stream, policies"] == "1 plans: 34 to add, 0 to change, 0 to destroy"
    assert details["handoff: share"] == "stream_share to analytics, billing"
    # a read policy and a mapping per cross-account reader, nothing else changes
    # (and each account's dashboard, which now shows its mappings' event counts)
    assert details["accounts: read policies, mappings"] == "2 plans: 6 to add, 2 to change, 0 to destroy"
    assert details["records through every reader"] == "4 readers in 3 accounts each got 118 records, 2 parked"
    assert details["replan every plan: no changes"] == "No changes."
    assert details["destroy: accounts, then producer"] == "100 destroyed in 3 plans"
