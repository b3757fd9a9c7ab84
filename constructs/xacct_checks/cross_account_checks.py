"""checkov checks for the cross-account parts no built-in check covers.

Loaded by `checkov --external-checks-dir constructs/xacct_checks` (see `make scan`). They read
Terraform JSON as checkov hands it over: every attribute value wrapped in a one-item list,
policies as JSON strings that may contain `${...}` references.

    CKV_XACCT_1  Kinesis resource policies name exact IAM role ARNs, exact actions
    CKV_XACCT_2  Kinesis streams use a customer-managed KMS key
    CKV_XACCT_3  stream event source mappings bound their failures and wait for the policies granting the read
                 (a source in another provider alias's account: its resource policy, not only the role's)
    CKV_XACCT_4  KMS key policies grant nothing to a wildcard principal
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Optional

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+")
# A reference to a role created in the same configuration, e.g. ${aws_iam_role.reader.arn}.
ROLE_REFERENCE = re.compile(r"\$\{aws_iam_role\.[A-Za-z0-9_-]+\.arn\}")
# A split fan-out's producer plan names each reader by its handed-over role ARN: a variable whose
# validation admits only an IAM role ARN (stack_variables.FANOUT_PRODUCER_SPECS).
ROLE_VARIABLE = re.compile(r"\$\{var\.reader_role_arns\.[a-z][a-z0-9-]*\}")
AWS_MANAGED_ALIAS = re.compile(r"(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:)?alias/aws/")
MAX_RETRY_ATTEMPTS = 10_000


def _first(conf: dict[str, Any], key: str) -> Any:
    value = conf.get(key)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _statements(policy: Any) -> Optional[list[dict[str, Any]]]:
    """The statements of a policy, or None when it is not a literal JSON document."""
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return None
    if not isinstance(policy, dict):
        return None
    return [s for s in _as_list(policy.get("Statement")) if isinstance(s, dict)]


def _allow_statements(policy: Any) -> Optional[list[dict[str, Any]]]:
    statements = _statements(policy)
    if statements is None:
        return None
    return [s for s in statements if s.get("Effect") == "Allow"]


def _principal_values(statement: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        for kind, values in principal.items():
            for value in _as_list(values):
                yield kind, value
    elif principal is not None:
        yield "", principal


REFERENCE = re.compile(r"\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}")
_DOCUMENTS: dict[str, Optional[dict[str, Any]]] = {}


def _provider_of(conf: dict[str, Any]) -> str:
    provider = _first(conf, "provider")
    return provider if isinstance(provider, str) else "aws"


def _scanned_document(scanned_file: str) -> Optional[dict[str, Any]]:
    """The whole JSON document a resource came from. checkov hands a check one resource and the
    file's path relative to the directory it scans (`-d`), or to the working directory (`-f`)."""
    if scanned_file not in _DOCUMENTS:
        relative = scanned_file.lstrip("/")
        roots = [Path.cwd()] + [Path(value) for flag, value in zip(sys.argv, sys.argv[1:]) if flag in ("-d", "--directory")]
        _DOCUMENTS[scanned_file] = None
        for candidate in (root / relative for root in roots):
            if candidate.is_file():
                try:
                    _DOCUMENTS[scanned_file] = json.loads(candidate.read_text())
                except (OSError, ValueError):
                    continue
                break
    return _DOCUMENTS[scanned_file]


class KinesisResourcePolicyExactRoles(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure Kinesis resource policies grant exact actions to exact IAM role ARNs only",
            id="CKV_XACCT_1",
            categories=[CheckCategories.IAM],
            supported_resources=["aws_kinesis_resource_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        statements = _allow_statements(_first(conf, "policy"))
        if not statements:
            # Unreadable (e.g. built by a function call) cannot be reviewed; empty grants nothing useful.
            return CheckResult.FAILED
        for statement in statements:
            if "NotPrincipal" in statement or "NotAction" in statement or "Principal" not in statement:
                return CheckResult.FAILED
            for kind, value in _principal_values(statement):
                if kind != "AWS" or not isinstance(value, str):
                    return CheckResult.FAILED
                if not (ROLE_ARN.fullmatch(value) or ROLE_REFERENCE.fullmatch(value) or ROLE_VARIABLE.fullmatch(value)):
                    return CheckResult.FAILED
            actions = _as_list(statement.get("Action"))
            if not actions or any(not isinstance(a, str) or "*" in a for a in actions):
                return CheckResult.FAILED
        return CheckResult.PASSED

    def get_evaluated_keys(self) -> list[str]:
        return ["policy"]


class KinesisStreamCustomerManagedKey(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure Kinesis streams are encrypted with a customer-managed KMS key (shareable across accounts)",
            id="CKV_XACCT_2",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_kinesis_stream"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if _first(conf, "encryption_type") != "KMS":
            return CheckResult.FAILED
        key = _first(conf, "kms_key_id")
        if not isinstance(key, str) or not key or AWS_MANAGED_ALIAS.match(key):
            return CheckResult.FAILED
        return CheckResult.PASSED

    def get_evaluated_keys(self) -> list[str]:
        return ["encryption_type", "kms_key_id"]


class StreamEventSourceMappingBounded(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=(
                "Ensure stream event source mappings have an on-failure destination, bisect, finite retries "
                "and depend on the policies that grant the read"
            ),
            id="CKV_XACCT_3",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_lambda_event_source_mapping"],
        )

    @staticmethod
    def _source(arn: Any) -> Optional[str]:
        if not isinstance(arn, str):
            return None
        if arn.startswith("${var.stream_share.event_source_arns."):
            return "handed_over"  # a split fan-out's account plan: the producer plan shares the stream
        if "aws_kinesis_stream_consumer." in arn or re.search(r":kinesis:.*/consumer/", arn):
            return "kinesis_consumer"
        if "aws_kinesis_stream." in arn or ":kinesis:" in arn:
            return "kinesis_stream"
        if "aws_dynamodb_table." in arn or ":dynamodb:" in arn:
            return "dynamodb_stream"
        return None

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        source = self._source(_first(conf, "event_source_arn"))
        if source is None:
            return CheckResult.UNKNOWN  # SQS, Kafka, MQ: not a stream this check is about
        destination = _first(conf, "destination_config")
        on_failure = _first(destination, "on_failure") if isinstance(destination, dict) else None
        if not isinstance(on_failure, dict) or not _first(on_failure, "destination_arn"):
            return CheckResult.FAILED
        if _first(conf, "bisect_batch_on_function_error") is not True:
            return CheckResult.FAILED
        retries = _first(conf, "maximum_retry_attempts")
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRY_ATTEMPTS:
            return CheckResult.FAILED
        depends_on = [d for d in _as_list(_first(conf, "depends_on")) if isinstance(d, str)]
        if source == "handed_over":
            # The resource policies are in the producer's plan, applied before the share is handed
            # over; here the mapping must exist only with the share and wait for the role's read policy.
            gated = "var.stream_share" in str(_first(conf, "count"))
            return CheckResult.PASSED if gated and any(d.startswith("aws_iam_role_policy.") for d in depends_on) else CheckResult.FAILED
        policy_type = "aws_dynamodb_resource_policy." if source == "dynamodb_stream" else "aws_kinesis_resource_policy."
        resource_policies = sum(d.startswith(policy_type) for d in depends_on)
        # A stream or EFO consumer in the function's own account is read with the role's policy alone
        # (an On-demand Advantage fan-out has producer-account EFO readers); one in another account
        # (another provider alias, or an account the check cannot tell) needs its resource policies.
        same_account = self._same_account(conf, _first(conf, "event_source_arn"))
        if source == "kinesis_consumer" and not same_account:
            # An EFO consumer is shared through two policies: the stream's and the consumer's; for an
            # existing stream whose policy stays its owner's (not in this plan), only the consumer's.
            needed = 1 if self._stream_policy_is_the_owners() else 2
            return CheckResult.PASSED if resource_policies >= needed else CheckResult.FAILED
        if same_account:
            role_policies = sum(d.startswith("aws_iam_role_policy.") for d in depends_on)
            return CheckResult.PASSED if resource_policies + role_policies >= 1 else CheckResult.FAILED
        return CheckResult.PASSED if resource_policies >= 1 else CheckResult.FAILED

    def _stream_policy_is_the_owners(self) -> bool:
        """The configuration hands the stream's owner its statements instead of writing the policy."""
        document = _scanned_document(self.entity_path.split(":", 1)[0])
        return isinstance(document, dict) and "stream_policy_statements_for_owner" in document.get("output", {})

    def _same_account(self, conf: dict[str, Any], arn: Any) -> bool:
        """Whether the mapping and the resource its ARN refers to use the same provider (alias)."""
        match = REFERENCE.search(arn) if isinstance(arn, str) else None
        document = _scanned_document(self.entity_path.split(":", 1)[0]) if match else None
        if match is None or document is None:
            return False
        source = document.get("resource", {}).get(match.group(1), {}).get(match.group(2))
        if not isinstance(source, dict):
            return False
        return _provider_of(source) == _provider_of(conf)

    def get_evaluated_keys(self) -> list[str]:
        return [
            "destination_config/[0]/on_failure/[0]/destination_arn",
            "bisect_batch_on_function_error",
            "maximum_retry_attempts",
            "depends_on",
        ]


class KmsKeyPolicyNoWildcardPrincipal(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure KMS key policies allow nothing to a wildcard principal",
            id="CKV_XACCT_4",
            categories=[CheckCategories.IAM],
            supported_resources=["aws_kms_key", "aws_kms_key_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        policy = _first(conf, "policy")
        if policy is None:
            return CheckResult.PASSED  # AWS' default key policy names only the owning account
        statements = _allow_statements(policy)
        if statements is None:
            return CheckResult.FAILED
        for statement in statements:
            if "NotPrincipal" in statement:
                return CheckResult.FAILED
            for _, value in _principal_values(statement):
                if value == "*":
                    return CheckResult.FAILED
        return CheckResult.PASSED

    def get_evaluated_keys(self) -> list[str]:
        return ["policy"]


kinesis_resource_policy_exact_roles = KinesisResourcePolicyExactRoles()
kinesis_stream_customer_managed_key = KinesisStreamCustomerManagedKey()
stream_event_source_mapping_bounded = StreamEventSourceMappingBounded()
kms_key_policy_no_wildcard_principal = KmsKeyPolicyNoWildcardPrincipal()
