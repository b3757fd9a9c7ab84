"""The placeholder consumer handler: decodes and logs, acknowledges the whole batch."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

import handler

EVENTS = Path(__file__).parent / "events"


def _event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def test_decodes_each_record() -> None:
    # GIVEN
    event = _event("kinesis_efo_batch.json")
    # WHEN
    values = [handler.decode_record(r) for r in event["Records"]]
    # THEN
    assert values == [{"order_id": "o-1", "amount": 12.5}, {"order_id": "o-2", "amount": 3}]


def test_good_batch_is_acknowledged_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN
    event = _event("kinesis_efo_batch.json")
    # WHEN
    with caplog.at_level(logging.INFO):
        response = handler.lambda_handler(event, None)
    # THEN
    assert response == {"batchItemFailures": []}
    records = [r for r in caplog.records if r.msg == "record"]
    assert [r.sequence_number for r in records] == [
        "49590338271490256608559692538361571095921575989136588801",
        "49590338271490256608559692538361571095921575989136588802",
    ]
    assert records[0].record == {"order_id": "o-1", "amount": 12.5}
    (done,) = [r for r in caplog.records if r.msg == "batch done"]
    assert (done.decoded, done.undecodable) == (2, 0)


def test_undecodable_records_are_logged_with_their_sequence_number(caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN one good record, one not base64, one not JSON
    event = _event("kinesis_efo_batch_with_undecodable.json")
    # WHEN
    with caplog.at_level(logging.INFO):
        response = handler.lambda_handler(event, None)
    # THEN
    assert response == {"batchItemFailures": []}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [w.sequence_number for w in warnings] == [
        "49590338271490256608559692538361571095921575989136588804",
        "49590338271490256608559692538361571095921575989136588805",
    ]
    (done,) = [r for r in caplog.records if r.msg == "batch done"]
    assert (done.decoded, done.undecodable) == (1, 2)


def test_empty_event() -> None:
    assert handler.lambda_handler({"Records": []}, None) == {"batchItemFailures": []}
