"""Regions in settings: only those the pinned AWS provider knows (it stops a plan at any other)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT

from xacct_streaming.settings.config import props_from_mapping
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.patterns import PARTITION_REGION_PREFIXES, PROVIDER_REGIONS

STREAM = "arn:{partition}:kinesis:{region}:111111111111:stream/orders"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
S3_BACKEND = {"kind": "s3", "bucket": "state", "role_arn": "arn:aws:iam::999999999999:role/terraform-state"}


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        pytest.param({"existing_stream": {"stream_arn": STREAM.format(partition="aws", region="eu-west-9")}}, "existing_stream.stream_arn", id="stream-arn"),
        pytest.param({"sink": {"region": "eu-west-9"}}, "sink.region", id="sink-region"),
        pytest.param({"backend": {**S3_BACKEND, "region": "eu-west-9",
                                  "kms_key_id": f"arn:aws:kms:eu-west-9:999999999999:key/{KEY_ID}"}}, "backend.region", id="backend-region"),
        pytest.param({"function": {"layers": ["arn:aws:lambda:eu-west-9:111111111111:layer:deps:3"]}}, "function.layers", id="layer"),
        pytest.param({"function": {"image_uri": "111111111111.dkr.ecr.eu-west-9.amazonaws.com/consumer:1"}}, "function.image_uri", id="image"),
    ],
)
def test_a_region_no_partition_has_is_refused_naming_the_setting(settings: dict[str, Any], field: str) -> None:
    # GIVEN a setting that names eu-west-9 (the right shape; no such region)
    # WHEN the settings are read
    with pytest.raises(ConfigError) as error:
        props_from_mapping(settings)
    # THEN the error names the setting and the region, and lists what the provider knows
    assert error.value.field == field
    assert "eu-west-9" in str(error.value.value)
    assert "that the pinned AWS provider (hashicorp/aws 5.100.0) knows: " in error.value.allowed
    assert "eu-west-1, eu-west-2, eu-west-3, il-central-1" in error.value.allowed and "eu-west-9" not in error.value.allowed


def test_the_error_lists_the_regions_of_the_arns_partition() -> None:
    # GIVEN a China region in an ARN of the commercial partition
    with pytest.raises(ConfigError) as error:
        props_from_mapping({"existing_stream": {"stream_arn": STREAM.format(partition="aws", region="cn-north-1")}})
    # THEN it says which partition the region is in, and lists only the ARN's partition's regions
    assert str(error.value) == (
        "existing_stream.stream_arn: 'arn:aws:kinesis:cn-north-1:111111111111:stream/orders' is not allowed; expected "
        "a region of partition 'aws' that the pinned AWS provider (hashicorp/aws 5.100.0) knows ('cn-north-1' is in partition 'aws-cn'): "
        + ", ".join(PROVIDER_REGIONS["aws"])
    )


@pytest.mark.parametrize(("partition", "region"), [("aws", "ap-east-2"), ("aws", "mx-central-1"), ("aws-cn", "cn-northwest-1"), ("aws-us-gov", "us-gov-east-1")])
def test_recent_and_other_partition_regions_are_accepted(partition: str, region: str) -> None:
    props = props_from_mapping({"existing_stream": {"stream_arn": STREAM.format(partition=partition, region=region)}})
    assert props.existing_stream.region == region


def test_the_table_agrees_with_the_partition_prefixes() -> None:
    # Every region of a partition other than "aws" starts with that partition's prefix, and no "aws" region does.
    for partition, regions in PROVIDER_REGIONS.items():
        for region in regions:
            owner = next((p for p, prefixes in PARTITION_REGION_PREFIXES.items() if region.startswith(prefixes)), "aws")
            assert owner == partition, region


def _near_misses(region: str) -> list[str]:
    stem, number = region.rsplit("-", 1)
    return [f"{stem}-{int(number) + 1}", f"{stem}-{int(number) + 5}"]


@pytest.mark.terraform
def test_the_table_is_exactly_what_the_pinned_provider_knows(terraform_env: dict[str, str], tmp_path: Path) -> None:
    # GIVEN every region of the table, the next numbers of each and eu-west-9, each looked up by the pinned
    # provider's aws_region data source (its partitions are the ones its `region` argument is checked
    # against: a provider in eu-west-9 or ap-southeast-6 fails the plan with "invalid AWS Region", one in
    # ap-east-2 or mx-central-1 plans, checked by hand here)
    table = {region for regions in PROVIDER_REGIONS.values() for region in regions}
    probes = sorted(table | {miss for region in table for miss in _near_misses(region)} | {"eu-west-9"})
    lines = ['provider "aws" {\n  region = "us-east-1"\n  access_key = "t"\n  secret_key = "t"\n'
             "  skip_credentials_validation = true\n  skip_requesting_account_id = true\n  skip_metadata_api_check = true\n}"]
    lines += [f'data "aws_region" "{region.replace("-", "_")}" {{\n  name = "{region}"\n}}' for region in probes]
    (tmp_path / "main.tf").write_text("\n".join(lines) + "\n")
    # WHEN planned
    subprocess.run(["terraform", "init", "-input=false", "-no-color"], cwd=tmp_path, env=terraform_env, check=True, capture_output=True, timeout=300)
    result = subprocess.run(["terraform", "plan", "-input=false", "-no-color"], cwd=tmp_path, env=terraform_env,
                            capture_output=True, text=True, timeout=300)
    # THEN exactly the table's regions are found, and every near miss is not
    found = set(re.findall(r"Read complete after \S+ \[id=([a-z0-9-]+)\]", result.stdout))
    missing = set(re.findall(r"finding Region by name \(([a-z0-9-]+)\)", result.stderr))
    assert found == table
    assert missing == set(probes) - table


def test_the_operations_page_counts_the_table() -> None:
    text = " ".join((ROOT / "docs" / "operations.md").read_text().split())
    count = sum(len(regions) for regions in PROVIDER_REGIONS.values())
    assert f"`PROVIDER_REGIONS`, {count} regions in the {['no', 'one', 'two', 'three', 'four', 'five', 'six'][len(PROVIDER_REGIONS)]} partitions" in text
