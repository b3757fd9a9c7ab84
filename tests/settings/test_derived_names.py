"""Names the stacks derive from settings stay within what AWS accepts for the derived resource, at the
settings' allowed extremes (a name valid for one service is not always valid for the next)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import SES_STACK

pytestmark = pytest.mark.synth

STREAM_ARN = "arn:aws:kinesis:eu-west-1:111111111111:stream/orders"
KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/0f3b1c2d-1111-2222-3333-444455556666"
# KMS CreateGrant Name; SES EventDestination.Name (API references)
KMS_GRANT_NAME = re.compile(r"[a-zA-Z0-9:/_-]{1,256}")
SES_EVENT_DESTINATION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def _synth(tmp_path: Path, settings: dict[str, object]) -> dict[str, dict[str, dict[str, object]]]:
    from xacct_streaming.settings.config import props_from_mapping
    from xacct_streaming.synthesis.synth import synthesize

    props = props_from_mapping(settings)
    synthesize([props], outdir=tmp_path / "out")
    return json.loads((tmp_path / "out" / "stacks" / props.stack_name / "cdk.tf.json").read_text())["resource"]


def test_a_consumer_name_with_dots_gives_key_grant_names_kms_accepts(tmp_path: Path) -> None:
    # GIVEN an existing encrypted stream read by a consumer whose name has dots (Kinesis allows them)
    resources = _synth(tmp_path, {"stack_name": "orders-audit-v2", "existing_stream": {
        "stream_arn": STREAM_ARN, "key_arn": KEY_ARN, "consumer_name": "orders.audit.v2"}})
    # WHEN the key grant's name is derived from it
    names = [grant["name"] for grant in resources["aws_kms_grant"].values()]
    # THEN it holds only what KMS allows in a grant name, the dots turned into hyphens
    assert names == ["orders-audit-v2-decrypt"]
    assert all(KMS_GRANT_NAME.fullmatch(name) for name in names)
    (consumer,) = resources["aws_kinesis_stream_consumer"].values()
    assert consumer["name"] == "orders.audit.v2"  # the consumer keeps its own name


@pytest.mark.parametrize(
    ("configuration_set_name", "expected"),
    [("xacct-mail", "xacct-mail-to-sns"), ("s" * 57, "s" * 57 + "-to-sns"), ("s" * 64, "s" * 57 + "-to-sns")],
    ids=["default", "longest-kept-whole", "longest-allowed"],
)
def test_the_ses_event_destination_name_fits_for_every_allowed_configuration_set_name(
    tmp_path: Path, configuration_set_name: str, expected: str
) -> None:
    # GIVEN a configuration set name up to SES's 64 characters
    resources = _synth(tmp_path, {"kind": SES_STACK, "notifications": {"configuration_set_name": configuration_set_name}})
    # WHEN the event destination's name is derived from it
    (destination,) = resources["aws_ses_event_destination"].values()
    (config_set,) = resources["aws_ses_configuration_set"].values()
    # THEN it is within SES's limit (a set name of up to 57 characters keeps `<set>-to-sns` unchanged)
    assert (config_set["name"], destination["name"]) == (configuration_set_name, expected)
    assert SES_EVENT_DESTINATION_NAME.fullmatch(destination["name"])


def _defaults_with_the_prefix() -> set[tuple[str, str]]:
    """(props class, field) of every table field whose default, in some kind, holds "xacct-"."""
    import dataclasses

    from xacct_streaming.settings.catalog import KINDS

    found = set()
    for kind in KINDS.values():
        # each table's own defaults (a table a kind leaves out by default, [existing_stream], too) ...
        for cls in kind.sections.values():
            found |= {(cls.__name__, f.name) for f in dataclasses.fields(cls) if isinstance(f.default, str) and "xacct-" in f.default}
        # ... and the kind's defaults for its tables
        props = kind.props_type()
        for section in (getattr(props, f.name) for f in dataclasses.fields(props)):
            if dataclasses.is_dataclass(section) and not isinstance(section, type):
                found |= {(type(section).__name__, f.name) for f in dataclasses.fields(section)
                          if isinstance(getattr(section, f.name), str) and "xacct-" in getattr(section, f.name)}
    return found


def test_every_default_holding_the_prefix_is_listed_as_a_name_or_as_a_value() -> None:
    from xacct_streaming.settings.naming import NAME_FIELDS, NOT_NAMES

    listed = {(cls, name) for table in (NAME_FIELDS, NOT_NAMES) for cls, names in table.items() for name in names}
    # THEN a new table field with such a default is classified before a rename may rewrite it
    assert _defaults_with_the_prefix() == listed
    assert not {(c, n) for c, names in NAME_FIELDS.items() for n in names} & {(c, n) for c, names in NOT_NAMES.items() for n in names}


def test_a_renamed_stack_derives_its_names_and_keeps_its_values() -> None:
    from xacct_streaming.settings.replication import ReplicationStackProps

    # GIVEN the replication kind under another name
    props = ReplicationStackProps(stack_name="clicks")
    # THEN its names follow the stack's name and the writer's external id stays the kind's
    assert (props.replica.table_name, props.replica.writer_role_name, props.delivery.delivery_stream_name, props.stream.stream_name) == (
        "clicks-web-analytics-replica", "clicks-replica-table-writer", "clicks-web-analytics-archive", "clicks-web-analytics")
    assert props.replica.external_id == "xacct-kinesis-replication"
