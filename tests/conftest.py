"""Shared fixtures. Synthesis is expensive (~20 s), so each output is produced once per session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
VENV_BIN_DIR = Path(sys.executable).parent
DEFAULT_STACK = "xacct-kinesis-efo"
DDB_STACK = "xacct-dynamodb-streams"
REPLICATION_STACK = "xacct-kinesis-replication"
SES_STACK = "xacct-ses-notifications"
API_STACK = "xacct-api-ingest"
ALL_STACKS = (DEFAULT_STACK, DDB_STACK, REPLICATION_STACK, SES_STACK, API_STACK)
PROVISIONED_STACK = "xacct-provisioned"
SINK_ROLE_ARN = "arn:aws:iam::333333333333:role/xacct-sink-writer"

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@dataclass
class Synth:
    """One synthesized stack: its directory and parsed cdk.tf.json."""

    stack_dir: Path
    config: dict[str, Any]

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return self.config["resource"].get(type_, {})

    def only(self, type_: str, path_suffix: str = "") -> tuple[str, dict[str, Any]]:
        """The single resource of a type (whose construct path ends with path_suffix)."""
        found = [
            (name, body)
            for name, body in self.resources(type_).items()
            if body["//"]["metadata"]["path"].endswith(path_suffix)
        ]
        assert len(found) == 1, f"expected one {type_} ending {path_suffix!r}, got {[n for n, _ in found]}"
        return found[0]

    def ref(self, type_: str, path_suffix: str, attribute: str) -> str:
        name, _ = self.only(type_, path_suffix)
        return f"${{{type_}.{name}.{attribute}}}"

    def address(self, type_: str, path_suffix: str = "") -> str:
        return f"{type_}.{self.only(type_, path_suffix)[0]}"


def run_main(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, str(ROOT / "main.py"), *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_make(target: str, **variables: object) -> subprocess.CompletedProcess[str]:
    """`make <target>` in the project with this test run's venv and the given make variables."""
    assignments = [f"{name}={value}" for name, value in {"VENV": VENV_BIN_DIR.parent, **variables}.items()]
    return subprocess.run(
        ["make", "--no-print-directory", target, *assignments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def cli_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python main.py` with the built-in settings, as `make synth` runs it."""
    outdir = tmp_path_factory.mktemp("cli") / "cdktf.out"
    result = run_main("--outdir", str(outdir))
    assert result.returncode == 0, result.stderr
    return outdir


@pytest.fixture(scope="session")
def library_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default stack and a provisioned variant, synthesized in-process in one App."""
    from xacct_streaming.config import props_from_mapping
    from xacct_streaming.props import StackProps
    from xacct_streaming.synth import synthesize

    provisioned = props_from_mapping(
        {
            "stack_name": PROVISIONED_STACK,
            "stream": {"stream_mode": "PROVISIONED", "shard_count": 4, "retention_period_hours": 168},
            "mapping": {"starting_position": "LATEST", "batch_size": 500, "parallelization_factor": 2},
            "sink": {"table_name": "analytics-events", "role_arn": SINK_ROLE_ARN, "region": "eu-central-1", "external_id": "xacct-sink-1"},
            "alarms": {"notification_topic": True, "iterator_age_threshold_seconds": 120},
            "backend": {"kind": "s3", "bucket": "tf-state-bucket", "key": "xacct/terraform.tfstate", "region": "eu-west-1"},
        }
    )
    outdir = tmp_path_factory.mktemp("lib") / "cdktf.out"
    synthesize([StackProps(), provisioned], outdir=outdir, project_root=ROOT)
    return outdir


def _load(outdir: Path, stack: str) -> Synth:
    stack_dir = outdir / "stacks" / stack
    return Synth(stack_dir, json.loads((stack_dir / "cdk.tf.json").read_text()))


@pytest.fixture(scope="session")
def synth(cli_outdir: Path) -> Synth:
    return _load(cli_outdir, DEFAULT_STACK)


@pytest.fixture(scope="session")
def ddb_synth(cli_outdir: Path) -> Synth:
    return _load(cli_outdir, DDB_STACK)


@pytest.fixture(scope="session")
def replication_synth(cli_outdir: Path) -> Synth:
    return _load(cli_outdir, REPLICATION_STACK)


@pytest.fixture(scope="session")
def ses_synth(cli_outdir: Path) -> Synth:
    return _load(cli_outdir, SES_STACK)


@pytest.fixture(scope="session")
def api_synth(cli_outdir: Path) -> Synth:
    return _load(cli_outdir, API_STACK)


@pytest.fixture(scope="session")
def provisioned(library_outdir: Path) -> Synth:
    return _load(library_outdir, PROVISIONED_STACK)


def terraform_mirror() -> Path | None:
    """The provider filesystem mirror of this machine, if any (TF_PLUGIN_MIRROR wins)."""
    candidates = [os.environ.get("TF_PLUGIN_MIRROR", "")] + [
        str(p.parent) for p in sorted(Path("/opt").glob("*/registry.terraform.io"))
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "registry.terraform.io/hashicorp/aws").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment for terraform with a CLI config using the local mirror; skips without one."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    mirror = terraform_mirror()
    if mirror is None:
        pytest.skip("no provider mirror with hashicorp/aws (set TF_PLUGIN_MIRROR); the registry is unreachable here")
    rc = tmp_path_factory.mktemp("tf") / "terraform.rc"
    rc.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
    )
    yield {**os.environ, "TF_CLI_CONFIG_FILE": str(rc), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}


@pytest.fixture(scope="session")
def hcl_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python main.py --hcl`: the HCL export, the way out of CDKTF."""
    outdir = tmp_path_factory.mktemp("hcl") / "cdktf.out"
    result = run_main("--hcl", "--outdir", str(outdir))
    assert result.returncode == 0, result.stderr
    return outdir


@pytest.fixture(scope="session")
def naive_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python main.py` with the stock, all-importing provider package (the slow baseline)."""
    outdir = tmp_path_factory.mktemp("naive") / "cdktf.out"
    result = run_main("--outdir", str(outdir), env={"XACCT_PROVIDER_IMPORT": "full"})
    assert result.returncode == 0, result.stderr
    return outdir


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)


def assumed_session(account: str, role_name: str = "terraform-deploy") -> Any:
    """A boto3 session in `account`, through moto's STS (call inside mock_aws)."""
    import boto3

    creds = boto3.client("sts", region_name="eu-west-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{role_name}", RoleSessionName="test-setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="eu-west-1",
    )
