"""Someone hears about it: every alarm notifies an encrypted topic of its account, subscribers as the
settings say, mapping event counts, a dashboard per account, thresholds from the source's retention."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import ALL_STACKS, API_LOGGING_STACK, EXISTING_STACK, FANOUT_STACK, PROVISIONED_STACK, SPLIT_PLANS, run_main

VARIANTS = '''
[[stack]]
stack_name = "alarm-subs"
[stack.stream]
retention_period_hours = 168
[stack.alarms]
subscriptions = [
  { protocol = "email", endpoint = "oncall@example.com" },
  { protocol = "https", endpoint = "https://hooks.example.com/alarms" },
  { protocol = "sqs", endpoint = "arn:aws:sqs:eu-west-1:222222222222:ops-alarms", account = "consumer" },
  { protocol = "lambda", endpoint = "arn:aws:lambda:eu-west-1:222222222222:function:pager", account = "consumer" },
]

[[stack]]
stack_name = "alarm-existing"
[stack.alarms]
existing_topic_arns = { consumer = "arn:aws:sns:eu-west-1:222222222222:ops-alarms" }
iterator_age_threshold_seconds = 900
dashboard = false
[stack.mapping]
event_count_metrics = false

[[stack]]
stack_name = "alarm-silent"
[stack.alarms]
notification_topic = false
'''


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    work = tmp_path_factory.mktemp("monitoring")
    (work / "variants.toml").write_text(VARIANTS)
    result = run_main("--config", str(work / "variants.toml"), "--outdir", str(work / "out"))
    assert result.returncode == 0, result.stderr
    return {d.name: json.loads((d / "cdk.tf.json").read_text()) for d in (work / "out" / "stacks").iterdir()}


def _every_stack(cli_outdir: Path, library_outdir: Path) -> dict[str, dict[str, Any]]:
    dirs = [cli_outdir / "stacks" / s for s in ALL_STACKS]
    dirs += [library_outdir / "stacks" / s for s in (PROVISIONED_STACK, EXISTING_STACK, FANOUT_STACK, API_LOGGING_STACK, *SPLIT_PLANS)]
    return {d.name: json.loads((d / "cdk.tf.json").read_text()) for d in dirs}


def _ref(type_: str, name: str, attribute: str = "arn") -> str:
    return f"${{{type_}.{name}.{attribute}}}"


def test_every_alarm_of_every_stack_and_example_notifies_an_encrypted_topic_of_its_account(cli_outdir: Path, library_outdir: Path) -> None:
    checked = 0
    for stack, config in _every_stack(cli_outdir, library_outdir).items():
        resources = config["resource"]
        topics = resources.get("aws_sns_topic", {})
        keys = resources.get("aws_kms_key", {})
        for name, alarm in resources["aws_cloudwatch_metric_alarm"].items():
            # THEN it notifies when it fires and when it is OK again, one topic, in its own account
            (action,) = alarm["alarm_actions"]
            assert alarm["ok_actions"] == [action], (stack, name)
            (topic_name,) = [t for t in topics if action == _ref("aws_sns_topic", t)]
            topic = topics[topic_name]
            assert topic["provider"] == alarm["provider"], (stack, name)
            # AND the topic is encrypted with a customer-managed key of the stack (CloudWatch cannot use aws/sns)
            (key,) = [k for k in keys if topic["kms_master_key_id"] == _ref("aws_kms_key", k)]
            assert keys[key]["provider"] == alarm["provider"]
            checked += 1
    assert checked >= 80, checked  # every alarm of 14 stacks and plans


def test_one_topic_and_one_dashboard_per_account_that_has_alarms(library_outdir: Path) -> None:
    # GIVEN the fan-out example: readers in three accounts, one of them the producer's (audit polls)
    config = json.loads((library_outdir / "stacks" / FANOUT_STACK / "cdk.tf.json").read_text())
    resources = config["resource"]
    alarm_accounts = {a["provider"] for a in resources["aws_cloudwatch_metric_alarm"].values()}
    # THEN one topic and one dashboard in each of those accounts, the topics named after the stack
    assert sorted(t["provider"] for t in resources["aws_sns_topic"].values()) == sorted(alarm_accounts)
    assert {t["name"] for t in resources["aws_sns_topic"].values()} == {"orders-fanout-alarms"}
    assert sorted(d["provider"] for d in resources["aws_cloudwatch_dashboard"].values()) == sorted(alarm_accounts)
    assert config["output"]["dashboard_names"]["value"] == {a.removeprefix("aws."): "orders-fanout" for a in alarm_accounts}
    # AND the producer's dashboard shows its polling reader's throttled reads on the stream, with an alarm on them
    (producer,) = [d for d in resources["aws_cloudwatch_dashboard"].values() if d["provider"] == "aws.producer"]
    titles = [w["properties"]["title"] for w in json.loads(producer["dashboard_body"])["widgets"]]
    assert "Reads throttled on the stream (polling readers)" in titles
    (reads,) = [a for a in resources["aws_cloudwatch_metric_alarm"].values() if a["metric_name"] == "ReadProvisionedThroughputExceeded"]
    assert (reads["provider"], reads["namespace"], reads["dimensions"], reads["statistic"], reads["threshold"]) == (
        "aws.producer", "AWS/Kinesis", {"StreamName": "orders-fanout-fanout-stream"}, "Sum", 1)


def test_every_mapping_counts_its_events_unless_told_not_to(cli_outdir: Path, library_outdir: Path, variants: dict[str, dict[str, Any]]) -> None:
    mappings = [m for c in _every_stack(cli_outdir, library_outdir).values() for m in c["resource"].get("aws_lambda_event_source_mapping", {}).values()]
    assert len(mappings) >= 14 and all(m["metrics_config"] == {"metrics": ["EventCount"]} for m in mappings)
    (opted_out,) = variants["alarm-existing"]["resource"]["aws_lambda_event_source_mapping"].values()
    assert "metrics_config" not in opted_out


def test_the_dashboard_shows_each_readers_lag_event_counts_errors_and_queues(cli_outdir: Path) -> None:
    config = json.loads((cli_outdir / "stacks" / "xacct-kinesis-efo" / "cdk.tf.json").read_text())
    (dashboard,) = config["resource"]["aws_cloudwatch_dashboard"].values()
    assert (dashboard["dashboard_name"], dashboard["provider"]) == ("xacct-kinesis-efo", "aws.consumer")
    widgets = {w["properties"]["title"]: w["properties"] for w in json.loads(dashboard["dashboard_body"])["widgets"]}
    (mapping,) = config["resource"]["aws_lambda_event_source_mapping"]
    uuid = _ref("aws_lambda_event_source_mapping", mapping, "uuid")
    assert widgets["Iterator age (ms): how far behind its source each reader is"]["metrics"] == [["AWS/Lambda", "IteratorAge", "FunctionName", "xacct-stream-consumer"]]
    assert [m[1] for m in widgets["Mapping event counts"]["metrics"]] == [
        "PolledEventCount", "FilteredOutEventCount", "InvokedEventCount", "FailedInvokeEventCount", "DroppedEventCount", "OnFailureDestinationDeliveredEventCount"]
    assert {m[3] for m in widgets["Mapping event counts"]["metrics"]} == {uuid}
    assert [m[3] for m in widgets["Messages waiting (dead-letter and on-failure queues)"]["metrics"]] == [
        "xacct-stream-consumer-dlq", "xacct-stream-consumer-on-failure"]
    assert sorted(widgets["Alarms"]["alarms"]) == sorted(_ref("aws_cloudwatch_metric_alarm", a) for a in config["resource"]["aws_cloudwatch_metric_alarm"])
    assert {w["region"] for t, w in widgets.items() if t != "Alarms"} == {"${var.region}"}


@pytest.mark.parametrize(
    ("stack", "function", "threshold"),
    [
        pytest.param("xacct-kinesis-efo", "xacct-stream-consumer", 12 * 3600, id="stream-24h"),
        pytest.param("xacct-dynamodb-streams", "xacct-change-consumer", 12 * 3600, id="table-stream-24h"),
        pytest.param("xacct-kinesis-replication", "xacct-replica-writer", 12 * 3600, id="replication-writer"),
        pytest.param("xacct-kinesis-replication", "xacct-replica-to-firehose", 12 * 3600, id="replication-flattener"),
    ],
)
def test_iterator_age_alarms_at_half_the_sources_retention(cli_outdir: Path, stack: str, function: str, threshold: int) -> None:
    config = json.loads((cli_outdir / "stacks" / stack / "cdk.tf.json").read_text())
    (alarm,) = [a for a in config["resource"]["aws_cloudwatch_metric_alarm"].values() if a["alarm_name"] == f"{function}-iterator-age"]
    assert alarm["threshold"] == threshold * 1000


def test_a_week_of_retention_alarms_at_three_and_a_half_days_and_a_set_threshold_wins(variants: dict[str, dict[str, Any]]) -> None:
    def iterator_age(stack: str) -> int:
        (alarm,) = [a for a in variants[stack]["resource"]["aws_cloudwatch_metric_alarm"].values() if a["metric_name"] == "IteratorAge"]
        return alarm["threshold"]
    assert (iterator_age("alarm-subs"), iterator_age("alarm-existing")) == (84 * 3600 * 1000, 900 * 1000)


def test_the_api_alarms_on_its_stage_5xx_and_on_the_authorizer(cli_outdir: Path) -> None:
    alarms = {a["alarm_name"]: a for a in json.loads((cli_outdir / "stacks" / "xacct-api-ingest" / "cdk.tf.json").read_text())["resource"]["aws_cloudwatch_metric_alarm"].values()}
    stage = alarms["xacct-ingest-prod-5xx"]
    assert (stage["namespace"], stage["metric_name"], stage["dimensions"], stage["statistic"], stage["comparison_operator"], stage["threshold"]) == (
        "AWS/ApiGateway", "5XXError", {"ApiName": "xacct-ingest", "Stage": "prod"}, "Sum", "GreaterThanOrEqualToThreshold", 1)
    assert {"xacct-ingest-authorizer-errors", "xacct-ingest-authorizer-throttles"} <= set(alarms)
    assert "xacct-ingest-authorizer-iterator-age" not in alarms  # nothing maps to it


def test_subscriptions_go_to_the_topics_they_name(variants: dict[str, dict[str, Any]]) -> None:
    config = variants["alarm-subs"]
    resources = config["resource"]
    (topic,) = resources["aws_sns_topic"]
    subscriptions = sorted((s["protocol"], s["endpoint"], s["topic_arn"], s["provider"]) for s in resources["aws_sns_topic_subscription"].values())
    arn = _ref("aws_sns_topic", topic)
    assert subscriptions == [
        ("email", "oncall@example.com", arn, "aws.consumer"),
        ("https", "https://hooks.example.com/alarms", arn, "aws.consumer"),
        ("lambda", "arn:aws:lambda:eu-west-1:222222222222:function:pager", arn, "aws.consumer"),
        ("sqs", "arn:aws:sqs:eu-west-1:222222222222:ops-alarms", arn, "aws.consumer"),
    ]
    # AND the function may be invoked by SNS for this topic only
    (permission,) = resources["aws_lambda_permission"].values()
    assert (permission["function_name"], permission["principal"], permission["source_arn"], permission["action"]) == (
        "arn:aws:lambda:eu-west-1:222222222222:function:pager", "sns.amazonaws.com", arn, "lambda:InvokeFunction")
    # AND the plan checks the queue and the function are in the consumer account
    validations = [v["condition"] for v in config["variable"]["consumer_account_id"]["validation"]]
    assert '${var.consumer_account_id == "222222222222"}' in validations


def test_an_existing_topic_is_notified_instead_and_nothing_is_made_for_it(variants: dict[str, dict[str, Any]]) -> None:
    config = variants["alarm-existing"]
    resources = config["resource"]
    assert "aws_sns_topic" not in resources and "aws_cloudwatch_dashboard" not in resources
    assert {tuple(a["alarm_actions"]) for a in resources["aws_cloudwatch_metric_alarm"].values()} == {("arn:aws:sns:eu-west-1:222222222222:ops-alarms",)}
    assert config["output"]["alarm_topic_arns"]["value"] == {"consumer": "arn:aws:sns:eu-west-1:222222222222:ops-alarms"}
    # (an alarm notifies a topic of its own region: the plan checks the region)
    assert '${var.region == "eu-west-1"}' in [v["condition"] for v in config["variable"]["region"]["validation"]]


def test_notifications_off_leaves_every_alarm_without_actions(variants: dict[str, dict[str, Any]]) -> None:
    resources = variants["alarm-silent"]["resource"]
    assert "aws_sns_topic" not in resources
    assert all("alarm_actions" not in a for a in resources["aws_cloudwatch_metric_alarm"].values())


@pytest.mark.parametrize(
    ("alarms", "message"),
    [
        pytest.param('subscriptions = [{ protocol = "sqs", endpoint = "arn:aws:sqs:eu-west-1:111111111111:ops", account = "producer" }]',
                     "alarms.subscriptions.account: 'producer' is not allowed; expected an account of xacct-kinesis-efo that has alarms: consumer",
                     id="subscription-in-an-account-without-alarms"),
        pytest.param('existing_topic_arns = { producer = "arn:aws:sns:eu-west-1:111111111111:ops" }',
                     "alarms.existing_topic_arns.producer: 'arn:aws:sns:eu-west-1:111111111111:ops' is not allowed; expected an entry for an account "
                     "of xacct-kinesis-efo that has alarms: consumer", id="existing-topic-in-an-account-without-alarms"),
        pytest.param("iterator_age_threshold_seconds = 86400", "alarms.iterator_age_threshold_seconds: 86400 is not allowed; expected less than 86400 "
                     "(stream.retention_period_hours 24 h", id="iterator-age-past-retention"),
    ],
)
def test_alarm_settings_that_cannot_work_fail_at_synth(tmp_path: Path, alarms: str, message: str) -> None:
    (tmp_path / "bad.toml").write_text(f"[alarms]\n{alarms}\n")
    result = run_main("--config", str(tmp_path / "bad.toml"), "--outdir", str(tmp_path / "out"))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()
