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
ECR_IMAGE = (
    rf"{ACCOUNT_ID}\.dkr\.ecr\.{REGION}\.amazonaws\.com(\.cn)?"
    r"/[a-z0-9]+(?:[._/-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})"
)


def anchored(pattern: str) -> str:
    """The pattern for Terraform's `regex()`, which matches anywhere unless anchored."""
    return f"^{pattern}$"
