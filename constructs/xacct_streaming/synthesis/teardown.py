"""Teardown: what lets `terraform destroy` (or `cdktf destroy`) remove a stack whole.

The sink and source tables are deletion-protected and the Firehose archive bucket holds versioned
objects, so a plain destroy removes everything else and then stops. Synthesizing with `--teardown`
writes `teardown_override.tf.json` next to each stack's configuration (Terraform merges override
files; the configuration itself is unchanged): protection off on every table, `force_destroy` on every
bucket, no recovery window on every secret (its name would stay taken for 7 days). Deploy that
(in-place updates only), then destroy. The next synthesis without `--teardown` drops the file again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OVERRIDE_FILE = "teardown_override.tf.json"


def teardown_override(config: dict[str, Any]) -> dict[str, Any] | None:
    """The override for a stack's JSON configuration, or None when nothing in it blocks a destroy."""
    resources = config.get("resource", {})
    override: dict[str, Any] = {}
    if resources.get("aws_dynamodb_table"):
        override["aws_dynamodb_table"] = {name: {"deletion_protection_enabled": False} for name in resources["aws_dynamodb_table"]}
    if resources.get("aws_s3_bucket"):
        # A versioned bucket with objects cannot be deleted otherwise.
        override["aws_s3_bucket"] = {name: {"force_destroy": True} for name in resources["aws_s3_bucket"]}
    if resources.get("aws_secretsmanager_secret"):
        # A deleted secret's name stays taken for its recovery window (7 days here): a redeploy within
        # it fails. Torn down on purpose, it is deleted at once (AWS: DeleteSecret,
        # ForceDeleteWithoutRecovery; the provider sends that for a window of 0).
        override["aws_secretsmanager_secret"] = {name: {"recovery_window_in_days": 0} for name in resources["aws_secretsmanager_secret"]}
    return {"resource": override} if override else None


def write_teardown_override(stack_dir: Path) -> bool:
    """Writes the stack's teardown override; False when it needs none."""
    override = teardown_override(json.loads((stack_dir / "cdk.tf.json").read_text()))
    if override is not None:
        (stack_dir / OVERRIDE_FILE).write_text(json.dumps(override, indent=2) + "\n")
    return override is not None
