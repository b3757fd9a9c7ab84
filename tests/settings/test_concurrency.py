"""Reserved concurrency: -1 reserves none, for accounts whose quota leaves nothing to reserve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.synth


def test_unreserved_functions_carry_no_reservation(tmp_path: Path) -> None:
    # GIVEN the core stack's consumer with reserved_concurrency = -1 (a new account's quota of 10 refuses any)
    from xacct_streaming.settings.config import props_from_mapping
    from xacct_streaming.synthesis.synth import synthesize

    props = props_from_mapping({"stack_name": "unreserved", "function": {"reserved_concurrency": -1}})
    # WHEN synthesized
    synthesize([props], outdir=tmp_path / "out")
    config = json.loads((tmp_path / "out" / "stacks" / "unreserved" / "cdk.tf.json").read_text())
    # THEN the function leaves reserved_concurrent_executions out (the provider's default: none reserved)
    (function,) = config["resource"]["aws_lambda_function"].values()
    assert function["function_name"] == "unreserved-stream-consumer"
    assert "reserved_concurrent_executions" not in function


@pytest.mark.parametrize(
    ("settings", "warning"),
    [
        pytest.param({"function": {"reserved_concurrency": 3}}, "xacct-kinesis-efo: function.reserved_concurrency = 3 on an on-demand stream", id="core"),
        pytest.param({"kind": "xacct-api-ingest", "function": {"reserved_concurrency": 2}}, "xacct-api-ingest: function.reserved_concurrency = 2", id="api"),
        pytest.param({"kind": "xacct-kinesis-replication", "writer": {"reserved_concurrency": 7}, "writer_mapping": {"parallelization_factor": 2}},
                     "xacct-kinesis-replication: writer.reserved_concurrency = 7", id="replication-writer"),
        pytest.param({"kind": "xacct-kinesis-fanout", "consumers": [{"name": "billing", "account": "billing", "function": {"reserved_concurrency": 1}}]},
                     "xacct-kinesis-fanout: consumers.billing.function.reserved_concurrency = 1", id="fanout-consumer"),
    ],
)
def test_a_reservation_below_a_new_on_demand_streams_shards_is_warned_about(settings: dict[str, object], warning: str) -> None:
    from xacct_streaming.settings.config import props_from_mapping

    # GIVEN a function reserving fewer executions than a new on-demand stream's 4 shards x the parallelization factor
    # WHEN the settings are read
    props = props_from_mapping(settings)
    # THEN they are accepted (the shards change, nothing can be checked for sure) with one warning saying what to reserve
    (found,) = props.warnings
    assert found.startswith(warning), found
    factor = settings.get("writer_mapping", {}).get("parallelization_factor", 1)  # type: ignore[union-attr]
    assert found.endswith(f"reserve at least {4 * factor} or set -1 (unreserved)")


@pytest.mark.parametrize("reserved", [-1, 4], ids=["unreserved", "covers-four-shards"])
def test_no_warning_when_unreserved_or_covering_a_new_on_demand_stream(reserved: int) -> None:
    from xacct_streaming.settings.config import props_from_mapping

    assert props_from_mapping({"function": {"reserved_concurrency": reserved}}).warnings == []


def test_an_authorizer_reserving_less_than_the_stages_burst_is_warned_about_naming_both() -> None:
    from xacct_streaming.settings.config import props_from_mapping

    # GIVEN the API's authorizer reserving 50 under the stage's default limits (100 a second, bursts of 200)
    props = props_from_mapping({"kind": "xacct-api-ingest", "authorizer": {"reserved_concurrency": 50}})
    # THEN one warning naming both settings and what to reserve (API Gateway retries no refused invocation)
    assert props.warnings == [
        "xacct-api-ingest: authorizer.reserved_concurrency = 50 is below api.throttling_burst_limit = 200 (api.throttling_rate_limit = 100): "
        "a burst the stage lets through would find the authorizer throttled and get errors; reserve at least 200, set -1 (unreserved), "
        "or lower the API's limits"
    ]


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({}, id="default-unreserved"),
        pytest.param({"authorizer": {"reserved_concurrency": 200}}, id="covers-the-burst"),
        pytest.param({"authorizer": {"reserved_concurrency": 20}, "api": {"throttling_rate_limit": 10, "throttling_burst_limit": 20}}, id="lower-limits"),
    ],
)
def test_no_authorizer_warning_when_it_can_take_what_the_stage_lets_through(settings: dict[str, object]) -> None:
    from xacct_streaming.settings.config import props_from_mapping

    assert props_from_mapping({"kind": "xacct-api-ingest", **settings}).warnings == []
