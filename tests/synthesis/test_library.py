"""The constructs as a library: pyproject.toml installs them, the public API is small and lazy, and
examples/library_app synthesizes a team's handler on an existing stream from the installed package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.synth


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install` of what pyproject.toml names, copied out of the checkout first (an in-tree
    build would write build/ and *.egg-info here, and the copy proves nothing else is needed)."""
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "lambda_src", source / "lambda_src", ignore=ignore)
    shutil.copytree(ROOT / "constructs" / "xacct_streaming", source / "constructs" / "xacct_streaming", ignore=ignore)
    target = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--no-build-isolation", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def _python(target: Path, code_or_args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # Run outside the checkout with only the installed copy on the path (no constructs/ source root).
    env = {**os.environ, "PYTHONPATH": str(target)}
    return subprocess.run([sys.executable, *code_or_args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_install_carries_the_package_the_runtimes_and_the_provider_lock(installed: Path) -> None:
    assert (installed / "xacct_streaming" / "synthesis" / "terraform.lock.hcl").read_bytes() == (
        ROOT / "constructs" / "xacct_streaming" / "synthesis" / "terraform.lock.hcl"
    ).read_bytes()
    assert (installed / "xacct_streaming_runtime" / "handler.py").is_file()
    assert (installed / "xacct_streaming_runtime" / "xacct_consumer" / "kpl.py").is_file()
    metadata = next(installed.glob("xacct_streaming-*.dist-info")) / "METADATA"
    requires = [line for line in metadata.read_text().splitlines() if line.startswith("Requires-Dist:")]
    # the default line's pins, and CDK Terrain's behind the `cdktn` extra (xacct_streaming.framework.LINES)
    assert requires == [
        "Requires-Dist: cdktf==0.21.0",
        "Requires-Dist: cdktf-cdktf-provider-aws==20.1.0",
        "Requires-Dist: constructs<11.0.0,>=10.4.2",
        'Requires-Dist: cdktn==0.24.0; extra == "cdktn"',
        'Requires-Dist: cdktn-provider-aws==25.8.1; extra == "cdktn"',
    ]


def test_importing_the_api_loads_nothing_until_a_name_is_used(installed: Path, tmp_path: Path) -> None:
    code = (
        "import sys, xacct_streaming as xs; before = sorted(m for m in sys.modules if m.startswith(('cdktf', 'jsii', 'xacct_streaming.')));"
        "props = xs.StackProps(); after = sorted(m for m in sys.modules if m.startswith(('cdktf', 'jsii')));"
        "print(before, after, props.stack_name, xs.__version__, sorted(xs.__all__)[:3])"
    )
    result = _python(installed, ["-c", code], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("] [")[0] == "["  # nothing but the package itself
    assert "xacct-kinesis-efo" in result.stdout and "[] xacct-kinesis-efo" in result.stdout  # settings load no cdktf


def test_installed_builtin_runtimes_are_found_outside_a_checkout(installed: Path, tmp_path: Path) -> None:
    result = _python(installed, ["-c", "from xacct_streaming.synthesis.lambda_archive import builtin_sources; print(builtin_sources())"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == installed / "xacct_streaming_runtime"


def test_example_app_synthesizes_a_team_handler_from_the_installed_package(installed: Path, tmp_path: Path) -> None:
    # WHEN the example app runs with the installed package (not the checkout) on its path
    result = _python(installed, [str(ROOT / "examples" / "library_app" / "main.py"), "--outdir", str(tmp_path / "out")], tmp_path)
    # THEN it imported the installed copy and wrote the stack with the team's function on the existing stream
    assert result.returncode == 0, result.stderr
    assert f"library {installed / 'xacct_streaming'}" in result.stdout.splitlines()
    config = json.loads((tmp_path / "out" / "stacks" / "orders-audit" / "cdk.tf.json").read_text())
    (function,) = config["resource"]["aws_lambda_function"].values()
    assert (function["function_name"], function["handler"], function["runtime"]) == ("orders-audit-reader", "app.lambda_handler", "python3.13")
    # the stack's tags go over the tags variable into both providers' default_tags
    assert [p["default_tags"] for p in config["provider"]["aws"]] == [[{"tags": '${merge(var.tags, {"team" = "orders"})}'}]] * 2
    (consumer,) = config["resource"]["aws_kinesis_stream_consumer"].values()
    assert consumer["stream_arn"] == "arn:aws:kinesis:eu-west-1:111111111111:stream/orders"
    assert "aws_kinesis_stream" not in config["resource"]
    assert config["output"]["team_function_arn"]["description"] == "ARN of the team's function."
    # AND the team's own bucket, next to the constructs, went through the same safety nets
    assert [b["bucket"] for b in config["resource"]["aws_s3_bucket"].values()] == ["orders-audit-reports-${var.consumer_account_id}"]
    stack_dir = tmp_path / "out" / "stacks" / "orders-audit"
    assert (stack_dir / "versions.tf").is_file() and (stack_dir / ".terraform.lock.hcl").is_file()
