"""The TOML settings file: what it accepts and how it reports mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from xacct_streaming.config import load_props, props_from_mapping
from xacct_streaming.errors import ConfigError
from xacct_streaming.props import StackProps

CONFIGS = Path(__file__).parent / "configs"


def test_no_file_means_defaults() -> None:
    assert load_props(None) == StackProps()
    assert load_props("") == StackProps()


def test_example_file_sets_every_section() -> None:
    # GIVEN the example docs/operations.md shows (make synth CONFIG=tests/configs/provisioned.toml)
    # WHEN
    props = load_props(str(CONFIGS / "provisioned.toml"))
    # THEN
    assert props.stack_name == "orders-stream"
    assert (props.stream.stream_mode, props.stream.shard_count, props.stream.retention_period_hours) == ("PROVISIONED", 4, 168)
    assert props.function.function_name == "orders-analytics" and props.function.memory_size_mb == 512
    assert (props.mapping.starting_position, props.mapping.batch_size, props.mapping.parallelization_factor) == ("LATEST", 500, 2)
    assert (props.backend.kind, props.backend.bucket, props.backend.region) == ("s3", "example-terraform-state", "eu-west-1")
    # Left out: the default stays.
    assert props.mapping.maximum_retry_attempts == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param({"streams": {}}, "streams: {} is not allowed; expected 'stream'? one of kind, stack_name, tags, stream, function, mapping, sink, alarms, backend (kind 'xacct-kinesis-efo')", id="unknown-section"),
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
        pytest.param({"tags": "team=x"}, "tags: 'team=x' is not allowed; expected a table of at most 40 string tags", id="tags-not-a-table"),
    ],
)
def test_mistakes_name_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        props_from_mapping(data)
    assert str(caught.value).startswith(message)


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"config file: '.*nope\.toml' is not allowed; expected a readable TOML file \(No such file or directory\)"):
        load_props(str(missing))


def test_file_that_is_not_toml(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[mapping\nbatch_size = 1\n")
    with pytest.raises(ConfigError, match=r"expected valid TOML \("):
        load_props(str(broken))
