"""main.py as users run it: bad settings fail fast, name the field, and leave old output alone."""

from __future__ import annotations

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
        pytest.param("[function]\nmemory = 512\n", "error: function.memory: 512 is not allowed; expected a known key:", id="unknown-key"),
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
    # THEN every stack with its config and the Lambda archive, and a manifest naming them
    assert (stack_dir / "cdk.tf.json").is_file()
    archives = list((stack_dir / "assets").rglob("lambda.zip"))
    assert len(archives) == 1
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
    from xacct_streaming.props import StackProps
    from xacct_streaming.synth import synthesize

    # GIVEN a previous output and a project whose lambda_src/ is empty
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks").mkdir(parents=True)
    (outdir / "stacks" / "marker.json").write_text("{}")
    project = tmp_path / "project"
    (project / "lambda_src").mkdir(parents=True)
    # WHEN synthesis fails half-way
    with pytest.raises(FileNotFoundError, match="no Lambda sources"):
        synthesize([StackProps()], outdir=outdir, project_root=project)
    # THEN the previous output is as it was and no staging directory is left
    assert _snapshot(outdir) == {"stacks/marker.json": b"{}"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out", "project"]


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
