"""A function's own code: built-in runtimes one archive each, a user's directory (requirements
vendored), a prebuilt zip or an ECR image; handler, environment, layers, VPC and tags."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.props import ConsumerFunctionProps
from xacct_streaming.settings.kinesis_efo import StackProps
from xacct_streaming.settings.replication import ReplicationStackProps

pytestmark = pytest.mark.synth

IMAGE = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/orders-reader@sha256:" + "a" * 64


@pytest.fixture
def build_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XACCT_BUILD_CACHE", str(cache))
    return cache


def _synth(tmp_path: Path, props: Any, name: str = "out") -> dict[str, Any]:
    from xacct_streaming.synthesis.synth import synthesize

    outdir = tmp_path / name
    synthesize([props], outdir=outdir)
    return json.loads((outdir / "stacks" / props.stack_name / "cdk.tf.json").read_text())


def _functions(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {body["//"]["metadata"]["path"]: body for body in config["resource"]["aws_lambda_function"].values()}


def _zip_names(stack_dir: Path, function: dict[str, Any]) -> list[str]:
    with zipfile.ZipFile(stack_dir / function["filename"]) as archive:
        return archive.namelist()


def _wheel(directory: Path, name: str = "tinydep", version: str = "1.0") -> Path:
    """A pure-Python wheel built by hand, so pip can vendor it with no index."""
    files = {
        f"{name}/__init__.py": b"VALUE = 42\n",
        f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{name}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}" for path, data in files.items()]
    files[f"{name}-{version}.dist-info/RECORD"] = ("\n".join(record) + f"\n{name}-{version}.dist-info/RECORD,,\n").encode()
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def test_changing_one_builtin_module_changes_only_the_functions_that_import_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the replication stack (writer: handler.py; flattener: changes_handler.py) from a copy of lambda_src/
    sources = tmp_path / "lambda_src"
    shutil.copytree(ROOT / "lambda_src", sources, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("XACCT_LAMBDA_SRC", str(sources))
    before = _functions(_synth(tmp_path, ReplicationStackProps(), "before"))
    # WHEN a module only the flattener imports changes
    images = sources / "xacct_changes" / "images.py"
    images.write_text(images.read_text() + "\n# changed\n")
    after = _functions(_synth(tmp_path, ReplicationStackProps(), "after"))
    # THEN the flattener's code changes and the writer is untouched, byte for byte
    writer, flattener = "xacct-kinesis-replication/writer-function/function", "xacct-kinesis-replication/flattener-function/function"
    assert after[writer] == before[writer]
    changed = {key for key in after[flattener] if after[flattener][key] != before[flattener].get(key)}
    assert changed == {"filename", "source_code_hash"}


def test_a_builtin_archive_holds_its_handler_and_what_it_imports_only(cli_outdir: Path) -> None:
    # GIVEN the API stack's two functions
    stack_dir = cli_outdir / "stacks" / "xacct-api-ingest"
    functions = _functions(json.loads((stack_dir / "cdk.tf.json").read_text()))
    # THEN the authorizer carries its module and the runtime contracts it imports, not the consumer's runtime
    assert sorted(_zip_names(stack_dir, functions["xacct-api-ingest/authorizer-function/function"])) == [
        "authorizer_handler.py", "xacct_contracts.py", "xacct_ingest/__init__.py", "xacct_ingest/authorizer.py",
    ]
    consumer = _zip_names(stack_dir, functions["xacct-api-ingest/consumer-function/function"])
    assert "handler.py" in consumer and "xacct_consumer/kpl.py" in consumer
    assert not any(name.startswith(("xacct_ingest", "xacct_changes", "xacct_notifications")) or name == "authorizer_handler.py" for name in consumer)


@pytest.mark.slow  # seconds of CPU in a synth of its own: make test
def test_own_source_directory_with_vendored_requirements(tmp_path: Path, build_cache: Path) -> None:
    # GIVEN a user's directory with its handler, a package of its own and a requirement from a local wheel
    src = tmp_path / "orders_reader"
    (src / "orders").mkdir(parents=True)
    (src / "orders" / "__init__.py").write_text("")
    (src / "orders" / "app.py").write_text("import tinydep\n\ndef handle(event, context):\n    return {'batchItemFailures': []}\n")
    (tmp_path / "wheels").mkdir()
    _wheel(tmp_path / "wheels")
    (src / "requirements.txt").write_text("--no-index\n--find-links ../wheels\ntinydep==1.0\n")
    props = StackProps(function=ConsumerFunctionProps(source_dir=str(src), handler="orders.app.handle", runtime="python3.13", architecture="x86_64"))
    # WHEN the stack is synthesized
    function = _functions(_synth(tmp_path, props))["xacct-kinesis-efo/consumer-function/function"]
    # THEN the function runs the user's handler from a zip of the directory plus the vendored package,
    # without pip's machine-specific records
    assert (function["handler"], function["runtime"], function["architectures"]) == ("orders.app.handle", "python3.13", ["x86_64"])
    names = _zip_names(tmp_path / "out" / "stacks" / props.stack_name, function)
    assert sorted(names) == [
        "orders/__init__.py", "orders/app.py", "requirements.txt",
        "tinydep-1.0.dist-info/METADATA", "tinydep-1.0.dist-info/WHEEL", "tinydep/__init__.py",
    ]
    # AND the archive is reproducible: a fresh cache (pip runs again) gives the same bytes
    first = (tmp_path / "out" / "stacks" / props.stack_name / function["filename"]).read_bytes()
    shutil.rmtree(build_cache)
    again = _functions(_synth(tmp_path, props, "again"))["xacct-kinesis-efo/consumer-function/function"]
    assert (tmp_path / "again" / "stacks" / props.stack_name / again["filename"]).read_bytes() == first


def test_a_requirement_pip_cannot_install_is_a_clear_error(tmp_path: Path, build_cache: Path) -> None:
    from xacct_streaming.synthesis.lambda_archive import ArchiveError

    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("def handle(event, context):\n    return {}\n")
    (src / "requirements.txt").write_text("--no-index\nno-such-package-xyz==9.9\n")
    props = StackProps(function=ConsumerFunctionProps(source_dir=str(src), handler="app.handle"))
    with pytest.raises(ArchiveError, match=r"pip could not install .*requirements.txt for python3.12/arm64: .*no-such-package-xyz") as raised:
        _synth(tmp_path, props)
    # AND it says why a package may not install here, and the ways out
    assert "Only binary wheels built for python3.12 on arm64 can be vendored" in str(raised.value)
    assert "psycopg2 -> psycopg2-binary" in str(raised.value) and "function.image_uri" in str(raised.value)
    assert not (tmp_path / "out").exists()


def test_prebuilt_zip_is_deployed_as_it_is(tmp_path: Path) -> None:
    # GIVEN a zip built elsewhere (say, by a Node build) with the handler's file in it
    prebuilt = tmp_path / "reader.zip"
    with zipfile.ZipFile(prebuilt, "w") as archive:
        archive.writestr("index.mjs", "export const handler = async () => ({ batchItemFailures: [] });\n")
    props = StackProps(function=ConsumerFunctionProps(zip_file=str(prebuilt), handler="index.handler", runtime="nodejs22.x"))
    # WHEN synthesized
    function = _functions(_synth(tmp_path, props))["xacct-kinesis-efo/consumer-function/function"]
    # THEN the very same bytes are deployed with that handler and runtime
    assert (tmp_path / "out" / "stacks" / props.stack_name / function["filename"]).read_bytes() == prebuilt.read_bytes()
    assert (function["handler"], function["runtime"]) == ("index.handler", "nodejs22.x")


def test_container_image(tmp_path: Path) -> None:
    props = StackProps(function=ConsumerFunctionProps(image_uri=IMAGE))
    function = _functions(_synth(tmp_path, props))["xacct-kinesis-efo/consumer-function/function"]
    assert (function["package_type"], function["image_uri"]) == ("Image", IMAGE)
    assert not {"handler", "runtime", "filename", "source_code_hash"} & set(function)
    assert not (tmp_path / "out" / "stacks" / props.stack_name / "assets").exists()


def test_environment_layers_vpc_and_tags(tmp_path: Path) -> None:
    # GIVEN a built-in function with variables of its own, a layer, a VPC and tags
    props = StackProps(
        function=ConsumerFunctionProps(
            environment={"TEAM": "orders"},
            layers=["arn:aws:lambda:eu-west-1:111111111111:layer:powertools:3"],
            subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
            security_group_ids=["sg-0123456789abcdef0"],
            tags={"team": "orders"},
        )
    )
    config = _synth(tmp_path, props)
    function = _functions(config)["xacct-kinesis-efo/consumer-function/function"]
    # THEN the user's variable is added to the stack's wiring, not instead of it
    variables = function["environment"]["variables"]
    assert variables["TEAM"] == "orders" and variables["TABLE_NAME"] == "xacct-stream-sink"
    assert function["layers"] == ["arn:aws:lambda:eu-west-1:111111111111:layer:powertools:3"]
    assert function["vpc_config"] == {"subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"], "security_group_ids": ["sg-0123456789abcdef0"]}
    # AND the role may manage interfaces in exactly those subnets and groups
    runtime = next(p for p in config["resource"]["aws_iam_role_policy"].values() if p["name"] == "runtime")
    statements = {s["Sid"]: s for s in json.loads(runtime["policy"])["Statement"]}
    ec2 = "arn:${data.aws_partition.partition.partition}:ec2:${var.region}:${var.consumer_account_id}"
    assert statements["AttachToOwnSubnetsAndSecurityGroups"]["Resource"] == [
        f"{ec2}:network-interface/*", f"{ec2}:subnet/subnet-0123456789abcdef0", f"{ec2}:subnet/subnet-0123456789abcdef1", f"{ec2}:security-group/sg-0123456789abcdef0",
    ]
    assert statements["DescribeNetworkNoResourceLevelPermissions"]["Action"] == ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
    # AND every resource of the function carries its tags; the producer's resources do not
    tagged = {
        f"{type_}.{body['//']['metadata']['path']}"
        for type_, bodies in config["resource"].items()
        for body in bodies.values()
        if body.get("tags") == {"team": "orders"}
    }
    assert tagged == {
        "aws_lambda_function.xacct-kinesis-efo/consumer-function/function",
        "aws_iam_role.xacct-kinesis-efo/consumer-function/role",
        "aws_cloudwatch_log_group.xacct-kinesis-efo/consumer-function/log-group",
        "aws_kms_key.xacct-kinesis-efo/consumer-function/key/key",
        "aws_sqs_queue.xacct-kinesis-efo/consumer-function/dead-letter-queue",
        "aws_sqs_queue.xacct-kinesis-efo/consumer-function/on-failure-queue",
    }


def test_default_function_is_in_no_vpc_and_has_no_eni_permissions(synth: Any) -> None:
    _, function = synth.only("aws_lambda_function")
    assert "vpc_config" not in function and "layers" not in function
    assert "ec2:" not in json.dumps(synth.config["resource"]["aws_iam_role_policy"])


@pytest.mark.parametrize(
    ("files", "kwargs", "field", "allowed"),
    [
        pytest.param({"app.py": ""}, {"handler": "main.handler"}, "function.handler", "a handler whose module is in", id="python-module-missing"),
        pytest.param({"pkg/app.py": ""}, {"handler": "pkg.main.handler"}, "function.handler", "looked for pkg/main.py or pkg/main/__init__.py", id="python-package-module-missing"),
        pytest.param({"index.js": ""}, {"handler": "app.handler", "runtime": "nodejs22.x"}, "function.handler", "looked for app.js or app.mjs or app.cjs", id="node-module-missing"),
        pytest.param({"app.py": ""}, {"handler": "app.handler", "runtime": "python3.8"}, "function.runtime", "'python3.10', 'python3.11'", id="own-runtime-unsupported"),
        pytest.param({"app.py": ""}, {"handler": "app.handler", "image_uri": IMAGE}, "function.image_uri", "no value when function.source_dir is set", id="dir-and-image"),
    ],
)
def test_bad_own_code(tmp_path: Path, files: dict[str, str], kwargs: dict[str, str], field: str, allowed: str) -> None:
    # GIVEN a source directory with `files`
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    # WHEN / THEN
    with pytest.raises(ConfigError) as caught:
        ConsumerFunctionProps(source_dir=str(tmp_path), **kwargs)
    assert caught.value.field == field
    assert allowed in str(caught.value)


def test_a_zip_without_the_handler_module(tmp_path: Path) -> None:
    prebuilt = tmp_path / "code.zip"
    with zipfile.ZipFile(prebuilt, "w") as archive:
        archive.writestr("other.py", "")
    with pytest.raises(ConfigError, match=r"function.handler: 'app.handler' is not allowed; expected a handler whose module is in .*code.zip \(looked for app.py"):
        ConsumerFunctionProps(zip_file=str(prebuilt), handler="app.handler")
    (tmp_path / "not.zip").write_text("text")
    with pytest.raises(ConfigError, match=r"function.zip_file: .*not.zip' is not allowed; expected an existing zip file"):
        ConsumerFunctionProps(zip_file=str(tmp_path / "not.zip"), handler="app.handler")


def test_main_reports_a_packaging_failure_in_one_line_and_keeps_the_output(tmp_path: Path) -> None:
    from conftest import run_main

    # GIVEN a previous output and settings whose requirements cannot be installed
    (tmp_path / "out" / "stacks").mkdir(parents=True)
    (tmp_path / "out" / "stacks" / "marker").write_text("kept")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handle(event, context):\n    return {}\n")
    (tmp_path / "src" / "requirements.txt").write_text("--no-index\nno-such-package-xyz==9.9\n")
    settings = tmp_path / "s.toml"
    settings.write_text('[function]\nsource_dir = "src"\nhandler = "app.handle"\n')
    # WHEN
    result = run_main("--outdir", str(tmp_path / "out"), "--config", str(settings), "--stack", "xacct-kinesis-efo",
                      env={"XACCT_BUILD_CACHE": str(tmp_path / "cache")})
    # THEN exit status 2, one line naming the file and the package, the output untouched
    assert result.returncode == 2
    assert result.stderr.startswith("error: pip could not install ") and "no-such-package-xyz" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "out" / "stacks" / "marker").read_text() == "kept"


@pytest.mark.parametrize(
    ("module", "handler", "error"),
    [
        pytest.param("def handle(event, context):\n    return {}\n", "app.lambda_handler", "no 'lambda_handler' there", id="function-missing"),
        pytest.param("def lambda_handler(event, context):\n    return {}\n", "app.lambda_handler", None, id="def"),
        pytest.param("from powertools import make\nlambda_handler = make()\n", "app.lambda_handler", None, id="assigned"),
        pytest.param("from other import lambda_handler\n", "app.lambda_handler", None, id="imported"),
        pytest.param("def lambda_handler(:\n", "app.lambda_handler", None, id="unparsable-left-to-the-runtime"),
    ],
)
@pytest.mark.parametrize("packaging", ["source_dir", "zip_file"])
def test_the_handlers_function_is_checked_by_reading_the_module_never_importing_it(
    tmp_path: Path, module: str, handler: str, error: str | None, packaging: str
) -> None:
    # GIVEN a function's own code, as a directory or a zip, whose module may not define the handler
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text(module + "raise SystemExit('imported!')\n" if error else module)
    code: dict[str, Any] = {"source_dir": str(src)}
    if packaging == "zip_file":
        with zipfile.ZipFile(tmp_path / "code.zip", "w") as archive:
            archive.write(src / "app.py", "app.py")
        code = {"zip_file": str(tmp_path / "code.zip")}
    # WHEN the settings are read THEN a missing function is named with where it was looked for
    if error is None:
        assert ConsumerFunctionProps(handler=handler, runtime="python3.13", **code).handler == handler
        return
    with pytest.raises(ConfigError) as raised:
        ConsumerFunctionProps(handler=handler, runtime="python3.13", **code)
    assert raised.value.field == "function.handler" and error in str(raised.value)


@pytest.mark.parametrize(
    ("runtime", "handler", "packaged"),
    [
        pytest.param("python3.13", "app.handle", ["app.py", "pkg/util.py", "settings/.keep-me"], id="python"),
        pytest.param("nodejs22.x", "index.handler", ["app.py", "node_modules/left-pad/index.js", "pkg/util.py", "settings/.keep-me"], id="nodejs-keeps-node-modules"),
    ],
)
def test_hidden_files_stay_out_of_the_zip_unless_included(tmp_path: Path, runtime: str, handler: str, packaged: list[str]) -> None:
    from xacct_streaming.synthesis.lambda_archive import package_entries

    # GIVEN a source directory with a secret in .env, git files, a cache, packages and a test folder
    src = tmp_path / "src"
    for name, text in {"app.py": "def handle(e, c): ...\n", "index.js": "exports.handler = async () => ({});\n", ".env": "SECRET=1\n",
                       ".git/config": "[core]\n", ".gitignore": "x\n", "pkg/util.py": "X = 1\n", "pkg/__pycache__/util.cpython-313.pyc": "",
                       "node_modules/left-pad/index.js": "module.exports = 1\n", "tests/test_app.py": "", "settings/.keep-me": ""}.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    # WHEN the entries are chosen with tests/ excluded and one hidden file included
    names = [name for name, _ in package_entries(src, runtime, exclude=("tests/**", "index.js" if runtime.startswith("python") else "x"), include=("settings/.keep-me",))]
    # THEN no .env, no .git*, no cache, no tests; node_modules only for Node.js
    assert [n for n in names if n != "index.js"] == packaged


def test_two_functions_whose_code_holds_the_same_file_names_get_their_own_archives(tmp_path: Path) -> None:
    # GIVEN the replication stack's two functions, each with its own app.py of different contents
    for name in ("writer", "flattener"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(f"def handle(event, context):\n    return {name!r}\n")
    props = ReplicationStackProps(
        writer=ConsumerFunctionProps(function_name="w", key_alias="alias/w", source_dir=str(tmp_path / "writer"), handler="app.handle"),
        flattener=ConsumerFunctionProps(function_name="f", key_alias="alias/f", source_dir=str(tmp_path / "flattener"), handler="app.handle"),
    )
    # WHEN synthesized in one run
    config = _synth(tmp_path, props)
    # THEN each function deploys its own code: two archives, each holding its own app.py
    functions = {b["function_name"]: b for b in config["resource"]["aws_lambda_function"].values()}
    hashes = {functions[n]["source_code_hash"] for n in ("w", "f")}
    assert len(hashes) == 2
