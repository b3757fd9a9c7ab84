"""Every settings field at its allowed extreme: each stack kind, with every name at its longest and made of
every character its setting allows (the fan-out with the most consumers Kinesis takes), synthesizes to a
configuration whose every name AWS accepts and that `terraform validate` passes; a value refused on
the way is refused at synth with an error naming the setting.

The fields come from the settings classes themselves: each `require_match` call while the kinds'
defaults are built is recorded with its pattern, so a new name setting is covered without a change here.
"""

from __future__ import annotations

import importlib
import itertools
import json
import re
import string
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

from conftest import built_once
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.synthesis.name_limits import NAME_LIMITS, out_of_bounds

SETTINGS_MODULES = ("xacct_streaming.settings.props", "xacct_streaming.settings.naming", "xacct_streaming.settings.kinesis_efo", "xacct_streaming.settings.dynamodb_streams",
                    "xacct_streaming.settings.replication", "xacct_streaming.settings.ses_notifications", "xacct_streaming.settings.api_ingest",
                    "xacct_streaming.settings.fanout")
FANOUT = "xacct-kinesis-fanout"
_SEGMENT = re.compile(r"\[((?:\\.|[^\]\\])+)\](?:\{(\d+)(?:,(\d+))?\})?")


def allowed_characters(char_class: str) -> str:
    """The characters of a regex class body such as `a-zA-Z0-9_.-` or `\\w+=,.@-`."""
    out, index = [], 0
    while index < len(char_class):
        if char_class.startswith("\\w", index):
            out += string.ascii_letters + string.digits + "_"
            index += 2
        elif char_class[index] == "\\":
            out.append(char_class[index + 1])
            index += 2
        elif index + 2 < len(char_class) and char_class[index + 1] == "-":
            out += [chr(c) for c in range(ord(char_class[index]), ord(char_class[index + 2]) + 1)]
            index += 3
        else:
            out.append(char_class[index])
            index += 1
    return "".join(dict.fromkeys(out))


_LITERAL = re.compile(r"[a-z/]+|\(\?![^)]*\)")  # a fixed prefix (`alias/`), a negative lookahead (skipped)


def extreme(pattern: str, offset: int = 0) -> Optional[str]:
    """The longest value `pattern` (`[class]{m,n}` segments, maybe after a fixed prefix) accepts, using
    every allowed character (rotated by `offset`, so two fields get different values); None for other patterns."""
    pos, parts = 0, []
    for match in _SEGMENT.finditer(pattern):
        while match.start() != pos:
            literal = _LITERAL.match(pattern, pos)
            if literal is None or literal.end() > match.start():
                return None
            parts.append("" if literal.group().startswith("(") else literal.group())
            pos = literal.end()
        chars = allowed_characters(match.group(1))
        chars = chars[offset % len(chars):] + chars[:offset % len(chars)]
        count = int(match.group(3) or match.group(2) or 1)
        parts.append("".join(itertools.islice(itertools.cycle(chars), count)))
        pos = match.end()
    return "".join(parts) if parts and pos == len(pattern) else None


def name_fields(kind: str) -> dict[str, str]:
    """`section.key` (or `stack_name`) -> pattern, for every name setting of the kind: each settings table's
    class is built with its defaults while `require_match` records what it checks."""
    from xacct_streaming.settings.catalog import KINDS

    # Every settings module that calls require_match under its own name (the kinds', the shared props',
    # naming's stack_name check).
    modules = [m for m in (importlib.import_module(name) for name in SETTINGS_MODULES) if hasattr(m, "require_match")]
    originals = [module.require_match for module in modules]
    seen: dict[str, str] = {}

    def recording(original: Any) -> Any:
        def require_match(field: str, value: Any, pattern: str, description: str) -> None:
            seen.setdefault(field, pattern)
            original(field, value, pattern, description)
        return require_match

    fields: dict[str, str] = {}
    try:
        for module, original in zip(modules, originals):
            module.require_match = recording(original)  # type: ignore[attr-defined]
        for section, cls in [("", KINDS[kind].props_type), *KINDS[kind].sections.items()]:
            seen.clear()
            try:
                cls()
            except (TypeError, ConfigError):
                continue  # a table with required settings (existing_stream): not a name extreme
            for field, pattern in seen.items():
                key = field.rpartition(".")[2]
                if not section and field == "stack_name":
                    fields["stack_name"] = pattern
                elif section and "." in field and field.count(".") == 1:
                    fields[f"{section}.{key}"] = pattern
    finally:
        for module, original in zip(modules, originals):
            module.require_match = original  # type: ignore[attr-defined]
    return fields


def _setting(field: str, value: Any) -> dict[str, Any]:
    section, _, key = field.rpartition(".")
    return {section: {key: value}} if section else {field: value}


def _merge(*parts: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return merged


def _fanout_consumers(count: int) -> list[dict[str, Any]]:
    # Consumer and account names at their longest (31), every allowed character, each account its own.
    return [{"name": f"c{i:02d}" + extreme(r"[a-z0-9-]{28}", i), "account": f"a{i:02d}" + extreme(r"[a-z0-9_]{28}", i)} for i in range(count)]


def boundary_settings(kind: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The kind's settings with every name field at its extreme, less the fields refused there, and
    {field: the error} for those. Each field is tried alone first, then all together at synth."""
    from xacct_streaming.settings.config import props_from_mapping

    fields = name_fields(kind)
    base: dict[str, Any] = {"kind": kind}
    if kind == FANOUT:
        base["consumers"] = _fanout_consumers(20)
    accepted: dict[str, Any] = {}
    refused: dict[str, str] = {}
    for offset, (field, pattern) in enumerate(sorted(fields.items())):
        value = extreme(pattern, offset)
        if value is None:
            continue
        try:
            props_from_mapping(_merge(base, _setting(field, value)))
            accepted[field] = value
        except ConfigError as error:
            refused[field] = str(error)
    return _merge(base, *(_setting(f, v) for f, v in accepted.items())), refused


def _synthesize_boundaries(target: Path) -> None:
    from xacct_streaming.settings.config import props_from_mapping
    from xacct_streaming.settings.catalog import KINDS
    from xacct_streaming.synthesis.synth import synthesize

    report: dict[str, Any] = {}
    for kind in KINDS:
        settings, refused = boundary_settings(kind)
        # Refused together at synth (a derived name out of AWS's bounds): that field back to its default.
        while True:
            try:
                props = props_from_mapping(settings)
                synthesize([props], outdir=target / kind)
                break
            except ConfigError as error:
                section, _, key = error.field.partition(".")
                if not key or key not in settings.get(section, {}):
                    raise
                refused[error.field] = str(error)
                del settings[section][key]
        report[kind] = {"settings": settings, "refused": refused, "stack": props.stack_name}
    (target / "report.json").write_text(json.dumps(report, indent=1))


@pytest.fixture(scope="module")
def boundaries(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    target = built_once(tmp_path_factory, "boundaries", _synthesize_boundaries)
    return target, json.loads((target / "report.json").read_text())


def _configs(target: Path, report: dict[str, Any]) -> Iterator[tuple[str, Path]]:
    for kind in report:
        for stack_dir in sorted((target / kind / "stacks").iterdir()):
            yield kind, stack_dir


@pytest.mark.synth
def test_extremes_are_generated_from_each_settings_pattern() -> None:
    # GIVEN the patterns of three settings WHEN their extremes are made THEN longest, every character
    kinesis = extreme(r"[a-zA-Z0-9_.-]{1,128}")
    assert len(kinesis) == 128 and set(kinesis) == set(string.ascii_letters + string.digits + "_.-") and kinesis.startswith("abc")
    assert extreme(r"[a-zA-Z0-9_.-]{1,128}", 1).startswith("bcd")
    assert extreme(r"[a-z][a-z0-9-]{0,62}") == "a" + extreme(r"[a-z0-9-]{62}")
    assert len(extreme(r"[a-z][a-z0-9-]{0,62}")) == 63
    assert extreme(r"[\w+=,.@-]{1,64}")[61:] == "9_+" and extreme(r"[\w+=,.@-]{1,69}").endswith("+=,.@-")
    assert extreme(r"alias/(?!aws/)[a-zA-Z0-9/_-]{1,250}") == "alias/" + extreme(r"[a-zA-Z0-9/_-]{250}")
    assert extreme(r"arn:aws:[a-z]+") is None  # not a name pattern: left to the other tests


@pytest.mark.slow  # six synths: make test, as the validates that use them
def test_every_kind_at_its_extremes_synthesizes_with_names_aws_accepts(boundaries: tuple[Path, dict[str, Any]]) -> None:
    target, report = boundaries
    # THEN each kind covered its name settings, most of them at their extreme
    assert sorted(report) == ["xacct-api-ingest", "xacct-dynamodb-streams", "xacct-kinesis-efo", "xacct-kinesis-fanout",
                              "xacct-kinesis-replication", "xacct-ses-notifications"]
    at_extreme = {kind: sum(len(v) for v in found["settings"].values() if isinstance(v, dict)) for kind, found in report.items()}
    assert at_extreme == {"xacct-api-ingest": 15, "xacct-dynamodb-streams": 8, "xacct-kinesis-efo": 7, "xacct-kinesis-fanout": 4,
                          "xacct-kinesis-replication": 14, "xacct-ses-notifications": 10}, at_extreme
    for kind, found in report.items():
        # AND every refusal is a clear one-line error that names the setting
        for field, message in found["refused"].items():
            assert message.startswith(field.split(".")[0]) or "stack_name" in message, (field, message)
            assert "\n" not in message
    # AND the fan-out has the most enhanced fan-out consumers Kinesis allows, names at their longest
    fanout = json.loads(next((target / FANOUT / "stacks").glob("*/cdk.tf.json")).read_text())
    consumers = fanout["resource"]["aws_kinesis_stream_consumer"]
    assert len(consumers) == 20 and max(len(c["name"]) for c in consumers.values()) >= 31
    # AND no synthesized name is out of what AWS accepts (worst-case account id and region)
    for kind, stack_dir in _configs(target, report):
        config = json.loads((stack_dir / "cdk.tf.json").read_text())
        assert list(out_of_bounds(config)) == [], (kind, stack_dir.name)


def test_a_long_stack_name_is_reported_as_stack_name_when_a_consumers_derived_name_outgrows_its_limit() -> None:
    from xacct_streaming.settings.config import props_from_mapping

    # GIVEN a fan-out whose stack name (60) and consumer name (31) fit their settings, but not together in
    # the consumer's function name `<stack>-<consumer>` (53)
    settings = {"kind": FANOUT, "stack_name": "s" + "x" * 59, "consumers": [{"name": "c" + "y" * 30, "account": "analytics"}]}
    # WHEN read THEN the error names stack_name, what it is derived into, and the way out
    with pytest.raises(ConfigError) as raised:
        props_from_mapping(settings)
    assert raised.value.field == "stack_name"
    assert "derived as <stack_name>-<consumer name>" in str(raised.value) and "or set consumers.cyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy.function.function_name" in str(raised.value)


@pytest.mark.slow  # a synth of its own
def test_a_derived_name_out_of_bounds_is_refused_at_synth_and_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xacct_streaming.settings.kinesis_efo import StackProps
    from xacct_streaming.synthesis import name_limits
    from xacct_streaming.synthesis.synth import synthesize

    # GIVEN an earlier output, and IAM's role-name bound made smaller than the function's derived role name
    (tmp_path / "out" / "keep").mkdir(parents=True)
    monkeypatch.setitem(name_limits.NAME_LIMITS, ("aws_iam_role", "name"), name_limits.NameLimit(1, 20, r"[\w+=,.@-]+", "a test bound"))
    # WHEN the core stack is synthesized
    with pytest.raises(ConfigError) as raised:
        synthesize([StackProps()], outdir=tmp_path / "out")
    # THEN the error names the settings the role name comes from and the bound, and the output is untouched
    assert raised.value.field == "function.function_name"
    assert str(raised.value) == (
        "function.function_name: 'xacct-stream-consumer-role' is not allowed; expected settings whose derived name of "
        "aws_iam_role.xacct-kinesis-efo/consumer-function/role is 1-20 characters matching [\\w+=,.@-]+ (with a 12-digit account id and a "
        "14-character region; a test bound): shorten them"
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["keep"]


def test_names_with_variables_are_checked_at_their_longest() -> None:
    # GIVEN a bucket named from the account and region variables (the replication archive's)
    config = {"resource": {"aws_s3_bucket": {"b": {"bucket": "p" * 34 + "-${var.consumer_account_id}-${var.region}"}},
                           "aws_sqs_queue": {"q": {"name": "${aws_lambda_function.f.function_name}-dlq"}}}}
    # WHEN checked THEN 34 + 1 + 12 + 1 + 14 = 62 fits S3's 63, 36 does not; a name from another resource is left alone
    assert list(out_of_bounds(config)) == []
    config["resource"]["aws_s3_bucket"]["b"]["bucket"] = "p" * 36 + "-${var.consumer_account_id}-${var.region}"
    assert [(address, attribute) for address, attribute, _, _ in out_of_bounds(config)] == [("aws_s3_bucket.b", "bucket")]


@pytest.mark.parametrize(("type_", "attribute", "service", "operation", "member"), [
    ("aws_iam_role", "name", "iam", "CreateRole", "RoleName"),
    ("aws_iam_role_policy", "name", "iam", "PutRolePolicy", "PolicyName"),
    ("aws_lambda_permission", "statement_id", "lambda", "AddPermission", "StatementId"),
    ("aws_cloudwatch_log_group", "name", "logs", "CreateLogGroup", "logGroupName"),
    ("aws_cloudwatch_metric_alarm", "alarm_name", "cloudwatch", "PutMetricAlarm", "AlarmName"),
    ("aws_kinesis_stream", "name", "kinesis", "CreateStream", "StreamName"),
    ("aws_kinesis_stream_consumer", "name", "kinesis", "RegisterStreamConsumer", "ConsumerName"),
    ("aws_kinesis_firehose_delivery_stream", "name", "firehose", "CreateDeliveryStream", "DeliveryStreamName"),
    ("aws_kms_alias", "name", "kms", "CreateAlias", "AliasName"),
    ("aws_kms_grant", "name", "kms", "CreateGrant", "Name"),
    ("aws_secretsmanager_secret", "name", "secretsmanager", "CreateSecret", "Name"),
])
def test_name_limits_agree_with_the_aws_api_models(type_: str, attribute: str, service: str, operation: str, member: str) -> None:
    import botocore.session

    # GIVEN the request member of the API call that creates the resource, in botocore's model
    shape = botocore.session.get_session().get_service_model(service).operation_model(operation).input_shape.members[member]
    limit = NAME_LIMITS[(type_, attribute)]
    # THEN the project's limit is the model's
    assert (limit.min_length, limit.max_length) == (shape.metadata["min"], shape.metadata["max"])
    assert limit.source == f"botocore {service} {operation}.{member}"


@pytest.mark.terraform
@pytest.mark.parametrize("kind", ["xacct-api-ingest", "xacct-dynamodb-streams", "xacct-kinesis-efo", "xacct-kinesis-fanout",
                                  "xacct-kinesis-replication", "xacct-ses-notifications"])
def test_each_kind_at_its_extremes_passes_terraform_validate(
    boundaries: tuple[Path, dict[str, Any]], terraform_env: dict[str, str], tmp_path: Path, kind: str
) -> None:
    from conftest import terraform_validate

    target, _ = boundaries
    (stack_dir,) = sorted((target / kind / "stacks").iterdir())[:1]
    result = terraform_validate(stack_dir, tmp_path / kind, terraform_env)
    assert result.returncode == 0 and '"valid": true' in result.stdout, result.stdout[-4000:] + result.stderr[-2000:]
