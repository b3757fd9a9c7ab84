"""KPL aggregation round trips, and the key schema's spread compared with seed 001's."""

from __future__ import annotations

import collections

import pytest
from hypothesis import given, strategies as st

from xacct_consumer import kpl
from xacct_consumer.records import item_keys, partition_bucket

sub_records = st.lists(st.builds(kpl.SubRecord, st.text(min_size=1, max_size=20), st.binary(max_size=200)), min_size=1, max_size=20)


@given(sub_records)
def test_aggregate_round_trip(records: list[kpl.SubRecord]) -> None:
    data = kpl.aggregate(records)
    assert kpl.is_aggregated(data)
    assert kpl.deaggregate(data) == records


def test_wrong_checksum_means_not_aggregated() -> None:
    data = bytearray(kpl.aggregate([kpl.SubRecord("k", b"{}")]))
    data[-1] ^= 0xFF
    assert not kpl.is_aggregated(bytes(data))
    assert not kpl.is_aggregated(b"{}")


@pytest.mark.parametrize(
    ("message", "error"),
    [
        pytest.param(b"\x1a\x05\x08\x07\x1a\x01x", "partition_key_index 7 outside a table of 0", id="index-out-of-table"),
        pytest.param(b"\x1a\x09", "length-delimited field runs past the end", id="truncated"),
        pytest.param(b"\x0b", "unsupported wire type 3", id="group-wire-type"),
        pytest.param(b"\x0a\x01k\x1a\x02\x08\x00", "record without partition_key_index or data", id="record-without-data"),
    ],
)
def test_malformed_aggregates(message: bytes, error: str) -> None:
    import hashlib

    data = kpl.MAGIC + message + hashlib.md5(message).digest()
    assert kpl.is_aggregated(data)
    with pytest.raises(kpl.AggregationError, match=error):
        kpl.deaggregate(data)


def test_keys_depend_only_on_record_identity() -> None:
    assert item_keys("shardId-000000000003", "4959", 2) == (f"shardId-000000000003#{partition_bucket('4959')}", "4959#00002")
    assert item_keys("shardId-000000000003", "4959", 2) == item_keys("shardId-000000000003", "4959", 2)


def _seed_001_key(sequence_number: str, shard_id: str) -> str:
    return sequence_number[-3:-1] + "_" + shard_id


@pytest.mark.parametrize("step", [1, 10, 100, 1000], ids=lambda s: f"step-{s}")
def test_hashed_buckets_spread_writes_evenly_where_seed_001_does_not(step: int) -> None:
    # GIVEN 25,600 sequence numbers of one shard advancing by a fixed step
    first = 49590338271490256608559692538361571095921575989136588801
    sequences = [str(first + i * step) for i in range(25_600)]
    ours = collections.Counter(partition_bucket(s) for s in sequences)
    seed = collections.Counter(_seed_001_key(s, "shardId-000000000000") for s in sequences)
    # THEN ours uses all 256 buckets, none far from the mean of 100 (a 5-sigma band), whatever the step
    assert len(ours) == 256
    assert max(ours.values()) <= 150 and min(ours.values()) >= 50
    # while seed 001's key has at most 100 values, 10 when the step is 100, and one (a single hot
    # partition for the whole shard) when it is 1000
    assert len(seed) == {1: 100, 10: 100, 100: 10, 1000: 1}[step]
