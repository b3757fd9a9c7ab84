"""Nothing lost by default: no mapping of any synthesized stack gives up a record its source still holds,
and what keeps failing leaves its coordinates on a queue (Lambda's stream event source docs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

pytestmark = pytest.mark.synth

# DynamoDB Streams keep a change for 24 hours (DynamoDB docs); a Kinesis stream for its retention period.
DYNAMODB_STREAM_RETENTION_SECONDS = 24 * 3600


def _mappings(*outdirs: Path) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for outdir in outdirs:
        for stack_dir in sorted((outdir / "stacks").iterdir()):
            config = json.loads((stack_dir / "cdk.tf.json").read_text())
            for name, mapping in config["resource"].get("aws_lambda_event_source_mapping", {}).items():
                yield f"{stack_dir.name}/{name}", mapping, config


def _source_retention_seconds(mapping: dict[str, Any], config: dict[str, Any]) -> int | None:
    """How long the mapping's source holds a record, where this configuration says (None: unknown, e.g.
    an existing stream)."""
    source = mapping["event_source_arn"]
    for stream in config["resource"].get("aws_kinesis_stream", {}).values():
        name = stream["name"]
        if name in source or any(name in c.get("stream_arn", "") for c in config["resource"].get("aws_kinesis_stream_consumer", {}).values()):
            return int(stream.get("retention_period", 24)) * 3600
    if ".stream_arn}" in source and "aws_dynamodb_table" in source:
        return DYNAMODB_STREAM_RETENTION_SECONDS
    return None


def test_no_mapping_drops_a_record_the_source_still_holds(cli_outdir: Path, library_outdir: Path) -> None:
    # GIVEN every mapping of every synthesized stack: the five kinds, variants, fan-out, split, existing stream
    mappings = list(_mappings(cli_outdir, library_outdir))
    assert len(mappings) >= 14
    for where, mapping, config in mappings:
        # THEN a record is given up for age only when the source no longer holds it
        age = mapping["maximum_record_age_in_seconds"]
        retention = _source_retention_seconds(mapping, config)
        assert age == -1 or (retention is not None and age >= retention), (where, age, retention)
        # THEN poison still cannot block a shard: finite retries, bisection, and its coordinates parked
        assert 0 <= mapping["maximum_retry_attempts"] <= 10, where
        assert mapping["bisect_batch_on_function_error"] is True, where
        assert mapping["destination_config"]["on_failure"]["destination_arn"].startswith("${aws_sqs_queue."), where
