"""The TOML settings file: what it accepts and how it reports mistakes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import TESTS

from xacct_streaming.settings.config import load_stacks, props_from_mapping
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.kinesis_efo import StackProps

CONFIGS = TESTS / "configs"


def _one(path: str) -> Any:
    (props,) = load_stacks(path)
    return props


def test_an_empty_mapping_means_the_core_stacks_defaults() -> None:
    assert props_from_mapping({}) == StackProps()


def test_example_file_sets_every_section() -> None:
    # GIVEN the example docs/operations.md shows (make synth CONFIG=tests/configs/provisioned.toml)
    # WHEN
    props = _one(str(CONFIGS / "provisioned.toml"))
    # THEN
    assert props.stack_name == "orders-stream"
    assert (props.stream.stream_mode, props.stream.shard_count, props.stream.retention_period_hours) == ("PROVISIONED", 4, 168)
    assert props.function.function_name == "orders-analytics" and props.function.memory_size_mb == 512
    assert (props.mapping.starting_position, props.mapping.batch_size, props.mapping.parallelization_factor) == ("LATEST", 500, 2)
    assert (props.backend.kind, props.backend.bucket, props.backend.region) == ("s3", "example-terraform-state", "eu-west-1")
    # Left out: the default stays.
    assert props.mapping.maximum_retry_attempts == 3


STREAM_ARN = "arn:aws:kinesis:eu-west-1:111111111111:stream/orders"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param({"streams": {}}, "streams: {} is not allowed; expected 'stream'? one of kind, stack_name, tags, stream, existing_stream, function, mapping, sink, alarms, backend (kind 'xacct-kinesis-efo')", id="unknown-section"),
        pytest.param({"stream": {"shards": 2}}, "stream.shards: 2 is not allowed; expected a known key: stream_name,", id="unknown-key"),
        pytest.param({"mapping": {"batchsize": 10}}, "mapping.batchsize: 10 is not allowed; expected 'batch_size'? a known key: starting_position,", id="typo-suggests-the-key"),
        pytest.param({"strem": {}}, "strem: {} is not allowed; expected 'stream'? one of kind, stack_name, tags, stream,", id="typo-in-a-table"),
        pytest.param({"mapping": 5}, "mapping: 5 is not allowed; expected a table [mapping]", id="section-not-table"),
        pytest.param({"mapping": {"batch_size": 20000}}, "mapping.batch_size: 20000 is not allowed; expected an integer from 1 to 10000", id="bad-value"),
        pytest.param({"stack_name": 7}, "stack_name: 7 is not allowed", id="bad-stack-name"),
        pytest.param({"tags": {"aws:team": "x"}}, "tags.aws:team: 'x' is not allowed; expected a table of at most 40 string tags", id="tag-key-aws-prefix"),
        pytest.param({"tags": {"team": 7}}, "tags.team: 7 is not allowed; expected a table of at most 40 string tags", id="tag-value-not-text"),
        pytest.param({"tags": {"": "x"}}, "tags.: 'x' is not allowed", id="tag-key-empty"),
        pytest.param({"tags": {f"k{i}": "v" for i in range(41)}}, "tags: {", id="too-many-tags"),
        pytest.param({"existing_stream": {"stream_arn": STREAM_ARN}, "stream": {"stream_name": "x"}}, "stream: {'stream_name': 'x'} is not allowed; expected no [stream] table with [existing_stream]", id="stream-and-existing-stream"),
        pytest.param({"existing_stream": {"key_arn": "x"}}, "existing_stream: {'key_arn': 'x'} is not allowed; expected the table's required keys: stream_arn", id="existing-stream-without-arn"),
        pytest.param({"existing_stream": {"stream_arn": STREAM_ARN, "take_over": True}}, "existing_stream.take_over: True is not allowed; expected 'take_over_policy'? a known key", id="existing-stream-typo"),
        pytest.param({"function": {"handler": "app.main", "source": "src"}}, "function.source: 'src' is not allowed; expected 'source_dir'? a known key", id="function-source-typo"),
        pytest.param({"tags": "team=x"}, "tags: 'team=x' is not allowed; expected a table of at most 40 string tags", id="tags-not-a-table"),
    ],
)
def test_mistakes_name_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        props_from_mapping(data)
    assert str(caught.value).startswith(message)


def test_own_code_paths_are_relative_to_the_settings_file(tmp_path: Path) -> None:
    # GIVEN a settings file next to the function's source directory, read from another directory
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def main(event, context):\n    return {}\n")
    settings = tmp_path / "settings.toml"
    settings.write_text('[function]\nsource_dir = "src"\nhandler = "app.main"\nlayers = ["arn:aws:lambda:eu-west-1:111111111111:layer:deps:3"]\n')
    # WHEN it is loaded
    props = _one(str(settings))
    # THEN the path is the file's neighbour, the list a tuple, the rest the defaults
    assert props.function.source_dir == str(tmp_path / "src")
    assert props.function.layers == ("arn:aws:lambda:eu-west-1:111111111111:layer:deps:3",)
    assert props.function.runtime == "python3.12"


def test_existing_stream_replaces_the_stream_and_gets_derived_names(tmp_path: Path) -> None:
    # GIVEN a second instance of the core kind that shares an existing stream
    props = props_from_mapping({"stack_name": "orders-audit", "existing_stream": {"stream_arn": STREAM_ARN}})
    # THEN the stream settings are the defaults (unused), the consumer's name derives from the stack
    assert props.existing_stream.stream_arn == STREAM_ARN
    assert props.existing_stream.consumer_name == "orders-audit-lambda-consumer"
    assert props.existing_stream.take_over_policy is False
    assert props.function.function_name == "orders-audit-stream-consumer"
    assert props.stream == StackProps().stream


def test_a_file_may_hold_several_stacks(tmp_path: Path) -> None:
    # GIVEN one file with three [[stack]] tables: two of the core kind, one of another kind
    settings = tmp_path / "stacks.toml"
    settings.write_text(
        '[[stack]]\nstack_name = "orders"\n\n'
        '[[stack]]\nstack_name = "payments"\n[stack.mapping]\nbatch_size = 50\n\n'
        '[[stack]]\nkind = "xacct-dynamodb-streams"\nstack_name = "orders-changes"\n'
    )
    # WHEN it is loaded
    stacks = load_stacks(str(settings))
    # THEN three stacks, in file order, each with its own names
    assert [s.stack_name for s in stacks] == ["orders", "payments", "orders-changes"]
    assert stacks[1].mapping.batch_size == 50
    assert stacks[1].stream.stream_name == "payments-shared-stream"
    assert type(stacks[2]).__name__ == "DynamoDBStreamsStackProps"


def test_stack_tables_and_top_level_settings_do_not_mix(tmp_path: Path) -> None:
    settings = tmp_path / "mixed.toml"
    settings.write_text('stack_name = "orders"\n[[stack]]\nstack_name = "payments"\n')
    with pytest.raises(ConfigError, match=r"stack_name: 'orders' is not allowed; expected only \[\[stack\]\] tables"):
        load_stacks(str(settings))


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"config file: '.*nope\.toml' is not allowed; expected a readable TOML file \(No such file or directory\)"):
        _one(str(missing))


def test_file_that_is_not_toml(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[mapping\nbatch_size = 1\n")
    with pytest.raises(ConfigError, match=r"expected valid TOML \("):
        _one(str(broken))


@pytest.mark.parametrize(
    ("kind", "table", "function_name", "key_alias"),
    [
        pytest.param("xacct-kinesis-replication", "flattener", "xacct-replica-to-firehose", "alias/xacct-replica-to-firehose", id="replication-flattener"),
        pytest.param("xacct-kinesis-replication", "writer", "xacct-replica-writer", "alias/xacct-replica-writer", id="replication-writer"),
        pytest.param("xacct-ses-notifications", "forwarder", "xacct-ses-forwarder", "alias/xacct-ses-forwarder", id="ses-forwarder"),
        pytest.param("xacct-dynamodb-streams", "function", "xacct-change-consumer", "alias/xacct-change-consumer", id="dynamodb-function"),
    ],
)
def test_a_table_with_one_key_keeps_the_kinds_other_defaults(kind: str, table: str, function_name: str, key_alias: str) -> None:
    from xacct_streaming.settings.config import props_from_mapping

    # GIVEN a settings file of the kind's default stack setting one unrelated key of a function table
    # WHEN it is read
    props = props_from_mapping({"kind": kind, table: {"memory_size_mb": 1024}})
    # THEN the table keeps the kind's names (not the class's, which are the core stack's: a clash)
    function = getattr(props, table)
    assert (function.function_name, function.key_alias, function.memory_size_mb) == (function_name, key_alias, 1024)
