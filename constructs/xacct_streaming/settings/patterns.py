"""Every AWS name, id and ARN pattern of the product, in one place.

Python checks settings with them (`re.fullmatch`, so unanchored here); the Terraform variables
check tfvars with `anchored(...)` of the same patterns, so both say the same thing.
"""

from __future__ import annotations

PARTITION = r"aws(?:-cn|-us-gov|-iso|-iso-b)?"
REGION = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]"
ACCOUNT_ID = r"[0-9]{12}"
# The regions of each partition other than "aws" (an ARN whose region is not in its partition is a typo).
PARTITION_REGION_PREFIXES = {"aws-cn": ("cn-",), "aws-us-gov": ("us-gov-",), "aws-iso": ("us-iso-",), "aws-iso-b": ("us-isob-",)}
# The regions the pinned provider (hashicorp/aws 5.100.0) accepts, in the partitions above: it checks its
# `region` against hashicorp/aws-sdk-go-base/v2's endpoints (generated from aws-sdk-go-v2's endpoints.json)
# and fails the plan with "invalid AWS Region: <region>" for any other. A region AWS opens later needs a
# newer provider. tests/settings/test_regions.py plans a provider in each of these, and in near misses, with that
# provider (the whole table is checked, not sampled).
PROVIDER_VERSION = "5.100.0"
PROVIDER_REGIONS = {
    "aws": (
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
        "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
        "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1",
        "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
        "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    ),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
    "aws-us-gov": ("us-gov-east-1", "us-gov-west-1"),
    "aws-iso": ("us-iso-east-1", "us-iso-west-1"),
    "aws-iso-b": ("us-isob-east-1",),
}

KINESIS_NAME = r"[a-zA-Z0-9_.-]{1,128}"
TABLE_NAME = r"[a-zA-Z0-9_.-]{3,255}"
TABLE_NAME_TEXT = "3-255 of a-z A-Z 0-9 _ . -"
ATTRIBUTE_NAME = r"[a-zA-Z0-9_.-]{1,255}"
STACK_NAME = r"[a-z][a-z0-9-]{0,62}"
STACK_NAME_TEXT = "1-63 of a-z 0-9 -, starting with a letter"
IAM_ROLE_NAME = r"[a-zA-Z0-9+=,.@_-]{1,64}"
# Derived names append at most 11 characters ("-on-failure") and IAM role names end at 64.
FUNCTION_NAME = r"[a-zA-Z0-9_-]{1,53}"
KMS_ALIAS = r"alias/(?!aws/)[a-zA-Z0-9/_-]{1,250}"
KMS_ALIAS_TEXT = "'alias/' followed by 1-250 of a-z A-Z 0-9 / _ -, not in the reserved 'alias/aws/' namespace"
SUBNET_ID = r"subnet-[0-9a-f]{8,17}"
SECURITY_GROUP_ID = r"sg-[0-9a-f]{8,17}"

ROLE_ARN = rf"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/[a-zA-Z0-9+=,.@_/-]{{1,512}}"
LAYER_ARN = rf"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:layer:[a-zA-Z0-9_-]{{1,140}}:[0-9]{{1,10}}"
STREAM_ARN = rf"arn:(?P<partition>{PARTITION}):kinesis:(?P<region>{REGION}):(?P<account>{ACCOUNT_ID}):stream/(?P<name>{KINESIS_NAME})"
KEY_ARN = (
    rf"arn:(?P<partition>{PARTITION}):kms:(?P<region>{REGION}):(?P<account>{ACCOUNT_ID}):"
    r"(?P<resource>key/[0-9a-f-]{36}|alias/[a-zA-Z0-9/_-]{1,250})"
)
AWS_MANAGED_KINESIS_KEY = "alias/aws/kinesis"
# Alarm notification endpoints (SNS Subscribe: an SQS queue's or a Lambda function's ARN, an https URL, an address).
SNS_TOPIC_ARN = rf"arn:(?P<partition>{PARTITION}):sns:(?P<region>{REGION}):(?P<account>{ACCOUNT_ID}):(?P<name>[a-zA-Z0-9_-]{{1,256}})"
SQS_QUEUE_ARN = rf"arn:(?P<partition>{PARTITION}):sqs:(?P<region>{REGION}):(?P<account>{ACCOUNT_ID}):(?P<name>[a-zA-Z0-9_-]{{1,80}})"
FUNCTION_ARN = (rf"arn:(?P<partition>{PARTITION}):lambda:(?P<region>{REGION}):(?P<account>{ACCOUNT_ID}):function:"
                r"(?P<name>[a-zA-Z0-9_-]{1,64})(?::[a-zA-Z0-9$_-]{1,128})?")
HTTPS_URL = r"https://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?"
EMAIL_ADDRESS = r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+"
ECR_IMAGE = (
    rf"{ACCOUNT_ID}\.dkr\.ecr\.{REGION}\.amazonaws\.com(\.cn)?"
    r"/[a-z0-9]+(?:[._/-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})"
)


def anchored(pattern: str) -> str:
    """The pattern for Terraform's `regex()`, which matches anywhere unless anchored."""
    return f"^{pattern}$"
