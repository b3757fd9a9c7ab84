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
