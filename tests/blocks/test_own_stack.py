"""A library user's own TerraformStack: their provider and resources, with a consumer built from the
same parts the stacks use (AccountContext, SharedStream.from_existing, StreamConsumer)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow  # a synth in a process of its own

APP = '''
import sys
sys.path.insert(0, {constructs!r})
import xacct_streaming as xs
xs.enable_fast_provider_loading()
from xacct_streaming.framework import App, TerraformStack  # the framework line in use (XACCT_FRAMEWORK)
from xacct_streaming.blocks.account_context import AccountContext
from xacct_streaming.blocks.aws import AwsProvider, S3Bucket

app = App(outdir={outdir!r})
stack = TerraformStack(app, "team-stack")
producer = AwsProvider(stack, "producer", alias="producer", region="eu-west-1")
consumer = AwsProvider(stack, "consumer", alias="consumer", region="eu-west-1")
S3Bucket(stack, "team-bucket", provider=consumer, bucket="team-reports-222222222222")
producer_account = AccountContext(producer, "aws", "eu-west-1", "111111111111")
consumer_account = AccountContext(consumer, "aws", "eu-west-1", "222222222222")
props = xs.StackProps(stack_name="team-reader", existing_stream=xs.ExistingStreamProps(
    stream_arn="arn:aws:kinesis:eu-west-1:111111111111:stream/orders",
    key_arn="arn:aws:kms:eu-west-1:111111111111:key/0f3b1c2d-1111-2222-3333-444455556666"))
function = consumer_account.function(stack, "reader-function", props=props.function, sink=props.sink)
shared = xs.SharedStream.from_existing(stack, "orders", provider=producer, existing=props.existing_stream,
                                       owner_root_arn=producer_account.root_arn, region="eu-west-1")
reader = shared.grant_read("team", function.role_arn, consumer_name="team-reader", reader_account_id=consumer_account.account_id)
wiring = xs.StreamConsumer(stack, "", provider=consumer, function=function, event_source_arn=reader.event_source_arn,
                           mapping=props.mapping, source=[reader.grant, function.grant_stream_read(shared, reader)], sink_table=props.sink)
consumer_account.alarms(stack, "reader-alarms", function, props.alarms)
{more}
xs.validate(app)  # the safety nets of synthesize(), before anything is written
app.synth()
'''


def test_a_consumer_in_a_users_own_stack_next_to_their_own_resources(tmp_path: Path) -> None:
    # GIVEN a plain TerraformStack with the user's providers and bucket, and a consumer of an existing stream
    outdir = tmp_path / "out"
    script = APP.format(constructs=str(ROOT / "constructs"), outdir=str(outdir), more="")
    # WHEN it is validated and synthesized
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((outdir / "stacks" / "team-stack" / "cdk.tf.json").read_text())
    resources = config["resource"]
    # THEN the user's bucket sits next to the consumer, whose names derive from its stack_name
    assert [b["bucket"] for b in resources["aws_s3_bucket"].values()] == ["team-reports-222222222222"]
    (function,) = resources["aws_lambda_function"].values()
    assert function["function_name"] == "team-reader-stream-consumer" and function["provider"] == "aws.consumer"
    # AND the mapping waits for what the grants wrote: the EFO consumer's policy, the key grant, the role's policies
    (mapping,) = resources["aws_lambda_event_source_mapping"].values()
    kinds = sorted(d.split(".")[0] for d in mapping["depends_on"])
    assert kinds == ["aws_iam_role_policy", "aws_iam_role_policy", "aws_iam_role_policy", "aws_kinesis_resource_policy", "aws_kms_grant"]
    # AND the existing stream's own policy stays its owner's: only the EFO consumer's is written
    (policy,) = resources["aws_kinesis_resource_policy"].values()
    assert policy["resource_arn"].startswith("${aws_kinesis_stream_consumer.")
    (grant,) = resources["aws_kms_grant"].values()
    assert grant["constraints"] == [{"encryption_context_equals": {"aws:kinesis:arn": "arn:aws:kinesis:eu-west-1:111111111111:stream/orders"}}]
    # AND its alarms notify an encrypted topic of their own (none passed to .alarms)
    (topic,) = resources["aws_sns_topic"].values()
    assert (topic["name"], topic["provider"]) == ("team-reader-stream-consumer-alarms", "aws.consumer")
    assert len(resources["aws_cloudwatch_metric_alarm"]) == 5
    assert {tuple(a["alarm_actions"]) for a in resources["aws_cloudwatch_metric_alarm"].values()} == {(f"${{aws_sns_topic.{next(iter(resources['aws_sns_topic']))}.arn}}",)}


def test_a_users_own_resource_goes_through_the_safety_nets(tmp_path: Path) -> None:
    from xacct_streaming.blocks.aws import SqsQueue
    from xacct_streaming.settings.errors import ConfigError
    from xacct_streaming.settings.kinesis_efo import StackProps
    from xacct_streaming.synthesis.synth import synthesize

    # GIVEN an earlier output, and a team queue whose name is longer than SQS's 80 characters
    (tmp_path / "out" / "keep").mkdir(parents=True)

    def add_queue(app: object, stacks: list) -> None:
        (stack,) = stacks
        SqsQueue(stack, "team-queue", provider=stack.context("consumer").provider, name="q" * 81)

    # WHEN it is synthesized with the library's stack
    with pytest.raises(ConfigError) as raised:
        synthesize([StackProps()], outdir=tmp_path / "out", customize=add_queue)
    # THEN the name is refused like a derived one, and nothing was written
    assert "aws_sqs_queue.xacct-kinesis-efo/team-queue is 1-80 characters" in str(raised.value)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["keep"]


def test_a_split_fanout_from_the_library_is_synthesized_as_its_plans(tmp_path: Path) -> None:
    import xacct_streaming as xs

    # GIVEN a split fan-out made in Python from the public API, two readers in one account
    props = xs.FanoutStackProps(stack_name="team-fanout", split=True, consumers=(
        xs.FanoutConsumerProps(name="billing", account="finance"), xs.FanoutConsumerProps(name="ledger", account="finance")))
    # WHEN synthesized
    written = xs.synthesize([props], outdir=tmp_path / "out")
    # THEN one directory per plan: the producer's and the account's, as main.py writes them
    assert [p.name for p in written] == ["team-fanout-producer", "team-fanout-finance"]
    account = json.loads((tmp_path / "out/stacks/team-fanout-finance/cdk.tf.json").read_text())
    assert sorted(body["function_name"] for body in account["resource"]["aws_lambda_function"].values()) == [
        "team-fanout-billing", "team-fanout-ledger"]


def test_the_library_page_lists_the_public_api() -> None:
    import re

    import xacct_streaming as xs

    # GIVEN the names in docs/library.md's API table
    page = (ROOT / "docs" / "library.md").read_text()
    table = page[page.index("| kind | names |"):page.index("\n\n", page.index("| kind | names |"))]
    listed = set(re.findall(r"`([A-Za-z_]+)`", table))
    # THEN they are the package's exports (the version aside), no more, no fewer
    assert listed == set(xs.__all__) - {"__version__"}


def test_validate_refuses_a_users_own_app_whose_stacks_would_clash_before_anything_is_written(tmp_path: Path) -> None:
    # GIVEN the same app with a second stack of the user's creating the same bucket in the same account
    outdir = tmp_path / "out"
    more = ('other = TerraformStack(app, "other-stack")\n'
            'S3Bucket(other, "bucket", provider=AwsProvider(other, "consumer", alias="consumer", region="eu-west-1"), bucket="team-reports-222222222222")')
    script = APP.format(constructs=str(ROOT / "constructs"), outdir=str(outdir), more=more)
    # WHEN validated
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    # THEN a ConfigError names the bucket and both stacks, and nothing is written
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "xacct_streaming.settings.errors.ConfigError: stack_name: 'team-stack' is not allowed; expected AWS names no other stack of the run uses: "
        "aws_s3_bucket 'team-reports-222222222222' (aws.consumer account) is also in stack 'other-stack'")
    assert not list(outdir.rglob("cdk.tf.json"))
