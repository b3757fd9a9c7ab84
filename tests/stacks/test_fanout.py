"""Fan-out: one stream read by N consumers in up to N accounts (examples/fanout.toml: analytics and
billing in accounts of their own through EFO, audit polling in the producer account)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import FANOUT_SETTINGS, ROOT, Synth, run_main
from xacct_streaming import framework
from xacct_streaming.settings.config import load_stacks, props_from_mapping
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.fanout import FanoutConsumerProps, FanoutStackProps

CROSS_ACCOUNT = ("analytics", "billing")


def _role(synth: Synth, consumer: str) -> str:
    return synth.ref("aws_iam_role", f"{consumer}-function/role", "arn")


def _statements(body: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(body["policy"])["Statement"]


def test_one_provider_per_account_each_pinned_to_its_account(fanout_synth: Synth) -> None:
    providers = {p["alias"]: p for p in fanout_synth.config["provider"]["aws"]}
    assert list(providers) == ["producer", *CROSS_ACCOUNT]
    for name in CROSS_ACCOUNT:
        assert providers[name]["allowed_account_ids"] == [f"${{var.consumer_accounts.{name}.account_id}}"]
        assert providers[name]["assume_role"][0]["role_arn"] == f"${{var.consumer_accounts.{name}.deploy_role_arn}}"
    # each consumer's function lives in its own account, the audit reader in the producer's
    functions = {body["function_name"]: body["provider"] for body in fanout_synth.resources("aws_lambda_function").values()}
    assert functions == {
        "orders-fanout-analytics": "aws.analytics", "orders-fanout-billing": "aws.billing", "orders-fanout-audit": "aws.producer",
    }


def test_the_streams_one_policy_names_exactly_the_cross_account_readers(fanout_synth: Synth) -> None:
    _, policy = fanout_synth.only("aws_kinesis_resource_policy", "shared-stream/stream-policy")
    statements = _statements(policy)
    assert [s["Principal"]["AWS"] for s in statements] == [_role(fanout_synth, c) for c in CROSS_ACCOUNT]
    assert {tuple(s["Action"]) for s in statements} == {
        ("kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards")
    }
    assert {s["Resource"] for s in statements} == {fanout_synth.ref("aws_kinesis_stream", "shared-stream/stream", "arn")}


def test_each_efo_consumer_is_shared_with_its_own_reader_alone(fanout_synth: Synth) -> None:
    consumers = {body["name"]: body for body in fanout_synth.resources("aws_kinesis_stream_consumer").values()}
    assert sorted(consumers) == [f"orders-fanout-{c}" for c in sorted(CROSS_ACCOUNT)]  # audit polls: no EFO consumer
    for name in CROSS_ACCOUNT:
        _, policy = fanout_synth.only("aws_kinesis_resource_policy", f"shared-stream/{name}-consumer-policy")
        (statement,) = _statements(policy)
        assert statement["Principal"] == {"AWS": _role(fanout_synth, name)}
        assert statement["Resource"] == fanout_synth.ref("aws_kinesis_stream_consumer", f"shared-stream/{name}-consumer", "arn")


def test_the_key_lets_exactly_the_cross_account_readers_decrypt_via_kinesis(fanout_synth: Synth) -> None:
    _, key_policy = fanout_synth.only("aws_kms_key_policy", "shared-stream/key/policy")
    decrypt = [s for s in _statements(key_policy) if s["Sid"] != "KeyOwnerAccount"]
    assert [s["Principal"]["AWS"] for s in decrypt] == [_role(fanout_synth, c) for c in CROSS_ACCOUNT]
    assert {(s["Action"], json.dumps(s["Condition"])) for s in decrypt} == {
        ("kms:Decrypt", json.dumps({"StringEquals": {"kms:ViaService": "kinesis.${var.region}.amazonaws.com"}}))
    }


def test_each_mapping_waits_for_its_own_policies_only(fanout_synth: Synth) -> None:
    stream_policy = fanout_synth.address("aws_kinesis_resource_policy", "shared-stream/stream-policy")
    key_policy = fanout_synth.address("aws_kms_key_policy", "shared-stream/key/policy")
    for name in CROSS_ACCOUNT:
        _, mapping = fanout_synth.only("aws_lambda_event_source_mapping", f"{name}-mapping/mapping")
        assert mapping["event_source_arn"] == fanout_synth.ref("aws_kinesis_stream_consumer", f"shared-stream/{name}-consumer", "arn")
        consumer_policies = {a for a in mapping["depends_on"] if a.startswith("aws_kinesis_resource_policy.shared-stream_") and "consumer-policy" in a}
        assert consumer_policies == {fanout_synth.address("aws_kinesis_resource_policy", f"shared-stream/{name}-consumer-policy")}
        assert {stream_policy, key_policy} <= set(mapping["depends_on"])
    # the producer-account reader polls the stream itself and waits for no resource policy
    _, audit = fanout_synth.only("aws_lambda_event_source_mapping", "audit-mapping/mapping")
    assert audit["event_source_arn"] == fanout_synth.ref("aws_kinesis_stream", "shared-stream/stream", "arn")
    assert not {stream_policy, key_policy} & set(audit["depends_on"])
    assert not any(a.startswith("aws_kinesis_resource_policy") for a in audit["depends_on"])


def test_accounts_variable_rules(fanout_synth: Synth) -> None:
    variables = fanout_synth.config["variable"]
    assert "consumer_account_id" not in variables and "consumer_deploy_role_arn" not in variables
    assert variables["consumer_accounts"]["type"] == "map(object({account_id = string, deploy_role_arn = string}))"
    last = variables["consumer_accounts"]["validation"][-1]
    assert last["condition"] == '${alltrue([for name in ["analytics", "billing"] : contains(keys(var.consumer_accounts), name)])}'


FANOUT_TFVARS = """region = "eu-west-1"
producer_account_id = "111111111111"
producer_deploy_role_arn = "arn:aws:iam::111111111111:role/terraform-deploy"
consumer_accounts = {
  analytics = { account_id = "333333333333", deploy_role_arn = "arn:aws:iam::333333333333:role/terraform-deploy" }
  billing   = { account_id = "444444444444", deploy_role_arn = "arn:aws:iam::444444444444:role/terraform-deploy" }
}
"""


def test_example_tfvars_block_is_the_one_tested_here() -> None:
    # terraform.tfvars.example carries the same map, commented out (the other stacks do not declare it)
    example = (ROOT / "terraform.tfvars.example").read_text()
    block = FANOUT_TFVARS[FANOUT_TFVARS.index("consumer_accounts"):]
    assert "\n".join(f"# {line}" for line in block.strip().splitlines()) in example


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(None, None, None, id="valid"),
        pytest.param('  billing   = { account_id = "444444444444", deploy_role_arn = "arn:aws:iam::444444444444:role/terraform-deploy" }\n', "",
                     "consumer_accounts must have an entry for every account the settings name: analytics, billing.", id="account-missing"),
        pytest.param('"444444444444", deploy_role_arn = "arn:aws:iam::444444444444', '"333333333333", deploy_role_arn = "arn:aws:iam::333333333333',
                     "two names have the same account_id", id="same-id-twice"),
        pytest.param('"444444444444", deploy_role_arn = "arn:aws:iam::444444444444', '"111111111111", deploy_role_arn = "arn:aws:iam::111111111111',
                     "an account_id is producer_account_id", id="producer-id-as-consumer"),
        pytest.param('account_id = "444444444444"', 'account_id = "44444"', "every account_id must be exactly 12 digits", id="short-id"),
        pytest.param('"arn:aws:iam::444444444444:role/terraform-deploy"', '"arn:aws:iam::666666666666:role/terraform-deploy"',
                     "every deploy_role_arn must be an IAM role ARN in its own account_id", id="role-in-another-account"),
        pytest.param('"arn:aws:iam::444444444444:role/terraform-deploy"', '"arn:aws-cn:iam::444444444444:role/terraform-deploy"',
                     "every deploy_role_arn must be in the partition of region", id="role-in-another-partition"),
        pytest.param("  analytics = {", "  producer = {", 'not "producer"', id="producer-as-a-name"),
    ],
)
def test_consumer_accounts_are_validated_at_plan(
    fanout_synth: Synth, terraform_env: dict[str, str], tmp_path: Path, old: str | None, new: str | None, message: str | None
) -> None:
    # GIVEN the fan-out stack's variable blocks alone and the example map with one change
    (tmp_path / "variables.tf.json").write_text(json.dumps({"variable": fanout_synth.config["variable"]}))
    tfvars = FANOUT_TFVARS if old is None else FANOUT_TFVARS.replace(old, new or "")
    assert old is None or tfvars != FANOUT_TFVARS
    (tmp_path / "test.tfvars").write_text(tfvars)
    # WHEN planned
    result = subprocess.run(["terraform", "plan", "-input=false", "-no-color", "-var-file=test.tfvars"], cwd=tmp_path, env=terraform_env,
                            capture_output=True, text=True, timeout=120)
    output = " ".join((result.stdout + result.stderr).split())
    # THEN the example passes every rule; each change fails with the rule that says what to fix
    if message is None:
        assert result.returncode == 0, output
    else:
        assert result.returncode == 1 and message in output, output


@pytest.mark.terraform
def test_fanout_stack_validates(fanout_synth: Synth, terraform_env: dict[str, str], tmp_path: Path) -> None:
    import shutil

    workdir = tmp_path / "out" / "stacks" / "orders-fanout"
    shutil.copytree(fanout_synth.stack_dir, workdir)
    for args in (["init", "-backend=false", "-input=false", "-no-color"], ["validate", "-no-color"]):
        result = subprocess.run(["terraform", *args], cwd=workdir, env=terraform_env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr


def test_removing_a_consumer_changes_only_its_resources_and_the_shared_policies(tmp_path: Path) -> None:
    from xacct_streaming.synthesis.synth import synthesize

    # GIVEN the example with four consumers, and the same without billing
    (four,) = load_stacks(str(FANOUT_SETTINGS))
    three = dataclasses.replace(four, consumers=tuple(c for c in four.consumers if c.name != "billing"))
    configs = {}
    for label, props in (("four", four), ("three", three)):
        synthesize([props], outdir=tmp_path / label)
        configs[label] = json.loads((tmp_path / label / "stacks" / props.stack_name / "cdk.tf.json").read_text())

    def resources(config: dict[str, Any]) -> dict[str, Any]:
        return {f"{t}.{n}": body for t, bodies in config["resource"].items() for n, body in bodies.items()}

    before, after = resources(configs["four"]), resources(configs["three"])
    # THEN what goes is billing's, and every other resource but the shared policies is byte-identical
    gone = sorted(set(before) - set(after))
    assert gone and all("billing" in address for address in gone)
    assert set(after) <= set(before)
    changed = sorted(a for a in after if after[a] != before[a])
    assert changed == sorted([
        next(a for a in after if a.startswith("aws_kinesis_resource_policy.shared-stream_stream-policy")),
        next(a for a in after if a.startswith("aws_kms_key_policy.shared-stream_key_policy")),
    ])
    assert configs["three"]["provider"]["aws"] == [p for p in configs["four"]["provider"]["aws"] if p["alias"] != "billing"]


@pytest.mark.slow  # seconds of CPU in a synth of its own: make test
def test_consumers_running_the_same_code_share_one_archive(fanout_synth: Synth, tmp_path: Path) -> None:
    # GIVEN the example's three consumers on the built-in runtime
    functions = fanout_synth.resources("aws_lambda_function")
    # THEN all three deploy the one archive the output holds
    assert {f["filename"] for f in functions.values()} == {next(iter(functions.values()))["filename"]}
    assert len(functions) == 3
    assert [p.name for p in (fanout_synth.stack_dir / "assets").glob("*/*/*.zip")] == [Path(next(iter(functions.values()))["filename"]).name]

    # GIVEN a fourth consumer, ledger, running the team's own code
    settings = tmp_path / "own.toml"
    own_code = f'{{ source_dir = "{ROOT / "examples" / "orders_reader"}", handler = "app.lambda_handler", runtime = "python3.13" }}'
    settings.write_text(FANOUT_SETTINGS.read_text().replace(
        '{ name = "billing", account = "billing" }', f'{{ name = "billing", account = "billing" }},\n  {{ name = "ledger", account = "billing", function = {own_code} }}'
    ))
    # WHEN synthesized
    result = run_main("--outdir", str(tmp_path / "out"), "--config", str(settings), "--stack", "orders-fanout")
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "out" / "stacks" / "orders-fanout" / "cdk.tf.json").read_text())
    by_name = {f["function_name"]: f for f in config["resource"]["aws_lambda_function"].values()}
    # THEN the built-in consumers still share one archive, and ledger has one of its own
    assert sorted(by_name) == ["orders-fanout-analytics", "orders-fanout-audit", "orders-fanout-billing", "orders-fanout-ledger"]
    assert len({by_name[n]["filename"] for n in ("orders-fanout-analytics", "orders-fanout-billing", "orders-fanout-audit")}) == 1
    assert by_name["orders-fanout-ledger"]["filename"] != by_name["orders-fanout-analytics"]["filename"]
    assert by_name["orders-fanout-ledger"]["source_code_hash"] == f'${{filebase64sha256("{by_name["orders-fanout-ledger"]["filename"]}")}}'
    assert len(list((tmp_path / "out" / "stacks" / "orders-fanout" / "assets").glob("*/*/*.zip"))) == 2


@pytest.mark.parametrize(
    ("data", "field", "allowed"),
    [
        pytest.param({"consumers": [{"name": "a", "account": "x"}, {"name": "a", "account": "y"}]}, "consumers.a.name", "not already used by consumer 'a'", id="same-name-twice"),
        pytest.param({"consumers": [{"name": f"c{i}", "account": f"a{i}"} for i in range(21)]}, "consumers",
                     "at most 20 per stream (Kinesis' limit); let the others poll, or 50 with stream.on_demand_advantage = true", id="twenty-one-efo"),
        pytest.param({"stream": {"on_demand_advantage": True}, "consumers": [{"name": f"c{i}", "account": "producer"} for i in range(51)]}, "consumers",
                     "at most 50 per stream (Kinesis' limit in On-demand Advantage); let the others poll", id="fifty-one-efo-in-advantage"),
        pytest.param({"consumers": [{"name": "a", "account": "Team A"}]}, "consumers.account", "a logical account name", id="account-name"),
        pytest.param({"consumers": [{"name": "a", "account": "x", "read_mode": "push"}]}, "consumers.a.read_mode", "'enhanced_fan_out', 'polling'", id="read-mode"),
        pytest.param({"consumers": [{"name": "a", "account": "x", "read_mode": "polling", "consumer_name": "c"}]}, "consumers.a.consumer_name", "no value when read_mode is 'polling'", id="polling-with-efo-name"),
        pytest.param({"consumers": [{"name": "a", "account": "x", "function": {"memory_size_mb": 64}}]}, "consumers.a.function.memory_size_mb", "from 128 to 10240", id="function-setting"),
        pytest.param({"consumers": [{"name": "a", "account": "x", "mapping": {"batchsize": 5}}]}, "consumers.a.mapping.batchsize", "'batch_size'?", id="mapping-typo"),
        pytest.param({"consumers": [{"name": "a"}]}, "consumers", "a [[consumers]] table with 'account'", id="account-missing"),
        pytest.param({"consumers": []}, "consumers", "one or more [[consumers]] tables", id="no-consumers"),
        pytest.param({"consumers": [{"name": "a", "account": "x", "function": {"function_name": "same", "key_alias": "alias/k1"}},
                                    {"name": "b", "account": "x", "function": {"function_name": "same", "key_alias": "alias/k2"}}]},
                     "consumers.b.function.function_name", "in the same account", id="function-name-clash-in-one-account"),
        pytest.param({"consumers": [{"name": f"c{i}", "account": f"a{i}", "read_mode": "polling", "function": {"function_name": f"f{i}" + "x" * 45, "key_alias": f"alias/k{i}"}} for i in range(45)]},
                     "consumers", "at most 20480 bytes", id="stream-policy-too-large"),
        pytest.param({"stream": {"stream_mode": "PROVISIONED", "shard_count": 12},
                      "consumers": [{"name": "a", "account": "x", "function": {"reserved_concurrency": -1}}, {"name": "b", "account": "y"}]},
                     "consumers.b.function.reserved_concurrency", "at least 12 (stream.shard_count 12 x consumers.b.mapping.parallelization_factor 1",
                     id="reservation-below-the-shards"),
        pytest.param({"split": "yes", "consumers": [{"name": "a", "account": "x"}]}, "split", "true or false", id="split-not-a-boolean"),
        pytest.param({"split": True, "retired_accounts": ["y"], "consumers": [{"name": "a", "account": "x"}]}, "retired_accounts",
                     "no value with split = true", id="retired-account-in-split-mode"),
    ],
)
def test_bad_fanout_settings(data: dict[str, Any], field: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as caught:
        props_from_mapping({"kind": "xacct-kinesis-fanout", **data})
    assert caught.value.field == field
    assert allowed in str(caught.value)


def test_more_than_two_polling_readers_warn_at_synth(tmp_path: Path) -> None:
    # GIVEN three readers that poll
    settings = tmp_path / "polling.toml"
    settings.write_text('kind = "xacct-kinesis-fanout"\n' + "".join(
        f'[[consumers]]\nname = "{n}"\naccount = "{a}"\nread_mode = "polling"\n' for n, a in (("a", "x"), ("b", "y"), ("c", "producer"))
    ))
    # WHEN synthesized
    result = run_main("--outdir", str(tmp_path / "out"), "--config", str(settings), "--stack", "xacct-kinesis-fanout")
    # THEN it is written, with one warning line naming them and what they share
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "warning: xacct-kinesis-fanout: 3 consumers poll the stream (a, b, c): they share its 5 GetRecords/s per shard, "
        'so each reads less often; give some read_mode = "enhanced_fan_out"'
    ]


def test_fanout_is_synthesized_only_when_configured() -> None:
    from xacct_streaming.settings.catalog import select

    assert "xacct-kinesis-fanout" not in [p.stack_name for p in select([], [])]
    assert [c.name for c in FanoutStackProps().consumers] == ["analytics", "billing", "audit"]
    assert FanoutConsumerProps(name="x", account="y").completed("s").function.function_name == "s-x"  # type: ignore[union-attr]


def test_a_retired_account_keeps_its_provider_for_one_apply() -> None:
    # GIVEN the example without billing, its account retired
    props = props_from_mapping({"kind": "xacct-kinesis-fanout", "retired_accounts": ["billing"],
                                "consumers": [{"name": "analytics", "account": "analytics"}]})
    # THEN billing's provider stays (Terraform needs it to destroy what billing left there)
    assert props.accounts == ["analytics", "billing"]
    with pytest.raises(ConfigError, match=r"retired_accounts: 'analytics' is not allowed; expected an account no consumer uses"):
        props_from_mapping({"kind": "xacct-kinesis-fanout", "retired_accounts": ["analytics"], "consumers": [{"name": "a", "account": "analytics"}]})


def test_on_demand_advantage_takes_fifty_efo_consumers() -> None:
    # GIVEN an On-demand Advantage producer account: 50 enhanced fan-out readers of one stream
    props = props_from_mapping({"kind": "xacct-kinesis-fanout", "stream": {"on_demand_advantage": True},
                                "consumers": [{"name": f"c{i:02d}", "account": "producer" if i >= 4 else "analytics"} for i in range(50)]})
    # THEN all of them read through a consumer of their own
    assert [c.enhanced_fan_out for c in props.consumers] == [True] * 50


@pytest.mark.slow  # a synth of its own
def test_a_warmed_stream_is_written_on_aws_6_and_refused_on_aws_5(tmp_path: Path) -> None:
    # GIVEN the On-demand Advantage fan-out (make check-cdktn's set) with warm throughput
    settings = tmp_path / "warm.toml"
    settings.write_text((ROOT / "tests/configs/fanout-advantage.toml").read_text() + "warm_throughput_mib_ps = 200\n")
    # WHEN synthesized on the framework line of this run (XACCT_FRAMEWORK: make check-cdktn runs this file on cdktn)
    result = run_main("--outdir", str(tmp_path / "out"), "--config", str(settings))
    if framework.line().aws_major < 6:
        # THEN aws 5.100.0: refused at synth, naming the setting, and nothing written
        assert result.returncode == 2
        assert result.stderr.startswith(f"error: {settings}: stream.warm_throughput_mib_ps: 200 is not allowed; expected no value on the cdktf line")
        assert not (tmp_path / "out").exists()
        return
    # THEN aws 6.x: the stream asks for it, and its EFO consumers carry the stream's tags
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "out" / "stacks" / "advantage" / "cdk.tf.json").read_text())
    (stream,) = config["resource"]["aws_kinesis_stream"].values()
    assert (stream["warm_throughput_mib_ps"], stream["tags"]) == (200, {"data-class": "orders"})
    consumers = config["resource"]["aws_kinesis_stream_consumer"].values()
    assert [c["tags"] for c in consumers] == [{"data-class": "orders"}] * 21
