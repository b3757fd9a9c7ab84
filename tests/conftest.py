"""Shared fixtures. Each synthesis is produced once per session; the long subprocess jobs (the
rehearsals, the Atlantis workflow, the naive synth, the host import) start in the background when the first test
runs, side by side, and the tests that need them wait for their results at the end."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from xacct_streaming.synthesis.node_runtime import use_supported_node

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
PYTHON = sys.executable
VENV_BIN_DIR = Path(sys.executable).parent
DEFAULT_STACK = "xacct-kinesis-efo"
DDB_STACK = "xacct-dynamodb-streams"
REPLICATION_STACK = "xacct-kinesis-replication"
SES_STACK = "xacct-ses-notifications"
API_STACK = "xacct-api-ingest"
ALL_STACKS = (DEFAULT_STACK, DDB_STACK, REPLICATION_STACK, SES_STACK, API_STACK)
EXISTING_STACK = "orders-audit"
FANOUT_STACK = "orders-fanout"
FANOUT_SETTINGS = ROOT / "examples" / "fanout.toml"
SPLIT_STACK = "orders-split"  # examples/fanout.toml with split = true: three plans
SPLIT_PLANS = (f"{SPLIT_STACK}-producer", f"{SPLIT_STACK}-analytics", f"{SPLIT_STACK}-billing")
EXISTING_STREAM_SETTINGS = ROOT / "examples" / "existing-stream.toml"
PROVISIONED_STACK = "xacct-provisioned"
API_LOGGING_STACK = "xacct-api-with-logging-role"
# make policy-check with the built-in settings: (calls allowed, variants denied) per stack.
POLICY_COUNTS = {
    API_STACK: (54, 131),
    DDB_STACK: (31, 72),
    DEFAULT_STACK: (35, 88),
    REPLICATION_STACK: (75, 161),
    SES_STACK: (30, 64),
}
# Resources each stack's first plan creates (the rehearsals, the Atlantis pull request, the cdktf CLI).
PLANNED_CREATES = {API_STACK: 67, DDB_STACK: 29, DEFAULT_STACK: 31, REPLICATION_STACK: 67, SES_STACK: 35}
SINK_ROLE_ARN = "arn:aws:iam::333333333333:role/xacct-sink-writer"
# The S3 backend's state account: its role and the key that encrypts the state.
STATE_ROLE_ARN = "arn:aws:iam::999999999999:role/terraform-state"
STATE_KEY_ARN = "arn:aws:kms:eu-west-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# A supported Node for every jsii kernel the tests start, here or in a child process (main.py chooses
# its own): the pinned one where the system's is end-of-life. jsii's banner is never silenced.
use_supported_node(ROOT)

# Terraform and its provider processes are Go programs, a dozen at a time under `make test` on two
# cores: with one scheduler thread each and half as many garbage collections, one rehearsal of the
# core stack takes 65 instead of 77 CPU seconds (docs/development.md). A caller's own values win.
os.environ.setdefault("GOMAXPROCS", "1")
os.environ.setdefault("GOGC", "200")


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


def policy_statements(config: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(address.argument, statement) of every policy document a synthesized configuration writes."""
    for type_, resources in config["resource"].items():
        for name, body in resources.items():
            for key in ("policy", "assume_role_policy"):
                if key in body:
                    for statement in json.loads(body[key])["Statement"]:
                        yield f"{type_}.{name}.{key}", statement


def terraform_run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def terraform_validate(stack_dir: Path, workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`terraform validate` of a copy of the stack (init writes .terraform/ and the lock file next to it)."""
    shutil.copytree(stack_dir, workdir)
    init = terraform_run(["init", "-backend=false", "-input=false", "-no-color"], workdir, env)
    assert init.returncode == 0, init.stdout + init.stderr
    return terraform_run(["validate", "-no-color", "-json"], workdir, env)


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


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A directory that `build` fills once per test run, shared by pytest-xdist's workers: each worker
    would otherwise synthesize the same stacks again (seconds of CPU each, `make check`'s largest
    repeat). Tests only read these directories, as they do any session fixture's."""
    root = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        root = root.parent  # the run's base directory, which every worker's lies in
    target, done = root / f"shared-{name}", root / f"shared-{name}.done"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker builds; the others wait, then read
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            build(target)
            done.touch()
    return target


def _main_into(*args: str) -> Callable[[Path], None]:
    def build(target: Path) -> None:
        result = run_main(*args, "--outdir", str(target / "cdktf.out"))
        assert result.returncode == 0, result.stderr
    return build


@pytest.fixture(scope="session")
def cli_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python main.py` with the built-in settings, as `make synth` runs it."""
    return built_once(tmp_path_factory, "cli", _main_into()) / "cdktf.out"


@pytest.fixture(scope="session")
def library_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default stack, a provisioned variant, the API stack managing the account's logging role and
    the README quick start (own handler on an existing stream), in-process."""
    return built_once(tmp_path_factory, "lib", _synthesize_library_variants) / "cdktf.out"


def _synthesize_library_variants(target: Path) -> None:
    from xacct_streaming.settings.config import load_stacks, props_from_mapping
    from xacct_streaming.settings.kinesis_efo import StackProps
    from xacct_streaming.synthesis.synth import synthesize

    provisioned = props_from_mapping(
        {
            "stack_name": PROVISIONED_STACK,
            "stream": {"stream_mode": "PROVISIONED", "shard_count": 4, "retention_period_hours": 168},
            "function": {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": ["sg-0123456789abcdef0"]},
            "mapping": {"starting_position": "LATEST", "batch_size": 500, "parallelization_factor": 2},
            "sink": {"table_name": "analytics-events", "role_arn": SINK_ROLE_ARN, "region": "eu-central-1", "external_id": "xacct-sink-1"},
            "alarms": {"notification_topic": True, "iterator_age_threshold_seconds": 120},
            "backend": {"kind": "s3", "bucket": "tf-state-bucket", "key": "xacct/terraform.tfstate", "region": "eu-west-1",
                        "role_arn": STATE_ROLE_ARN, "kms_key_id": STATE_KEY_ARN},
        }
    )
    api_logging = props_from_mapping({"kind": API_STACK, "stack_name": API_LOGGING_STACK, "api": {"manage_account_logging_role": True}})
    outdir = target / "cdktf.out"
    # Variants of one stack reuse its AWS names, which one run refuses: one run each, into one output.
    (existing,) = load_stacks(str(EXISTING_STREAM_SETTINGS))
    (fanout,) = load_stacks(str(FANOUT_SETTINGS))
    import tomllib

    from xacct_streaming.settings.catalog import select

    split = select([props_from_mapping({**tomllib.loads(FANOUT_SETTINGS.read_text()), "stack_name": SPLIT_STACK, "split": True})], [SPLIT_STACK])
    for stacks in ([StackProps()], [provisioned], [api_logging], [existing], [fanout], split):
        synthesize(stacks, outdir=outdir, keep_other_stacks=True)


def load_synth(outdir: Path, stack: str) -> Synth:
    stack_dir = outdir / "stacks" / stack
    return Synth(stack_dir, json.loads((stack_dir / "cdk.tf.json").read_text()))


@pytest.fixture(scope="session")
def synth(cli_outdir: Path) -> Synth:
    return load_synth(cli_outdir, DEFAULT_STACK)


@pytest.fixture(scope="session")
def ddb_synth(cli_outdir: Path) -> Synth:
    return load_synth(cli_outdir, DDB_STACK)


@pytest.fixture(scope="session")
def replication_synth(cli_outdir: Path) -> Synth:
    return load_synth(cli_outdir, REPLICATION_STACK)


@pytest.fixture(scope="session")
def ses_synth(cli_outdir: Path) -> Synth:
    return load_synth(cli_outdir, SES_STACK)


@pytest.fixture(scope="session")
def api_synth(cli_outdir: Path) -> Synth:
    return load_synth(cli_outdir, API_STACK)


@pytest.fixture(scope="session")
def provisioned(library_outdir: Path) -> Synth:
    return load_synth(library_outdir, PROVISIONED_STACK)


@pytest.fixture(scope="session")
def existing_synth(library_outdir: Path) -> Synth:
    return load_synth(library_outdir, EXISTING_STACK)


@pytest.fixture(scope="session")
def fanout_synth(library_outdir: Path) -> Synth:
    return load_synth(library_outdir, FANOUT_STACK)


@pytest.fixture(scope="session")
def split_synths(library_outdir: Path) -> dict[str, Synth]:
    """The split fan-out's plans by account: producer, analytics, billing."""
    return {name.removeprefix(f"{SPLIT_STACK}-"): load_synth(library_outdir, name) for name in SPLIT_PLANS}


@pytest.fixture(scope="session")
def api_logging_synth(library_outdir: Path) -> Synth:
    """The API stack with manage_account_logging_role = true."""
    return load_synth(library_outdir, API_LOGGING_STACK)


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
    return built_once(tmp_path_factory, "hcl", _main_into("--hcl")) / "cdktf.out"


@pytest.fixture(scope="session")
def naive_outdir(background: "Background") -> Path:
    """`python main.py` with the stock, all-importing provider package (the slow baseline)."""
    return background.wait("naive synth").workdir / "cdktf.out"


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


# ---- background jobs --------------------------------------------------------------------------
# The rehearsals and the Atlantis workflow mostly wait (Terraform's waiters, moto): run one after
# the other they were 8.5 of the suite's 10 minutes. Each is a child process with its own moto
# server (moto's state is per process) and scratch directory, started once when the first test
# runs if a selected test needs it; the tests that check them run last and wait for their result.

HARNESS = ROOT / "tests" / "harness"
REHEARSED_STACKS = ALL_STACKS


@dataclass
class Job:
    name: str
    argv: list[str]
    workdir: Path
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.workdir / "job.log"

    @property
    def result_file(self) -> Path:
        return self.workdir / "result.json"

    def start(self) -> None:
        with self.log.open("wb") as log:
            # The job's name goes to its Terraform calls (the tiers' log counts them per job).
            env = {**(self.env or os.environ), "XACCT_TEST_JOB": self.name}
            self.process = subprocess.Popen(self.argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)

    def wait(self) -> "Job":
        if self.process is None:  # not started ahead (under pytest-xdist): run it now
            self.start()
        assert self.process is not None
        returncode = self.process.wait(timeout=1800)
        if returncode != 0:
            pytest.fail(f"{self.name} exited {returncode}:\n{self.log.read_text(errors='replace')[-8000:]}", pytrace=False)
        return self


class Background:
    def __init__(self, jobs: dict[str, Job]) -> None:
        self.jobs = jobs

    def wait(self, name: str) -> Job:
        if name not in self.jobs:
            pytest.fail(f"background job {name!r} was not started (is its test selected?)", pytrace=False)
        return self.jobs[name].wait()

    def result(self, name: str) -> Any:
        """The JSON the job wrote (it fails the test with the job's log if the job failed)."""
        return json.loads(self.wait(name).result_file.read_text())

    def stop(self) -> None:
        for job in self.jobs.values():
            if job.process is not None and job.process.poll() is None:
                job.process.kill()
                job.process.wait()


def _needs_terraform() -> str | None:
    """Why terraform-backed jobs cannot run here, or None."""
    if shutil.which("terraform") is None:
        return "terraform is not on PATH"
    if terraform_mirror() is None:
        return "no provider mirror with hashicorp/aws (set TF_PLUGIN_MIRROR); the registry is unreachable here"
    return None


def rehearsal_job(stack: str) -> str:
    return f"rehearsal {stack}"


FANOUT_REHEARSAL = "rehearsal fanout"
SPLIT_REHEARSAL = "rehearsal split fanout"


# ---- test tiers ---------------------------------------------------------------------------------
# `make check` (--tier=check): no Terraform process; `make test` (--tier=test): Terraform but no apply;
# `make rehearse` (--tier=rehearse): the apply-level runs. The shim in tests/harness/bin is first on
# PATH for every test and every child process: it refuses what the tier excludes (so an unmarked test
# fails instead of slipping a Terraform run into the wrong tier) and logs each call with its CPU time.
TIERS = {
    # tier: (markers a test must not carry, markers it must carry one of, what the shim allows)
    "check": (("terraform", "rehearsal", "slow"), (), "none"),
    "test": (("rehearsal",), (), "no-apply"),
    "rehearse": ((), ("rehearsal",), "any"),
}
TERRAFORM_SHIM_DIR = HARNESS / "bin"
# Fixtures that start Terraform: a test using one is a `terraform` test whether or not it says so.
TERRAFORM_FIXTURES = {"terraform_env", "terraform_jobs"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--tier", choices=sorted(TIERS), help="run one test tier (make check / make test / make rehearse)")
    parser.addoption("--terraform-log", help="append one JSON line per terraform call here (default: .make/terraform-calls-<tier>.jsonl)")
    parser.addoption("--list-tiers", help="write {test id: [tiers it runs in]} for every collected test to this JSON file")


def terraform_log_path(config: pytest.Config) -> Path:
    return Path(config.getoption("terraform_log") or ROOT / ".make" / f"terraform-calls-{config.getoption('tier') or 'all'}.jsonl")


def pytest_configure(config: pytest.Config) -> None:
    tier = config.getoption("tier")
    os.environ["PATH"] = os.pathsep.join([str(TERRAFORM_SHIM_DIR), os.environ.get("PATH", "")])
    os.environ["XACCT_TERRAFORM_ALLOW"] = TIERS[tier][2] if tier else "any"
    log = terraform_log_path(config)
    os.environ["XACCT_TERRAFORM_LOG"] = str(log)
    # The test running now, for the log: a file rewritten as each test starts, since fixtures hand
    # Terraform copies of the environment taken when they were set up (a stale PYTEST_CURRENT_TEST).
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    os.environ["XACCT_CURRENT_TEST_FILE"] = str(log.with_name(f"{log.stem}.current-{worker}"))
    if not hasattr(config, "workerinput"):  # the controller (or the only process) starts the log afresh
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
    # Property tests: fewer examples in the edit loop (make check), the full count in make test and on.
    from hypothesis import settings as hypothesis_settings

    hypothesis_settings.register_profile("check", max_examples=12)
    hypothesis_settings.register_profile("full", max_examples=40)
    hypothesis_settings.load_profile("check" if tier == "check" else "full")


def in_tier(tier: str, item: pytest.Item) -> bool:
    excluded, required = TIERS[tier][:2]
    marks = {mark.name for mark in item.iter_markers()}
    return not marks & set(excluded) and (not required or bool(marks & set(required)))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if TERRAFORM_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("terraform") is None:
            item.add_marker(pytest.mark.terraform)
    if config.getoption("list_tiers"):
        listing = {item.nodeid: [tier for tier in TIERS if in_tier(tier, item)] for item in items}
        Path(config.getoption("list_tiers")).write_text(json.dumps(listing, indent=1))
    tier = config.getoption("tier")
    if tier:
        selected, deselected = [], []
        for item in items:
            (selected if in_tier(tier, item) else deselected).append(item)
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = selected
    # Tests that wait for a background job go last, so everything else runs while the jobs do. Not
    # under pytest-xdist, where a job starts only when its test runs: there it keeps its place, and
    # the other workers go on meanwhile; there the smoke tests, which mostly wait on their clock, go
    # first, so their waits overlap the other workers' CPU work instead of ending the run.
    if "PYTEST_XDIST_WORKER" not in os.environ:
        items.sort(key=lambda item: item.get_closest_marker("background") is not None)
    else:
        items.sort(key=lambda item: item.path.name != "test_smoke.py")


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    Path(os.environ["XACCT_CURRENT_TEST_FILE"]).write_text(nodeid)


def _terraform_calls(config: pytest.Config) -> list[dict[str, Any]]:
    log = terraform_log_path(config)
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A refused call fails the run even when its test expected Terraform to fail: the tier is broken.
    if not hasattr(session.config, "workerinput") and any(call.get("refused") for call in _terraform_calls(session.config)):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """What the run cost in Terraform: commands and CPU seconds per job or test (the tiers' budget)."""
    if hasattr(config, "workerinput"):
        return
    calls = _terraform_calls(config)
    log = terraform_log_path(config)
    refused = [call for call in calls if call.get("refused")]
    if refused:
        terminalreporter.section("terraform calls this tier refuses (the run fails)", red=True)
        for call in refused:
            terminalreporter.write_line(f"terraform {call['command']}: {call['job']}")
    if not calls:
        terminalreporter.write_line("terraform: no command run")
        return
    by_job: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        by_job.setdefault(call["job"], []).append(call)
    terminalreporter.section("terraform commands per job (count, CPU seconds incl. providers)")
    for job, runs in sorted(by_job.items(), key=lambda kv: -sum(c["cpu"] for c in kv[1])):
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(Counter(c["command"] for c in runs).items()))
        terminalreporter.write_line(f"{len(runs):4d} {sum(c['cpu'] for c in runs):7.1f} s  {job}  ({kinds})")
    terminalreporter.write_line(f"{len(calls):4d} {sum(c['cpu'] for c in calls):7.1f} s  in all ({log})")


@pytest.fixture(scope="session", autouse=True)
def background(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Background]:
    wanted: set[str] = set()
    for item in request.session.items:
        marker = item.get_closest_marker("background")
        if marker is not None:
            wanted.update(marker.args)
        if "naive_outdir" in getattr(item, "fixturenames", ()):
            wanted.add("naive synth")
    jobs: dict[str, Job] = {}
    if "naive synth" in wanted:
        workdir = tmp_path_factory.mktemp("naive")
        jobs["naive synth"] = Job(
            "naive synth", [PYTHON, str(ROOT / "main.py"), "--outdir", str(workdir / "cdktf.out")], workdir,
            env={**os.environ, "XACCT_PROVIDER_IMPORT": "full"},
        )
    if "host import" in wanted:
        # A host CDKTF app importing our constructs without enabling the lazy loader: the stock,
        # all-importing provider package (about 17 s of imports), its own classes next to ours.
        workdir = tmp_path_factory.mktemp("host")
        code = (
            f"import json, sys; sys.path.insert(0, {str(ROOT / 'constructs')!r}); "
            "import xacct_streaming.blocks.aws; import cdktf_cdktf_provider_aws as aws; "
            f"json.dump([type(sys.modules['cdktf_cdktf_provider_aws']).__name__, aws.s3_bucket.S3Bucket.__name__], open({str(workdir / 'result.json')!r}, 'w'))"
        )
        jobs["host import"] = Job("host import", [PYTHON, "-c", code], workdir)
    terraform_jobs = wanted - {"naive synth", "host import"}
    if terraform_jobs and _needs_terraform() is None:
        outdir = request.getfixturevalue("cli_outdir")
        hcl = request.getfixturevalue("hcl_outdir") if any(rehearsal_job(stack) in terraform_jobs for stack in REHEARSED_STACKS) else None
        for stack in REHEARSED_STACKS:
            if rehearsal_job(stack) in terraform_jobs:
                workdir = tmp_path_factory.mktemp("rehearsal")
                # Each rehearsal plans the stack's HCL export too, against its own moto before applying
                # (test_hcl_export): the JSON side is the plan it applies, not a second plan.
                argv = [PYTHON, str(HARNESS / "rehearse.py"), str(outdir / "stacks" / stack), "--json-out", str(workdir / "result.json"),
                        "--hcl-twin", str(hcl / "stacks" / stack)]
                jobs[rehearsal_job(stack)] = Job(rehearsal_job(stack), argv, workdir)
        if FANOUT_REHEARSAL in terraform_jobs:
            # Both configurations synthesized in the job itself (they share AWS names, so two runs).
            workdir = tmp_path_factory.mktemp("fanout")
            synth = [f"{PYTHON} {ROOT / 'main.py'} --config {ROOT / 'tests/configs' / name}.toml --outdir {workdir / name} --stack fanout-rehearsal >/dev/null"
                     for name in ("fanout-rehearsal", "fanout-rehearsal-without-search")]
            rehearse = (f"{PYTHON} {HARNESS / 'rehearse.py'} {workdir / 'fanout-rehearsal/stacks/fanout-rehearsal'} "
                        f"--then {workdir / 'fanout-rehearsal-without-search/stacks/fanout-rehearsal'} --json-out {workdir / 'result.json'}")
            jobs[FANOUT_REHEARSAL] = Job(FANOUT_REHEARSAL, ["bash", "-c", " && ".join([*synth, rehearse])], workdir)
        if SPLIT_REHEARSAL in terraform_jobs:
            workdir = tmp_path_factory.mktemp("split")
            plans = " ".join(str(workdir / "out/stacks" / f"split-rehearsal-{part}") for part in ("producer", "analytics", "billing"))
            command = (f"{PYTHON} {ROOT / 'main.py'} --config {ROOT / 'tests/configs/fanout-split.toml'} --outdir {workdir / 'out'} --stack split-rehearsal >/dev/null"
                       f" && {PYTHON} {HARNESS / 'rehearse.py'} --split {plans} --json-out {workdir / 'result.json'}")
            jobs[SPLIT_REHEARSAL] = Job(SPLIT_REHEARSAL, ["bash", "-c", command], workdir)
        if "cdktf cli" in terraform_jobs:
            workdir = tmp_path_factory.mktemp("cdktf-cli")
            argv = [PYTHON, str(HARNESS / "cli_rehearse.py"), "--json-out", str(workdir / "result.json")]
            jobs["cdktf cli"] = Job("cdktf cli", argv, workdir)
        if "atlantis workflow" in terraform_jobs:
            workdir = tmp_path_factory.mktemp("atlantis")
            argv = [PYTHON, str(HARNESS / "atlantis_workflow.py"), "--json-out", str(workdir / "result.json")]
            jobs["atlantis workflow"] = Job("atlantis workflow", argv, workdir)
    # Under pytest-xdist (`make check`) every worker collects every test but runs only some: a job
    # starts there when a test first waits for it, in the worker that runs that test.
    if "PYTEST_XDIST_WORKER" not in os.environ:
        for job in jobs.values():
            job.start()
    runner = Background(jobs)
    yield runner
    runner.stop()


@pytest.fixture
def terraform_jobs(background: Background) -> Background:
    """The background runner, for tests of terraform-backed jobs: skips where terraform cannot run."""
    reason = _needs_terraform()
    if reason:
        pytest.skip(reason)
    return background
