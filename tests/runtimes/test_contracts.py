"""The runtimes' contracts (lambda_src/xacct_contracts.py): one class per runtime names its variables,
the stacks set the environment from it, the runtimes read it, the IAM model reads its calls."""

from __future__ import annotations

import io
import tokenize
import re

import pytest

import xacct_contracts as contracts
from conftest import ROOT, Synth

QUEUE = "https://sqs.eu-west-1.amazonaws.com/222222222222/dlq"
ROLE = "arn:aws:iam::111111111111:role/writer"
STREAM = "arn:aws:kinesis:eu-west-1:222222222222:stream/events"
CONTRACTS = sorted(set(contracts.HANDLERS.values()), key=lambda c: c.__name__)


def test_every_variable_is_named_once_across_the_contracts_and_in_no_other_source() -> None:
    # GIVEN every variable a contract reads
    names = {name for contract in CONTRACTS for name in contract.variables().values()}
    # WHEN every string literal of the library, the operator tools and the runtimes is read
    written: dict[str, list[str]] = {}
    sources = [*sorted((ROOT / "constructs").rglob("*.py")), *sorted((ROOT / "lambda_src").rglob("*.py")), ROOT / "main.py"]
    for path in sources:
        if path.name == "xacct_contracts.py" or "__pycache__" in path.parts:
            continue
        for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if token.type == tokenize.STRING:
                for name in names:
                    if re.search(rf"(?<![A-Z_]){name}(?![A-Z_])", token.string):
                        written.setdefault(name, []).append(f"{path.relative_to(ROOT)}:{token.start[0]}")
    # THEN none is written anywhere but in its contract (AWS_REGION and the function name: Lambda's own)
    assert written == {}
    assert {"TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "STREAM_ROLE_ARN", "SECRET_ID", "PREVIOUS_PASSWORD_GRACE_SECONDS"} <= names


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.__name__)
def test_a_stack_set_environment_reads_back_as_the_same_settings(contract: type[contracts.RuntimeSettings]) -> None:
    # GIVEN valid values for every field a stack sets
    values = {
        contracts.ConsumerSettings: {"dead_letter_queue_url": QUEUE, "table_name": "sink-table", "sink_role_arn": ROLE, "sink_external_id": "ext-1",
                                     "sink_region": "eu-central-1", "log_level": "DEBUG"},
        contracts.ChangeSettings: {"dead_letter_queue_url": QUEUE, "delivery_stream_name": "changes", "metrics_namespace": "Mine"},
        contracts.ForwarderSettings: {"dead_letter_queue_url": QUEUE, "stream_arn": STREAM, "stream_role_arn": ROLE},
        contracts.AuthorizerSettings: {"secret_id": "xacct/basic-auth", "cache_seconds": 30, "previous_grace_seconds": 0},
    }[contract]
    # WHEN the stack writes them and the runtime reads them (Lambda adds the region)
    env = contract.environment(**values)
    settings = contract.from_env({"AWS_REGION": "eu-west-1", **env})
    # THEN every value comes back, numbers as numbers, and every variable is text
    assert {name: getattr(settings, name) for name in values} == values
    assert all(isinstance(v, str) for v in env.values())


def test_environment_refuses_a_field_it_does_not_have_and_one_lambda_sets() -> None:
    with pytest.raises(TypeError, match="ChangeSettings has no field sink_role_arn"):
        contracts.ChangeSettings.environment(sink_role_arn=ROLE)
    with pytest.raises(TypeError, match=r"ConsumerSettings.region is set by Lambda \(AWS_REGION\)"):
        contracts.ConsumerSettings.environment(region="eu-west-1")


def test_environment_leaves_out_what_is_not_set_and_passes_references_unchecked() -> None:
    assert contracts.ConsumerSettings.environment(table_name="${aws_dynamodb_table.t.name}", sink_role_arn=None) == {"TABLE_NAME": "${aws_dynamodb_table.t.name}"}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param(contracts.ConsumerSettings(region="eu-west-1", table_name="t1x"),
                     [(("dynamodb:BatchWriteItem",), "t1x", "table", None, {})], id="consumer-own-table"),
        pytest.param(contracts.ConsumerSettings(region="eu-west-1", table_name="t1x", sink_role_arn=ROLE, sink_external_id="e1"),
                     [(("sts:AssumeRole",), ROLE, "role", None, {"sts:ExternalId": "e1"}), (("dynamodb:BatchWriteItem",), "t1x", "table", ROLE, {})],
                     id="consumer-through-a-role"),
        pytest.param(contracts.ChangeSettings(region="eu-west-1", delivery_stream_name="d"),
                     [(("firehose:PutRecordBatch",), "d", "delivery_stream", None, {})], id="changes-to-firehose"),
        pytest.param(contracts.ForwarderSettings(region="eu-west-1", stream_arn=STREAM, stream_role_arn=ROLE),
                     [(("sts:AssumeRole",), ROLE, "role", None, {}), (("kinesis:PutRecord", "kinesis:PutRecords"), STREAM, "stream", ROLE, {})],
                     id="forwarder"),
        pytest.param(contracts.AuthorizerSettings(secret_id="s"), [(("secretsmanager:GetSecretValue",), "s", "secret", None, {})], id="authorizer"),
        pytest.param(contracts.ConsumerSettings(region="eu-west-1"), [], id="own-code-without-a-sink"),
    ],
)
def test_each_runtime_declares_the_calls_it_makes(settings: contracts.RuntimeSettings, expected: list[tuple]) -> None:
    assert [(c.actions, c.target, c.kind, c.as_role, dict(c.context)) for c in settings.calls()] == expected


def test_unchecked_reading_keeps_what_does_not_convert() -> None:
    # GIVEN a synthesized environment whose number is a reference (what the IAM model reads)
    env = {"SECRET_ID": "s", "SECRET_CACHE_SECONDS": "${var.cache}"}
    # WHEN read unchecked, THEN nothing is refused and the text is kept; checked, the variable is named
    assert contracts.AuthorizerSettings.from_env(env, check=False).cache_seconds == "${var.cache}"
    with pytest.raises(contracts.ConfigurationError, match="SECRET_CACHE_SECONDS: '\\$\\{var.cache\\}' is not a number of seconds"):
        contracts.AuthorizerSettings.from_env(env)


@pytest.mark.parametrize("fixture", ["synth", "ddb_synth", "replication_synth", "ses_synth", "api_synth"])
def test_every_function_gets_what_its_runtime_requires_and_nothing_it_does_not_read(request: pytest.FixtureRequest, fixture: str) -> None:
    # GIVEN a synthesized stack's functions
    synth: Synth = request.getfixturevalue(fixture)
    handlers = []
    for name, function in synth.resources("aws_lambda_function").items():
        contract = contracts.settings_for(function["handler"])
        variables = set(function["environment"]["variables"])
        required = {contract.variables()[f] for f in contract.REQUIRED} - {"AWS_REGION"}
        # THEN its environment holds every variable its runtime requires, and only the runtime's
        assert required <= variables, (name, required - variables)
        assert variables <= set(contract.stack_variables().values()), (name, variables - set(contract.stack_variables().values()))
        handlers.append(function["handler"])
    assert set(handlers) <= set(contracts.HANDLERS)
