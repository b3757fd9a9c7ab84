"""main.py as users run it: bad settings fail fast, name the field, and leave old output alone."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import ALL_STACKS, DEFAULT_STACK, ROOT, run_main


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("config_text", "expected"),
    [
        pytest.param("[mapping]\nbatch_size = 20000\n", "error: mapping.batch_size: 20000 is not allowed; expected an integer from 1 to 10000", id="range"),
        pytest.param('[stream]\nstream_mode = "PROVISIONED"\n', "error: stream.shard_count: None is not allowed; expected an integer from 1 to 500", id="missing-shards"),
        pytest.param("[function]\nmemory = 512\n", "error: function.memory: 512 is not allowed; expected 'memory_size_mb'? a known key:", id="unknown-key"),
        pytest.param("[backend\n", "error: config file: ", id="not-toml"),
    ],
)
def test_bad_config_exits_2_and_leaves_previous_output_untouched(tmp_path: Path, config_text: str, expected: str) -> None:
    # GIVEN a previous output and a bad settings file
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / DEFAULT_STACK).mkdir(parents=True)
    (outdir / "stacks" / DEFAULT_STACK / "cdk.tf.json").write_text('{"previous": true}')
    before = _snapshot(outdir)
    config = tmp_path / "settings.toml"
    config.write_text(config_text)
    # WHEN
    result = run_main("--outdir", str(outdir), "--config", str(config))
    # THEN
    assert result.returncode == 2
    assert result.stderr.startswith(expected), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, "one line, no traceback"
    assert _snapshot(outdir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out", "settings.toml"], "no staging left behind"


def test_config_also_comes_from_the_environment(tmp_path: Path) -> None:
    result = run_main("--outdir", str(tmp_path / "out"), env={"XACCT_CONFIG": str(ROOT / "tests/configs/bad-batch-size.toml")})
    assert result.returncode == 2
    assert "mapping.batch_size: 20000" in result.stderr


def test_cli_output_layout(cli_outdir: Path) -> None:
    # GIVEN `python main.py --outdir ...` (session fixture)
    stack_dir = cli_outdir / "stacks" / DEFAULT_STACK
    # THEN every stack with its config and its function's archive (named by its SHA-256), and a manifest naming them
    assert (stack_dir / "cdk.tf.json").is_file()
    archives = list((stack_dir / "assets").rglob("*.zip"))
    assert len(archives) == 1
    assert archives[0].name == hashlib.sha256(archives[0].read_bytes()).hexdigest() + ".zip"
    manifest = json.loads((cli_outdir / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == sorted(ALL_STACKS)
    assert oct(cli_outdir.stat().st_mode & 0o777) == "0o755"
    assert [p.name for p in cli_outdir.parent.iterdir()] == ["cdktf.out"], "no staging or retired directory left"


def test_cdktf_json_runs_this_app_with_the_venv_python() -> None:
    settings = json.loads((ROOT / "cdktf.json").read_text())
    assert settings["language"] == "python"
    assert settings["app"] == ".venv/bin/python main.py"
    assert settings["output"] == "cdktf.out"


def test_failure_during_synthesis_keeps_previous_output(tmp_path: Path) -> None:
    from xacct_streaming.settings.props import StackProps
    from xacct_streaming.synthesis.synth import synthesize

    from xacct_streaming.settings.errors import ConfigError
    from xacct_streaming.settings.props import ConsumerFunctionProps

    # GIVEN a previous output and a function whose own variable collides with the stack's wiring,
    # which only the construct can tell (half-way through synthesis)
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks").mkdir(parents=True)
    (outdir / "stacks" / "marker.json").write_text("{}")
    props = StackProps(function=ConsumerFunctionProps(environment={"TABLE_NAME": "mine"}))
    # WHEN synthesis fails half-way
    with pytest.raises(ConfigError, match="function.environment.TABLE_NAME: 'mine'.*a name the stack sets itself"):
        synthesize([props], outdir=outdir)
    # THEN the previous output is as it was and no staging directory is left
    assert _snapshot(outdir) == {"stacks/marker.json": b"{}"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_make_synth_is_a_no_op_when_nothing_changed(tmp_path: Path) -> None:
    from conftest import run_make

    # GIVEN a first `make synth` into a fresh output dir
    outdir = tmp_path / "cdktf.out"
    first = run_make("synth", OUTDIR=outdir)
    assert first.returncode == 0, first.stderr
    assert "synthesized " in first.stdout
    manifest = (outdir / "manifest.json").stat().st_mtime_ns
    # WHEN it runs again with nothing changed
    second = run_make("synth", OUTDIR=outdir)
    # THEN the app does not run and the output is not rewritten
    assert second.returncode == 0, second.stderr
    assert "main.py" not in second.stdout and "synthesized" not in second.stdout
    assert (outdir / "manifest.json").stat().st_mtime_ns == manifest


ORDERS = """
stack_name = "{stack}"
[stream]
stream_name = "orders"
consumer_name = "orders-consumer"
key_alias = "alias/orders-stream"
[function]
function_name = "{function}"
key_alias = "alias/{function}"
[sink]
table_name = "{function}-sink"
"""


def test_stack_option_replaces_only_those_stacks_directories(tmp_path: Path) -> None:
    # GIVEN every stack synthesized, and Terraform's files in two stacks' directories
    outdir = tmp_path / "cdktf.out"
    assert run_main("--outdir", str(outdir)).returncode == 0
    kept = outdir / "stacks" / "xacct-kinesis-efo"
    (kept / ".terraform").mkdir()
    (kept / "tfplan").write_text("a saved plan")
    replaced = outdir / "stacks" / "xacct-dynamodb-streams"
    (replaced / ".terraform").mkdir()
    (replaced / "stray-file").write_text("not from a synthesis")
    before = (kept / "cdk.tf.json").read_text()
    # WHEN one stack is synthesized again
    result = run_main("--stack", "xacct-dynamodb-streams", "--outdir", str(outdir))
    # THEN the other stacks are untouched (their plans too), that stack is replaced whole but keeps
    # .terraform/, and the manifest still lists every stack
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == sorted(ALL_STACKS)
    assert (kept / "tfplan").read_text() == "a saved plan" and (kept / ".terraform").is_dir()
    assert (kept / "cdk.tf.json").read_text() == before
    assert (replaced / ".terraform").is_dir() and not (replaced / "stray-file").exists()
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == sorted(ALL_STACKS)
    assert [p.name for p in outdir.parent.iterdir()] == ["cdktf.out"] and not list(outdir.glob(".*"))


def test_several_settings_files_make_several_stacks_of_one_kind(tmp_path: Path) -> None:
    # GIVEN two settings files of the core kind with their own names
    first, second = tmp_path / "orders.toml", tmp_path / "payments.toml"
    first.write_text(ORDERS.format(stack="orders-stream", function="orders-consumer"))
    second.write_text(ORDERS.format(stack="payments-stream", function="payments-consumer").replace('"orders', '"payments').replace("/orders", "/payments"))
    # WHEN both are given
    outdir = tmp_path / "out"
    result = run_main("--config", str(first), "--config", str(second), "--outdir", str(outdir))
    # THEN both instances replace the core kind's default stack, next to the other kinds' defaults
    assert result.returncode == 0, result.stderr
    stacks = sorted(p.name for p in (outdir / "stacks").iterdir())
    assert stacks == sorted(["orders-stream", "payments-stream", *ALL_STACKS[1:]])
    names = {json.loads((outdir / "stacks" / s / "cdk.tf.json").read_text())["resource"]["aws_kinesis_stream"].popitem()[1]["name"] for s in ("orders-stream", "payments-stream")}
    assert names == {"orders", "payments"}


def test_two_stacks_with_the_same_aws_name_fail_naming_both(tmp_path: Path) -> None:
    # GIVEN a previous output, and two settings files whose stacks would create the same stream
    outdir = tmp_path / "out"
    (outdir / "stacks").mkdir(parents=True)
    (outdir / "marker").write_text("previous output")
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(ORDERS.format(stack="orders-a", function="orders-a"))
    second.write_text(ORDERS.format(stack="orders-b", function="orders-b"))
    # WHEN
    result = run_main("--config", str(first), "--config", str(second), "--outdir", str(outdir))
    # THEN exit 2, one line naming both stacks and the name, and the previous output as it was
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: stack_name: 'orders-b' is not allowed; expected AWS names no other stack of the run uses: "
        "aws_kinesis_stream 'orders' (aws.producer account) is also in stack 'orders-a'"
    )
    assert sorted(p.name for p in outdir.iterdir()) == ["marker", "stacks"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_two_instances_of_every_kind_side_by_side(tmp_path: Path) -> None:
    # GIVEN two settings files of every kind that set nothing but a stack name
    short = {"xacct-kinesis-efo": "efo", "xacct-dynamodb-streams": "ddb", "xacct-kinesis-replication": "repl",
             "xacct-ses-notifications": "ses", "xacct-api-ingest": "api"}
    kinds = [line.split()[0] for line in run_main("--list").stdout.splitlines()]
    assert sorted(kinds) == sorted(short)
    configs = []
    for kind in kinds:
        for instance in ("blue", "green"):
            path = tmp_path / f"{kind}-{instance}.toml"
            path.write_text(f'kind = "{kind}"\nstack_name = "{instance}-{short[kind]}"\n')
            configs += ["--config", str(path)]
    # WHEN all ten are synthesized in one run
    outdir = tmp_path / "out"
    result = run_main(*configs, "--outdir", str(outdir))
    # THEN no two stacks share an AWS name (the run would stop otherwise): each instance's names are
    # derived from its stack name
    assert result.returncode == 0, result.stderr
    stacks = sorted(p.name for p in (outdir / "stacks").iterdir())
    assert stacks == sorted(f"{i}-{short[k]}" for k in kinds for i in ("blue", "green"))
    efo = {
        color: json.loads((outdir / "stacks" / f"{color}-efo" / "cdk.tf.json").read_text())["resource"]
        for color in ("blue", "green")
    }
    assert [next(iter(efo[c]["aws_kinesis_stream"].values()))["name"] for c in ("blue", "green")] == [
        "blue-efo-shared-stream", "green-efo-shared-stream",
    ]
    assert [next(iter(efo[c]["aws_lambda_function"].values()))["function_name"] for c in ("blue", "green")] == [
        "blue-efo-stream-consumer", "green-efo-stream-consumer",
    ]


def test_a_derived_name_that_breaks_a_rule_says_where_it_came_from(tmp_path: Path) -> None:
    # GIVEN a replication stack whose name cannot start a bucket name (upper case)
    config = tmp_path / "r.toml"
    config.write_text('kind = "xacct-kinesis-replication"\nstack_name = "Web2"\n')
    # WHEN
    result = run_main("--config", str(config), "--outdir", str(tmp_path / "out"))
    # THEN exit 2, naming the derived setting, its value, the rule and how to fix it
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: delivery.bucket_prefix: 'Web2-web-analytics' is not allowed; expected 3-34 of a-z 0-9 -, starting with a letter or digit "
        "(the bucket is <prefix>-<account>-<region>) (derived from stack_name 'Web2': set delivery.bucket_prefix in the file)"
    )


def test_stack_tags_are_merged_over_the_tags_variable(tmp_path: Path) -> None:
    # GIVEN a settings file with tags for its stack
    config = tmp_path / "tagged.toml"
    config.write_text('tags = { team = "orders", "cost-center" = "42" }\n')
    # WHEN synthesized
    outdir = tmp_path / "out"
    assert run_main("--config", str(config), "--stack", DEFAULT_STACK, "--outdir", str(outdir)).returncode == 0
    # THEN both providers tag every resource with the variable's tags, overridden by the stack's
    providers = json.loads((outdir / "stacks" / DEFAULT_STACK / "cdk.tf.json").read_text())["provider"]["aws"]
    assert [p["default_tags"] for p in providers] == [[{"tags": '${merge(var.tags, {"team" = "orders", "cost-center" = "42"})}'}]] * 2
