"""Split fan-out: examples/fanout.toml with `split = true` as three plans (the producer account's,
analytics' and billing's), each with one provider, and the handoff that passes values between them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import SPLIT_STACK, STATE_KEY_ARN, STATE_ROLE_ARN, Synth, run_main
from xacct_ops import handoff
from xacct_streaming.settings.catalog import select
from xacct_streaming.settings.config import props_from_mapping
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.fanout import FanoutPlanProps

SHARED = '${var.stream_share.stream_arn == "" ? 0 : 1}'
CONSUMERS = [{"name": "analytics", "account": "analytics"}, {"name": "billing", "account": "billing"}, {"name": "audit", "account": "producer", "read_mode": "polling"}]


def _split(**settings: Any) -> Any:
    return props_from_mapping({"kind": "xacct-kinesis-fanout", "stack_name": SPLIT_STACK, "split": True, "consumers": CONSUMERS, **settings})


def _paths(synth: Synth) -> set[tuple[str, str]]:
    return {(t, body["//"]["metadata"]["path"].split("/", 1)[1]) for t, bodies in synth.config["resource"].items() for body in bodies.values()}


def test_a_split_fanout_is_a_producer_plan_and_one_plan_per_consumer_account() -> None:
    # GIVEN the example's consumers, split
    fanout = _split()
    # WHEN the stacks are chosen: all of them, the fan-out by name, or one of its plans
    everything = [p.stack_name for p in select([fanout], [])]
    by_fanout = select([fanout], [SPLIT_STACK])
    one = select([fanout], [f"{SPLIT_STACK}-billing"])
    # THEN the fan-out is its three plans, the producer's first; audit lives in the producer's
    assert everything[-3:] == ["orders-split-producer", "orders-split-analytics", "orders-split-billing"]
    assert SPLIT_STACK not in everything
    assert [(p.account, [c.name for c in p.consumers], [c.name for c in p.remote_consumers]) for p in by_fanout] == [
        ("producer", ["audit"], ["analytics", "billing"]), ("analytics", ["analytics"], []), ("billing", ["billing"], []),
    ]
    assert [p.stack_name for p in one] == ["orders-split-billing"] and isinstance(one[0], FanoutPlanProps)


def test_a_plan_name_taken_by_another_stack_is_refused() -> None:
    other = props_from_mapping({"kind": "xacct-kinesis-fanout", "stack_name": "orders-split-billing", "consumers": [{"name": "x", "account": "y"}]})
    with pytest.raises(ConfigError, match=r"stack_name: 'orders-split-billing' is not allowed; expected a name not already used"):
        select([_split(), other], [])


@pytest.mark.parametrize(
    ("backend", "states"),
    [
        pytest.param({}, [None, None, None], id="local-default-per-stack-name"),
        pytest.param({"path": "state/fanout.tfstate"}, ["state/fanout.producer.tfstate", "state/fanout.analytics.tfstate", "state/fanout.billing.tfstate"], id="local-path"),
        pytest.param({"kind": "s3", "bucket": "tf-state", "key": "xacct/fanout", "region": "eu-west-1", "role_arn": STATE_ROLE_ARN, "kms_key_id": STATE_KEY_ARN},
                     ["xacct/fanout.producer.tfstate", "xacct/fanout.analytics.tfstate", "xacct/fanout.billing.tfstate"], id="s3-key"),
        pytest.param({"kind": "s3", "bucket": "tf-state", "region": "eu-west-1", "role_arn": STATE_ROLE_ARN, "kms_key_id": STATE_KEY_ARN, "environment": "prod"},
                     ["prod/orders-split-producer/terraform.tfstate", "prod/orders-split-analytics/terraform.tfstate", "prod/orders-split-billing/terraform.tfstate"],
                     id="s3-default-key-per-environment-and-plan"),
    ],
)
def test_each_plan_has_a_state_of_its_own(backend: dict[str, str], states: list[str | None]) -> None:
    plans = _split(backend=backend).plans()
    assert [p.backend.state_key(p.stack_name) if p.backend.kind == "s3" else p.backend.path for p in plans] == states


def test_each_plan_holds_one_account_provider(split_synths: dict[str, Synth]) -> None:
    # THEN no plan starts more than one AWS provider, each pinned to its account's variable
    providers = {account: synth.config["provider"]["aws"] for account, synth in split_synths.items()}
    assert {a: [(p["alias"], p["allowed_account_ids"]) for p in ps] for a, ps in providers.items()} == {
        "producer": [("producer", ["${var.producer_account_id}"])],
        "analytics": [("analytics", ["${var.consumer_account_id}"])],
        "billing": [("billing", ["${var.consumer_account_id}"])],
    }
    assert sorted(split_synths["producer"].config["variable"]) == ["producer_account_id", "producer_deploy_role_arn", "reader_role_arns", "region", "tags"]
    assert sorted(split_synths["billing"].config["variable"]) == ["consumer_account_id", "consumer_deploy_role_arn", "region", "stream_share", "tags"]


def test_the_plans_together_hold_exactly_the_single_plans_resources(split_synths: dict[str, Synth], fanout_synth: Synth) -> None:
    # GIVEN the same settings as one plan (orders-fanout) and split (orders-split)
    parts = [_paths(s) for s in split_synths.values()]
    # THEN every resource is in exactly one plan, and they are the single plan's resources
    assert sum(len(p) for p in parts) == len(set().union(*parts))
    assert set().union(*parts) == _paths(fanout_synth)


def test_the_producer_plan_shares_with_the_handed_over_roles(split_synths: dict[str, Synth]) -> None:
    producer = split_synths["producer"]
    _, stream_policy = producer.only("aws_kinesis_resource_policy", "shared-stream/stream-policy")
    principals = [s["Principal"]["AWS"] for s in json.loads(stream_policy["policy"])["Statement"]]
    assert principals == ["${var.reader_role_arns.analytics}", "${var.reader_role_arns.billing}"]
    _, consumer_policy = producer.only("aws_kinesis_resource_policy", "shared-stream/billing-consumer-policy")
    assert [s["Principal"]["AWS"] for s in json.loads(consumer_policy["policy"])["Statement"]] == ["${var.reader_role_arns.billing}"]
    _, key_policy = producer.only("aws_kms_key_policy", "shared-stream/key/policy")
    decrypt = [s["Principal"]["AWS"] for s in json.loads(key_policy["policy"])["Statement"] if s["Action"] == "kms:Decrypt"]
    assert decrypt == ["${var.reader_role_arns.analytics}", "${var.reader_role_arns.billing}"], key_policy["policy"]
    # the other accounts' functions are not here; audit's (producer account) is, with its mapping
    assert [b["function_name"] for b in producer.resources("aws_lambda_function").values()] == ["orders-split-audit"]
    assert len(producer.resources("aws_lambda_event_source_mapping")) == 1
    shares = producer.config["output"]["stream_shares"]["value"]
    assert sorted(shares) == ["analytics", "billing"]
    assert shares["billing"]["event_source_arns"] == {"billing": producer.ref("aws_kinesis_stream_consumer", "shared-stream/billing-consumer", "arn")}
    assert shares["analytics"]["stream_arn"] == producer.ref("aws_kinesis_stream", "shared-stream/stream", "arn")


def test_an_account_plan_reads_only_once_the_stream_is_shared(split_synths: dict[str, Synth]) -> None:
    billing = split_synths["billing"]
    assert not any(t.startswith("aws_kinesis") for t in billing.config["resource"])
    name, mapping = billing.only("aws_lambda_event_source_mapping")
    policy_name, policy = billing.only("aws_iam_role_policy", "stream-read-policy")
    # THEN the mapping and the read policy exist only with stream_share, the mapping after the policy
    assert (mapping["count"], policy["count"]) == (SHARED, SHARED)
    assert mapping["event_source_arn"] == "${var.stream_share.event_source_arns.billing}"
    assert f"aws_iam_role_policy.{policy_name}" in mapping["depends_on"]
    resources = {s["Sid"]: s["Resource"] for s in json.loads(policy["policy"])["Statement"]}
    assert resources == {
        "ReadSharedStream": "${var.stream_share.stream_arn}",
        "ReadSharedStreamConsumer": "${var.stream_share.event_source_arns.billing}",
        "DecryptSharedStreamViaKinesis": "${var.stream_share.key_arn}",
    }
    outputs = billing.config["output"]
    assert outputs["reader_role_arns"]["value"] == {"billing": billing.ref("aws_iam_role", "billing-function/role", "arn")}
    assert outputs["consumer_event_source_mapping_uuids"]["value"] == {"billing": f"${{one(aws_lambda_event_source_mapping.{name}[*].uuid)}}"}


PRODUCER_TFVARS = """region = "eu-west-1"
producer_account_id = "111111111111"
producer_deploy_role_arn = "arn:aws:iam::111111111111:role/terraform-deploy"
reader_role_arns = {
  analytics = "arn:aws:iam::333333333333:role/orders-split-analytics-role"
  billing   = "arn:aws:iam::444444444444:role/orders-split-billing-role"
}
"""
ACCOUNT_TFVARS = """region = "eu-west-1"
consumer_account_id = "444444444444"
consumer_deploy_role_arn = "arn:aws:iam::444444444444:role/terraform-deploy"
stream_share = {
  stream_arn        = "arn:aws:kinesis:eu-west-1:111111111111:stream/orders-split"
  key_arn           = "arn:aws:kms:eu-west-1:111111111111:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
  event_source_arns = { billing = "arn:aws:kinesis:eu-west-1:111111111111:stream/orders-split/consumer/orders-split-billing:1700000000" }
}
"""


def _plan_variables(synth: Synth, base: str, old: str | None, new: str | None, message: str | None, env: dict[str, str], workdir: Path) -> None:
    """Plans the stack's variable blocks alone with `base` (one edit applied): valid without a
    message, else rejected with the rule's message."""
    tfvars = base if old is None else base.replace(old, new or "")
    assert old is None or tfvars != base
    (workdir / "variables.tf.json").write_text(json.dumps({"variable": synth.config["variable"]}))
    (workdir / "test.tfvars").write_text(tfvars)
    result = subprocess.run(["terraform", "plan", "-input=false", "-no-color", "-var-file=test.tfvars"], cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    output = " ".join((result.stdout + result.stderr).split())
    if message is None:
        assert result.returncode == 0, output
    else:
        assert result.returncode == 1 and message in output, output


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(None, None, None, id="valid"),
        pytest.param('  billing   = "arn:aws:iam::444444444444:role/orders-split-billing-role"\n', "",
                     "reader_role_arns must have an entry for every consumer in another account: analytics, billing.", id="reader-missing"),
        pytest.param("role/orders-split-billing-role", "role/someone-else", "each consumer's entry must be its own execution role: analytics -> role/orders-split-analytics-role", id="not-its-role"),
        pytest.param('"arn:aws:iam::444444444444:role', '"arn:aws:iam::111111111111:role', "a role is in producer_account_id", id="role-in-producer-account"),
        pytest.param('"arn:aws:iam::444444444444:role', '"arn:aws-cn:iam::444444444444:role', "every role must be in the partition of region", id="other-partition"),
        pytest.param('"arn:aws:iam::444444444444:role', '"444444444444:role', "every value must be an IAM role ARN", id="not-an-arn"),
    ],
)
def test_reader_roles_are_validated_at_plan(split_synths: dict[str, Synth], terraform_env: dict[str, str], tmp_path: Path, old: str | None, new: str | None, message: str | None) -> None:
    _plan_variables(split_synths["producer"], PRODUCER_TFVARS, old, new, message, terraform_env, tmp_path)


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(None, None, None, id="valid"),
        pytest.param(ACCOUNT_TFVARS[ACCOUNT_TFVARS.index("stream_share"):], "", None, id="before-the-share"),
        pytest.param("{ billing = ", "{ analytics = ", "stream_share.event_source_arns must have an entry for every consumer of account billing: billing", id="source-missing"),
        pytest.param('  key_arn           = "arn:aws:kms:eu-west-1:111111111111:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"\n', "", "stream_share.key_arn must be set", id="key-missing"),
        pytest.param("kinesis:eu-west-1:111111111111:stream/orders-split\"", "kinesis:eu-central-1:111111111111:stream/orders-split\"", "stream_share.stream_arn must be in region", id="other-region"),
        pytest.param("kinesis:eu-west-1:111111111111:stream/orders-split\"", "kinesis:eu-west-1:444444444444:stream/orders-split\"", "stream_share.stream_arn is in consumer_account_id", id="own-account"),
        pytest.param("arn:aws:kinesis:eu-west-1:111111111111:stream/orders-split\"", "orders-split\"", "must be empty or a Kinesis stream ARN", id="not-an-arn"),
    ],
)
def test_stream_share_is_validated_at_plan(split_synths: dict[str, Synth], terraform_env: dict[str, str], tmp_path: Path, old: str | None, new: str | None, message: str | None) -> None:
    _plan_variables(split_synths["billing"], ACCOUNT_TFVARS, old, new, message, terraform_env, tmp_path)


@pytest.mark.terraform
def test_every_plan_validates(split_synths: dict[str, Synth], terraform_env: dict[str, str], tmp_path: Path) -> None:
    import shutil

    for account, synth in split_synths.items():
        workdir = tmp_path / account / "out" / "stacks" / synth.stack_dir.name
        shutil.copytree(synth.stack_dir, workdir)
        for args in (["init", "-backend=false", "-input=false", "-no-color"], ["validate", "-no-color"]):
            result = subprocess.run(["terraform", *args], cwd=workdir, env=terraform_env, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stdout + result.stderr
        assert "Warning" not in result.stdout + result.stderr, account


# --- handoff ---


def _outputs(values: dict[str, dict[str, Any]]) -> Any:
    """A stand-in for `terraform output -json <name>` in each directory."""
    return lambda stack_dir, name: values[stack_dir.name][name]


@pytest.fixture
def plan_dirs(split_synths: dict[str, Synth], tmp_path: Path) -> dict[str, Path]:
    import shutil

    dirs = {}
    for account, synth in split_synths.items():
        dirs[account] = tmp_path / synth.stack_dir.name
        shutil.copytree(synth.stack_dir, dirs[account])
    return dirs


def test_handoff_readers_merges_every_account_plans_roles(plan_dirs: dict[str, Path]) -> None:
    # GIVEN both account plans applied (their reader_role_arns outputs)
    outputs = _outputs({
        "orders-split-analytics": {"reader_role_arns": {"analytics": "arn:aws:iam::333333333333:role/orders-split-analytics-role"}},
        "orders-split-billing": {"reader_role_arns": {"billing": "arn:aws:iam::444444444444:role/orders-split-billing-role"}},
    })
    # WHEN handed to the producer plan
    handoff.readers(plan_dirs["producer"], [plan_dirs["analytics"], plan_dirs["billing"]], output=outputs)
    # THEN its auto-loaded tfvars hold both roles, by consumer name
    assert json.loads((plan_dirs["producer"] / handoff.HANDOFF_FILE).read_text()) == {"reader_role_arns": {
        "analytics": "arn:aws:iam::333333333333:role/orders-split-analytics-role", "billing": "arn:aws:iam::444444444444:role/orders-split-billing-role",
    }}


def test_handoff_share_gives_each_account_its_own_entry(plan_dirs: dict[str, Path]) -> None:
    share = {"stream_arn": "arn:aws:kinesis:eu-west-1:111111111111:stream/s", "key_arn": None, "event_source_arns": {"billing": "arn:aws:kinesis:eu-west-1:111111111111:stream/s"}}
    outputs = _outputs({"orders-split-producer": {"stream_shares": {"billing": share, "analytics": {**share, "event_source_arns": {"analytics": "x"}}}}})
    handoff.share(plan_dirs["producer"], [plan_dirs["billing"]], output=outputs)
    assert json.loads((plan_dirs["billing"] / handoff.HANDOFF_FILE).read_text()) == {"stream_share": share}
    assert not (plan_dirs["analytics"] / handoff.HANDOFF_FILE).exists()


@pytest.mark.parametrize(
    ("step", "values", "message"),
    [
        pytest.param("readers", {"orders-split-analytics": {"reader_role_arns": {}}, "orders-split-billing": {"reader_role_arns": {"b": "r"}}},
                     "orders-split-analytics: its reader_role_arns output is empty; apply that plan first", id="account-not-applied"),
        pytest.param("readers", {"orders-split-analytics": {"reader_role_arns": {"x": "r1"}}, "orders-split-billing": {"reader_role_arns": {"x": "r2"}}},
                     "consumer 'x' is in two account plans", id="consumer-twice"),
        pytest.param("share", {"orders-split-producer": {"stream_shares": {}}}, "its stream_shares output is empty; apply the producer plan first", id="producer-not-applied"),
        pytest.param("share", {"orders-split-producer": {"stream_shares": {"analytics": {}}}},
                     "the producer plan shares nothing with account 'billing' (it shares with analytics)", id="account-not-shared"),
    ],
)
def test_handoff_refuses_what_cannot_be_right(plan_dirs: dict[str, Path], step: str, values: dict[str, Any], message: str) -> None:
    accounts = [plan_dirs["analytics"], plan_dirs["billing"]]
    with pytest.raises(handoff.HandoffError, match=message.replace("(", r"\(").replace(")", r"\)")):
        getattr(handoff, step)(plan_dirs["producer"], accounts, output=_outputs(values))
    assert not any((d / handoff.HANDOFF_FILE).exists() for d in plan_dirs.values())


def test_handoff_cli_names_a_directory_that_is_not_a_plan(plan_dirs: dict[str, Path], tmp_path: Path) -> None:
    from conftest import PYTHON, ROOT

    result = subprocess.run([PYTHON, "-m", "xacct_ops.handoff", "readers", "--to", str(plan_dirs["billing"]), str(plan_dirs["analytics"])],
                            cwd=ROOT, env={"PYTHONPATH": str(ROOT / "constructs")}, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr.strip()) == (2, f"error: {plan_dirs['billing']}: not the producer plan of a split fan-out (it has no reader_role_arns variable)")


@pytest.mark.slow  # seconds of CPU in a synth of its own: make test
def test_a_new_synth_keeps_the_handed_over_values(tmp_path: Path) -> None:
    # GIVEN a split fan-out synthesized, and a handoff file in one plan
    settings = tmp_path / "split.toml"
    settings.write_text('kind = "xacct-kinesis-fanout"\nstack_name = "kept"\nsplit = true\n[[consumers]]\nname = "a"\naccount = "team_a"\n')
    assert run_main("--outdir", str(tmp_path / "out"), "--config", str(settings)).returncode == 0
    (tmp_path / "out/stacks/kept-team-a" / handoff.HANDOFF_FILE).write_text('{"stream_share": {}}\n')
    # WHEN synthesized again
    result = run_main("--outdir", str(tmp_path / "out"), "--config", str(settings), "--stack", "kept")
    # THEN both plans are rewritten and the handoff is still there
    assert result.returncode == 0, result.stderr
    assert [line.rsplit("/", 1)[-1] for line in result.stdout.splitlines()] == ["kept-producer", "kept-team-a"]
    assert (tmp_path / "out/stacks/kept-team-a" / handoff.HANDOFF_FILE).read_text() == '{"stream_share": {}}\n'


def test_the_producer_plans_policies_are_the_single_plans_with_the_handed_over_roles(split_synths: dict[str, Synth], fanout_synth: Synth) -> None:
    # GIVEN the single plan's sharing policies (the ones make policy-check evaluates), by construct path
    import re

    def policies(synth: Synth) -> dict[str, str]:
        return {body["//"]["metadata"]["path"].split("/", 1)[1]: body["policy"]
                for t in ("aws_kinesis_resource_policy", "aws_kms_key_policy") for body in synth.resources(t).values()
                if body["//"]["metadata"]["path"].split("/")[1] == "shared-stream"}

    single = {path: re.sub(r"\$\{aws_iam_role\.([a-z]+)-function_role_[0-9A-F]{8}\.arn\}", r"${var.reader_role_arns.\1}", policy)
              for path, policy in policies(fanout_synth).items()}
    split = {path: policy.replace("orders-split", "orders-fanout") for path, policy in policies(split_synths["producer"]).items()}
    # THEN the split producer plan's are the same documents, each role reference now its handed-over ARN
    assert sorted(split) == ["shared-stream/analytics-consumer-policy", "shared-stream/billing-consumer-policy", "shared-stream/key/policy", "shared-stream/stream-policy"]
    assert split == single
