"""main.py as users run it: bad settings fail fast, name the field, and leave old output alone."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import json
from typing import Any
from pathlib import Path

import pytest

from conftest import ALL_STACKS, DDB_STACK, DEFAULT_STACK, ROOT, Synth, run_main

# What the cdktf CLI sets for the app it runs (its synth-stack.js), and nothing else does.
CDKTF_CLI_ENV = {"CDKTF_CONTEXT_JSON": "{}", "CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS": "true"}


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("config_text", "expected"),
    [
        pytest.param("[mapping]\nbatch_size = 20000\n", "error: {file}mapping.batch_size: 20000 is not allowed; expected an integer from 1 to 10000", id="range"),
        pytest.param('[stream]\nstream_mode = "PROVISIONED"\n', "error: {file}stream.shard_count: None is not allowed; expected an integer from 1 to 500", id="missing-shards"),
        pytest.param("[function]\nmemory = 512\n", "error: {file}function.memory: 512 is not allowed; expected 'memory_size_mb'? a known key:", id="unknown-key"),
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
    # (every error from a settings file names the file first)
    assert result.stderr.startswith(expected.format(file=f"{config}: ")), result.stderr
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


def test_cdktf_json_runs_this_app_with_any_python3() -> None:
    settings = json.loads((ROOT / "cdktf.json").read_text())
    assert settings["language"] == "python"
    assert settings["app"] == "python3 main.py"
    assert settings["output"] == "cdktf.out"


def test_a_python_without_the_packages_moves_to_the_venv_or_says_make_venv(tmp_path: Path) -> None:
    # GIVEN an interpreter without cdktf (a bare venv, no site packages)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    bare = tmp_path / "bare" / "bin" / "python"
    # WHEN it runs the app of this checkout (which has .venv): the app continues in .venv
    listed = subprocess.run([str(bare), str(ROOT / "main.py"), "--list"], capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[0] == "xacct-kinesis-efo"
    # WHEN a fresh clone without .venv runs it
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(ROOT / "main.py", clone / "main.py")
    shutil.copytree(ROOT / "constructs", clone / "constructs", ignore=shutil.ignore_patterns("__pycache__"))
    fresh = subprocess.run([str(bare), str(clone / "main.py"), "--list"], capture_output=True, text=True, timeout=120)
    # THEN one line says what to do, not a shell's "not found"
    assert fresh.returncode == 1
    assert fresh.stderr.strip() == (
        f"error: the pinned packages (cdktf, the AWS provider bindings) are not installed for {bare}: "
        f"run `make venv` in {clone} (creates .venv from requirements.txt)"
    )
    # AND on the CDK Terrain line, the line's own venv
    tn = subprocess.run([str(bare), str(clone / "main.py"), "--list"], capture_output=True, text=True, timeout=120,
                        env={**os.environ, "XACCT_FRAMEWORK": "cdktn"})
    assert tn.returncode == 1
    assert tn.stderr.strip() == (
        f"error: the pinned packages (cdktn, the AWS provider bindings) are not installed for {bare}: "
        f"run `make .venv-cdktn/.installed` in {clone} (creates .venv-cdktn from requirements-cdktn.txt)"
    )


@pytest.mark.parametrize("value", [pytest.param("cdk", id="unknown"), pytest.param("CDKTN", id="case")])
def test_an_unknown_framework_line_is_refused_before_anything_runs(value: str) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "--list"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "XACCT_FRAMEWORK": value})
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: XACCT_FRAMEWORK: {value!r} is not a framework line; expected one of cdktf, cdktn"
    assert result.stdout == ""


def test_failure_during_synthesis_keeps_previous_output(tmp_path: Path) -> None:
    from xacct_streaming.settings.kinesis_efo import StackProps
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


@pytest.mark.slow  # seconds of CPU in a synth of its own: make test
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


@pytest.mark.slow  # two full synths through make: make test
def test_make_synth_replaces_an_output_another_tool_wrote_since(tmp_path: Path) -> None:
    from conftest import run_make

    # GIVEN `make synth`, then HCL written into the same directory (as `cdktf synth --hcl` does)
    outdir = tmp_path / "cdktf.out"
    assert run_make("synth", OUTDIR=outdir).returncode == 0
    hcl = subprocess.run([sys.executable, str(ROOT / "main.py"), "--outdir", str(outdir), "--stack", DEFAULT_STACK],
                         env={**os.environ, "SYNTH_HCL_OUTPUT": "true"}, capture_output=True, text=True, timeout=300)
    assert hcl.returncode == 0, hcl.stderr
    assert (outdir / "stacks" / DEFAULT_STACK / "cdk.tf").is_file()
    # WHEN make synth runs again with no source changed
    again = run_make("synth", OUTDIR=outdir)
    # THEN it synthesizes again: JSON in every stack, no HCL left
    assert again.returncode == 0, again.stderr
    assert "synthesized " in again.stdout
    assert sorted(p.name for p in (outdir / "stacks").glob("*/cdk.tf*")) == ["cdk.tf.json"] * 5


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


@pytest.mark.slow  # seconds of CPU in a synth of its own: make test
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


@pytest.mark.slow  # seconds of CPU in a synth of its own: make test
def test_several_settings_files_make_several_stacks_of_one_kind(tmp_path: Path) -> None:
    # GIVEN two settings files of the core kind with their own names
    first, second = tmp_path / "orders.toml", tmp_path / "payments.toml"
    first.write_text(ORDERS.format(stack="orders-stream", function="orders-consumer"))
    second.write_text(ORDERS.format(stack="payments-stream", function="payments-consumer").replace('"orders', '"payments').replace("/orders", "/payments"))
    # WHEN both are given
    outdir = tmp_path / "out"
    result = run_main("--config", str(first), "--config", str(second), "--outdir", str(outdir))
    # THEN both instances are synthesized, and nothing the files do not name
    assert result.returncode == 0, result.stderr
    stacks = sorted(p.name for p in (outdir / "stacks").iterdir())
    assert stacks == ["orders-stream", "payments-stream"]
    names = {json.loads((outdir / "stacks" / s / "cdk.tf.json").read_text())["resource"]["aws_kinesis_stream"].popitem()[1]["name"] for s in ("orders-stream", "payments-stream")}
    assert names == {"orders", "payments"}


@pytest.mark.slow  # seconds of CPU in a synth of its own: make test
def test_a_settings_file_synthesizes_what_it_names_and_keeps_earlier_stacks(tmp_path: Path) -> None:
    # GIVEN an output an earlier `--stack` run made, with a saved plan in it
    outdir = tmp_path / "out"
    assert run_main("--stack", DDB_STACK, "--outdir", str(outdir)).returncode == 0
    (outdir / "stacks" / DDB_STACK / "tfplan").write_text("saved plan")
    config = tmp_path / "orders.toml"
    config.write_text(ORDERS.format(stack="orders-stream", function="orders-consumer"))
    # WHEN a settings file of another kind is synthesized into it
    result = run_main("--config", str(config), "--outdir", str(outdir))
    # THEN only the file's stack is written; the earlier one stays, plan and manifest entry included, and a note says so
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"synthesized {os.path.relpath(outdir / 'stacks' / 'orders-stream')}",
        f"note: kept from earlier runs, not rewritten: {DDB_STACK} (`python main.py` with neither --config nor --stack replaces the whole output)",
    ]
    assert result.stderr == ""  # (the cdktf CLI shows an app's stderr as [ERROR])
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == sorted(["orders-stream", DDB_STACK])
    assert (outdir / "stacks" / DDB_STACK / "tfplan").read_text() == "saved plan"
    assert sorted(json.loads((outdir / "manifest.json").read_text())["stacks"]) == sorted(["orders-stream", DDB_STACK])
    # WHEN the settings are listed
    listed = run_main("--config", str(config), "--list")
    # THEN only the file's stack, without the hint about kinds that need a settings file
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["orders-stream"]


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


@pytest.mark.slow  # seconds of CPU in a synth of its own: make test
def test_two_instances_of_every_kind_side_by_side(tmp_path: Path) -> None:
    # GIVEN two settings files of every kind that set nothing but a stack name
    short = {"xacct-kinesis-efo": "efo", "xacct-dynamodb-streams": "ddb", "xacct-kinesis-replication": "repl",
             "xacct-ses-notifications": "ses", "xacct-api-ingest": "api"}
    kinds = [line.split()[0] for line in run_main("--list").stdout.splitlines() if not line.startswith("(")]
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
    # GIVEN a replication stack whose name is valid but too long for the bucket prefix derived from it
    config = tmp_path / "r.toml"
    config.write_text('kind = "xacct-kinesis-replication"\nstack_name = "' + "w" * 30 + '"\n')
    # WHEN
    result = run_main("--config", str(config), "--outdir", str(tmp_path / "out"))
    # THEN exit 2, naming stack_name first, the derived setting, its value, the rule and how to fix it
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {config}: stack_name: '" + "w" * 30 + "' is not allowed; expected a name that leaves room for delivery.bucket_prefix, derived from it as '"
        + "w" * 30 + "-web-analytics': 3-34 of a-z 0-9 -, starting with a letter or digit (the bucket is <prefix>-<account>-<region>); "
        "or set delivery.bucket_prefix in the file"
    )


def test_a_bad_stack_name_is_reported_as_itself_before_any_name_derived_from_it(tmp_path: Path) -> None:
    # GIVEN a stack name no rule accepts (upper case, a space), in a file sharing an existing stream
    config = tmp_path / "bad.toml"
    config.write_text('stack_name = "My Stack!"\n[existing_stream]\nstream_arn = "arn:aws:kinesis:eu-west-1:111111111111:stream/orders"\n')
    # WHEN
    result = run_main("--config", str(config), "--outdir", str(tmp_path / "out"))
    # THEN the error is about stack_name itself
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {config}: stack_name: 'My Stack!' is not allowed; expected 1-63 of a-z 0-9 -, starting with a letter"


def test_the_python_api_derives_names_from_stack_name_as_settings_files_do() -> None:
    from xacct_streaming.settings.config import props_from_mapping
    from xacct_streaming.settings.kinesis_efo import StackProps

    # GIVEN a second instance of the core kind made in Python, and the same from a settings mapping
    in_python, from_file = StackProps(stack_name="refunds-reader"), props_from_mapping({"stack_name": "refunds-reader"})
    # THEN both get the same names, none of them the default instance's
    assert in_python == from_file
    assert (in_python.function.function_name, in_python.stream.stream_name, in_python.sink.table_name) == (
        "refunds-reader-stream-consumer", "refunds-reader-shared-stream", "refunds-reader-stream-sink")


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


@pytest.mark.parametrize(
    ("cli_env", "orphan_left"),
    [pytest.param({}, False, id="make-synth-deletes-it"), pytest.param(CDKTF_CLI_ENV, True, id="cdktf-cli-deletes-it-itself")],
)
@pytest.mark.slow  # two full synths each: make test
def test_a_full_synth_keeps_other_files_and_leaves_orphaned_stacks_to_the_cli(tmp_path: Path, cli_env: dict[str, str], orphan_left: bool) -> None:
    # GIVEN an output with a stack this run will not write, and a file synthesis does not own
    outdir = tmp_path / "cdktf.out"
    first = run_main("--outdir", str(outdir), "--config", str(ROOT / "examples" / "fanout.toml"))
    assert first.returncode == 0, first.stderr
    (outdir / "terraform.rc").write_text("# make validate's CLI config\n")
    # WHEN the default stacks are synthesized (by make, or by the cdktf CLI, which lists the stack
    # directories before it runs the app and deletes those the new manifest lacks after)
    second = subprocess.run([sys.executable, str(ROOT / "main.py"), "--outdir", str(outdir)], env={**os.environ, **cli_env},
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    # THEN the other file stays; the manifest lists exactly the new stacks; the orphan is deleted
    # here, or left for the CLI (which would fail on a directory already gone)
    assert (outdir / "terraform.rc").read_text() == "# make validate's CLI config\n"
    assert sorted(json.loads((outdir / "manifest.json").read_text())["stacks"]) == sorted(ALL_STACKS)
    assert (outdir / "stacks" / "orders-fanout").is_dir() is orphan_left


@pytest.mark.slow  # seconds of CPU in a synth of its own: make test
def test_teardown_writes_an_override_that_unprotects_tables_and_empties_buckets(tmp_path: Path) -> None:
    # GIVEN the core and replication stacks synthesized with --teardown
    outdir = tmp_path / "cdktf.out"
    result = run_main("--outdir", str(outdir), "--teardown", "--stack", DEFAULT_STACK, "--stack", "xacct-kinesis-replication")
    assert result.returncode == 0, result.stderr
    # THEN each stack's override names every table (protection off) and bucket (force_destroy) it has
    for stack in (DEFAULT_STACK, "xacct-kinesis-replication"):
        config = json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text())
        override = json.loads((outdir / "stacks" / stack / "teardown_override.tf.json").read_text())["resource"]
        assert override["aws_dynamodb_table"] == {name: {"deletion_protection_enabled": False} for name in config["resource"]["aws_dynamodb_table"]}
        assert override.get("aws_s3_bucket") == ({name: {"force_destroy": True} for name in config["resource"]["aws_s3_bucket"]}
                                                 if "aws_s3_bucket" in config["resource"] else None)
    # WHEN the same stacks are synthesized without it, THEN the override is gone
    assert run_main("--outdir", str(outdir), "--stack", DEFAULT_STACK).returncode == 0
    assert not (outdir / "stacks" / DEFAULT_STACK / "teardown_override.tf.json").exists()


def test_teardown_deletes_the_api_secret_without_a_recovery_window(api_synth: Synth) -> None:
    # GIVEN the API stack, whose basic-auth secret would keep its name taken for 7 days after a destroy
    from xacct_streaming.synthesis.teardown import teardown_override

    (name, secret), = api_synth.resources("aws_secretsmanager_secret").items()
    assert secret["recovery_window_in_days"] == 7
    # WHEN the teardown override is written, THEN the secret is deleted at once (a redeploy can reuse the name)
    override = teardown_override(api_synth.config)
    assert override is not None
    assert override["resource"]["aws_secretsmanager_secret"] == {name: {"recovery_window_in_days": 0}}


def test_teardown_with_hcl_is_refused(tmp_path: Path) -> None:
    result = run_main("--outdir", str(tmp_path / "out"), "--teardown", "--hcl")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --teardown writes a JSON override next to cdk.tf.json: synthesize JSON (without --hcl) to tear down"
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # seconds of CPU in a synth of its own: make test
def test_two_stacks_with_one_state_fail_naming_both(tmp_path: Path) -> None:
    # GIVEN two stacks of one run whose S3 backends name the same object
    backend = ('[stack.backend]\nkind = "s3"\nbucket = "team-state"\nregion = "eu-west-1"\nkey = "shared/terraform.tfstate"\n'
               'role_arn = "arn:aws:iam::999999999999:role/terraform-state"\n'
               'kms_key_id = "arn:aws:kms:eu-west-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"\n')
    settings = tmp_path / "two.toml"
    settings.write_text(
        '[[stack]]\nkind = "xacct-dynamodb-streams"\n' + backend
        + '[[stack]]\nkind = "xacct-ses-notifications"\n' + backend
    )
    # WHEN
    result = run_main("--outdir", str(tmp_path / "out"), "--config", str(settings))
    # THEN
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: backend.key: 'shared/terraform.tfstate' is not allowed; expected a state of this stack's own: "
        "stack 'xacct-dynamodb-streams' keeps its state there too"
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"", "error: config file: '{path}' is not allowed; expected at least one setting (an empty file would synthesize the defaults unasked)", id="empty-file"),
        pytest.param(b"\xff\xfe\x00binary", "error: config file: '{path}' is not allowed; expected a UTF-8 TOML text file (byte 0 is not UTF-8)", id="binary-file"),
        pytest.param(b'kind = "xacct-kinesis-fanout"\n', "error: {path}: consumers: None is not allowed; expected one or more [[consumers]] tables (kind 'xacct-kinesis-fanout' has no default readers: none is assumed)", id="fanout-without-consumers"),
    ],
)
def test_a_settings_file_that_says_nothing_usable_is_refused_in_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    # GIVEN a file that used to be accepted silently (defaults, or three invented consumers) or gave a traceback
    config = tmp_path / "settings.toml"
    config.write_bytes(content)
    # WHEN
    result = run_main("--outdir", str(tmp_path / "out"), "--config", str(config))
    # THEN exit 2, one line naming the file, nothing written
    assert result.returncode == 2
    assert result.stderr.strip() == expected.format(path=config)
    assert not (tmp_path / "out").exists()


def test_with_several_settings_files_an_error_names_its_file(tmp_path: Path) -> None:
    # GIVEN two files, the second one wrong
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text('stack_name = "orders"\n')
    bad.write_text('stack_name = "payments"\n[mapping]\nbatch_size = 0\n')
    # WHEN both are given
    result = run_main("--outdir", str(tmp_path / "out"), "--config", str(good), "--config", str(bad))
    # THEN the error says which file
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {bad}: mapping.batch_size: 0 is not allowed; expected an integer from 1 to 10000"


def _main_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("xacct_main_under_test", ROOT / "main.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_a_bug_exits_70_asking_for_a_report_not_2_like_a_setting(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], debug: bool) -> None:
    # GIVEN a bug in choosing the stacks (not anything a setting says)
    app = _main_module()

    def broken(*_: Any) -> Any:
        raise KeyError("stream")

    monkeypatch.setattr(app, "select", broken)
    # WHEN main.py runs, THEN it exits 70 with one line asking for a report; the traceback only with --debug
    assert app.main(["--list", *(["--debug"] if debug else [])]) == 70
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "error: internal error, please report it (--debug shows where): KeyError: 'stream'"
    assert ("Traceback (most recent call last)" in err) is debug


def test_a_construct_used_wrongly_is_the_users_to_fix_not_a_setting() -> None:
    from xacct_streaming.blocks.policy import Statement
    from xacct_streaming.settings.errors import ConfigError, ConstructError

    with pytest.raises(ConstructError, match=r"policy statement Read: action 's3:\*' has a '\*'; a statement names exact actions") as raised:
        Statement(sid="Read", actions=["s3:*"], resources=["arn:aws:s3:::b"])
    assert not isinstance(raised.value, ConfigError)
