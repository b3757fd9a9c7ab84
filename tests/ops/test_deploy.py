"""make deploy: the saved plan, and one retry when a resource policy refused a role seconds old."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from xacct_ops import deploy

REFUSED = """aws_iam_role.reader: Creating...
aws_iam_role.reader: Creation complete after 1s
aws_kinesis_resource_policy.stream-policy_9452685F: Creating...

Error: creating Kinesis Resource Policy (arn:aws:kinesis:eu-west-1:111111111111:stream/s): operation error Kinesis: PutResourcePolicy, https response error StatusCode: 400, RequestID: 1, InvalidArgumentException: Invalid principal in policy document

  with aws_kinesis_resource_policy.stream-policy_9452685F,
  on cdk.tf.json line 120, in resource.aws_kinesis_resource_policy.stream-policy_9452685F:
 120:       }
"""
DDB_REFUSED = """
Error: putting DynamoDB Resource Policy (arn:aws:dynamodb:eu-west-1:111111111111:table/t/stream/x): operation error DynamoDB: PutResourcePolicy, https response error StatusCode: 400, RequestID: 2, api error ValidationException: One or more parameter values were invalid: Invalid principal in policy document.

  with aws_dynamodb_resource_policy.table-stream-policy_1A2B3C4D,
  on cdk.tf.json line 80, in resource.aws_dynamodb_resource_policy.table-stream-policy_1A2B3C4D:
"""
OTHER = """
Error: creating Lambda Function (f): operation error Lambda: CreateFunction, InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda.

  with aws_lambda_function.consumer-function_function_1,
  on cdk.tf.json line 300, in resource.aws_lambda_function.consumer-function_function_1:
"""

PLAN = {"aws_iam_role.reader": ["create"], "aws_kinesis_resource_policy.stream-policy_9452685F": ["create"], "aws_lambda_event_source_mapping.m": ["create"]}


def _stub(tmp_path: Path, applies: list[tuple[int, str]], retry_plan: dict[str, list[str]]) -> Path:
    """A terraform on PATH that answers applies in turn, shows the saved plans, and logs its calls."""
    script = tmp_path / "bin" / "terraform"
    script.parent.mkdir()
    (tmp_path / "answers.json").write_text(json.dumps({"applies": applies, "plans": {"tfplan": PLAN, "tfplan.retry": retry_plan}}))
    script.write_text(f"""#!{os.sys.executable}
import json, sys
state = {str(tmp_path)!r}
answers = json.load(open(state + "/answers.json"))
args = sys.argv[2:]
with open(state + "/calls.log", "a") as log:
    log.write(" ".join(args) + "\\n")
if args[0] == "show":
    plan = answers["plans"][args[-1]]
    print(json.dumps({{"resource_changes": [{{"address": a, "change": {{"actions": acts}}}} for a, acts in plan.items()]}}))
elif args[0] == "apply":
    count = sum(1 for line in open(state + "/calls.log") if line.startswith("apply"))
    code, text = answers["applies"][count - 1]
    print(text)
    sys.exit(code)
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "tfplan").write_text("plan")
    return script.parent


def _deploy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, applies: list[tuple[int, str]], retry_plan: dict[str, list[str]] | None = None) -> tuple[int, list[str]]:
    bin_dir = _stub(tmp_path, applies, retry_plan or {})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    waited: list[float] = []
    status = deploy.deploy(tmp_path / "stack", tmp_path / "t.tfvars", 20, sleep=waited.append)
    calls = (tmp_path / "calls.log").read_text().splitlines()
    return status, [c.split()[0] for c in calls] + [f"waited {w:g}" for w in waited]


@pytest.mark.parametrize("refused", [REFUSED, DDB_REFUSED], ids=["kinesis-stream-policy", "dynamodb-stream-policy"])
def test_a_resource_policy_refusing_a_new_role_is_applied_once_more(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                                     refused: str) -> None:
    # GIVEN the apply fails only because a resource policy named a role IAM did not know yet
    status, calls = _deploy(tmp_path, monkeypatch, [(1, refused), (0, "Apply complete! Resources: 2 added")],
                            retry_plan={"aws_kinesis_resource_policy.stream-policy_9452685F": ["create"], "aws_lambda_event_source_mapping.m": ["create"]})
    # THEN it waits, plans again, and applies what the reviewed plan left undone
    assert status == 0
    assert calls == ["show", "apply", "plan", "show", "apply", "waited 20"]
    assert "retrying once in 20 s:" in capsys.readouterr().out


def test_the_retry_applies_nothing_the_reviewed_plan_did_not_have(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    status, calls = _deploy(tmp_path, monkeypatch, [(1, REFUSED)], retry_plan={"aws_kinesis_resource_policy.stream-policy_9452685F": ["create"],
                                                                               "aws_sqs_queue.new": ["create"]})
    assert status == 1 and calls.count("apply") == 1
    assert "not retried: the new plan changes what the reviewed plan did not: aws_sqs_queue.new (create)" in capsys.readouterr().out


@pytest.mark.parametrize("output", [OTHER, REFUSED + OTHER], ids=["another-error", "the-race-and-another-error"])
def test_any_other_failure_stops_at_once_with_next_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], output: str) -> None:
    status, calls = _deploy(tmp_path, monkeypatch, [(1, output)])
    assert status == 1 and calls == ["show", "apply"]
    assert "next steps:" in capsys.readouterr().out


def test_errors_are_read_with_their_resource() -> None:
    assert [a for a, _ in deploy.errors_of(REFUSED + OTHER)] == ["aws_kinesis_resource_policy.stream-policy_9452685F", "aws_lambda_function.consumer-function_function_1"]
    assert deploy.only_the_race(REFUSED + DDB_REFUSED) == ["aws_kinesis_resource_policy.stream-policy_9452685F", "aws_dynamodb_resource_policy.table-stream-policy_1A2B3C4D"]
