"""The example team handler (examples/orders_reader) the README quick start deploys."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest

from conftest import ROOT
from kinesis_events import event

EXTERNAL = ROOT / "tests" / "events" / "external"  # see SOURCES.md there


def _handler() -> Any:
    spec = importlib.util.spec_from_file_location("orders_reader_app", ROOT / "examples" / "orders_reader" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def test_counts_types_and_logs_and_skips_the_bad_record(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN three order events and one record that is not JSON
    monkeypatch.setenv("TEAM", "orders")
    batch = event([b'{"type": "created", "id": 1}', b"not json", b'{"type": "created", "id": 2}', b'{"type": "paid", "id": 1}'])
    bad = batch["Records"][1]
    # WHEN
    result = _handler()(batch, None)
    # THEN nothing is reported for retry (a poison record would hold back the shard), the bad record is
    # logged with its coordinates, and the counts are logged
    assert result == {"batchItemFailures": []}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1] == {"level": "INFO", "team": "orders", "counts": {"created": 2, "paid": 1}, "skipped": 1}
    assert lines[0]["level"] == "ERROR" and lines[0]["message"].startswith("skipped: not a JSON record")
    assert (lines[0]["eventSourceARN"], lines[0]["shardId"], lines[0]["sequenceNumber"]) == (
        bad["eventSourceARN"], bad["eventID"].split(":")[0], bad["kinesis"]["sequenceNumber"])
    assert lines[0]["shardId"].startswith("shardId-")


@pytest.mark.parametrize(
    ("sample", "skipped", "counts"),
    [
        pytest.param("kinesisStreamEvent.json", [0, 1], {}, id="powertools-plain-text"),
        pytest.param("aws-lambda-go-kinesis-event.json", [0, 1], {}, id="aws-lambda-go-plain-text"),
        pytest.param("kinesisStreamEventOneRecord.json", [], {"unknown": 1}, id="powertools-json-object"),
    ],
)
def test_samples_written_by_others(capsys: pytest.CaptureFixture[str], sample: str, skipped: list[int], counts: dict[str, int]) -> None:
    # GIVEN Kinesis events from other projects (plain text records, or a JSON object without "type")
    batch = json.loads((EXTERNAL / sample).read_text())
    # WHEN
    result = _handler()(batch, None)
    # THEN text records are logged by their own sequence numbers and skipped; the object is counted
    assert result == {"batchItemFailures": []}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["sequenceNumber"] for line in lines if line["level"] == "ERROR"] == [batch["Records"][i]["kinesis"]["sequenceNumber"] for i in skipped]
    assert (lines[-1]["counts"], lines[-1]["skipped"]) == (counts, len(skipped))
