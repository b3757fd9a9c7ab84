"""StackDashboard: one CloudWatch dashboard of what a stack runs in one account."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from xacct_streaming.framework import TerraformProvider
from constructs import Construct

from xacct_streaming.blocks.aws import CloudwatchDashboard

# The event counts a Kinesis or DynamoDB mapping reports with metrics_config EventCount (Lambda Developer
# Guide, "Event source mapping metrics": AWS/Lambda, dimension EventSourceMappingUUID).
MAPPING_EVENT_COUNTS = ("PolledEventCount", "FilteredOutEventCount", "InvokedEventCount", "FailedInvokeEventCount",
                        "DroppedEventCount", "OnFailureDestinationDeliveredEventCount")


@dataclass
class Watched:
    """What one account of a stack runs, as the dashboard shows it (AccountsStack collects it)."""

    functions: list[str] = field(default_factory=list)
    readers: list[str] = field(default_factory=list)  # functions an event source mapping drives (iterator age)
    mappings: list[tuple[str, str]] = field(default_factory=list)  # (label, UUID) of those reporting event counts
    queues: list[str] = field(default_factory=list)
    streams: list[str] = field(default_factory=list)  # streams whose polling readers may be throttled
    apis: list[tuple[str, str]] = field(default_factory=list)  # (API name, stage)
    alarms: list[Any] = field(default_factory=list)  # CloudwatchMetricAlarm
    alarm_names: list[str] = field(default_factory=list)


class StackDashboard(Construct):
    """Iterator age of each reader, its mapping's event counts (when the mapping reports them), errors
    and throttles of each function, queue depth, the streams' read throttling, the API's 5XX, and the
    state of every alarm, in the account's region."""

    def __init__(self, scope: Construct, id_: str, *, provider: TerraformProvider, name: str, region: str, watched: Watched) -> None:
        super().__init__(scope, id_)
        widgets = [self._metrics(title, stat, lines, region) for title, stat, lines in self._graphs(watched) if lines]
        widgets.append({"type": "alarm", "properties": {"title": "Alarms", "alarms": [a.arn for a in watched.alarms]}})
        for index, widget in enumerate(widgets):
            widget.update({"x": (index % 2) * 12, "y": (index // 2) * 6, "width": 12, "height": 6})
        body = json.dumps({"widgets": widgets})
        # A Terraform expression in the body (a counted mapping's `${try(...[0].uuid, "")}`) must keep its
        # quotes as they are: Terraform reads it inside the JSON string cdktf writes, which escapes them once.
        for _, uuid in watched.mappings:
            body = body.replace(json.dumps(uuid)[1:-1], uuid)
        self.dashboard = CloudwatchDashboard(self, "dashboard", provider=provider, dashboard_name=name, dashboard_body=body)

    @staticmethod
    def _graphs(watched: Watched) -> list[tuple[str, str, list[list[str]]]]:
        return [
            ("Iterator age (ms): how far behind its source each reader is", "Maximum",
             [["AWS/Lambda", "IteratorAge", "FunctionName", f] for f in watched.readers]),
            ("Mapping event counts", "Sum",
             [["AWS/Lambda", metric, "EventSourceMappingUUID", uuid] for _, uuid in watched.mappings for metric in MAPPING_EVENT_COUNTS]),
            ("Errors and throttles", "Sum",
             [["AWS/Lambda", metric, "FunctionName", f] for f in watched.functions for metric in ("Errors", "Throttles")]),
            ("Messages waiting (dead-letter and on-failure queues)", "Maximum",
             [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q] for q in watched.queues]),
            ("Reads throttled on the stream (polling readers)", "Sum",
             [["AWS/Kinesis", "ReadProvisionedThroughputExceeded", "StreamName", s] for s in watched.streams]),
            ("API 5XX errors", "Sum", [["AWS/ApiGateway", "5XXError", "ApiName", api, "Stage", stage] for api, stage in watched.apis]),
        ]

    @staticmethod
    def _metrics(title: str, stat: str, lines: list[list[str]], region: str) -> dict[str, Any]:
        return {"type": "metric", "properties": {"title": title, "region": region, "stat": stat, "period": 300, "view": "timeSeries",
                                                 "metrics": lines}}
