"""A stack's policies as IAM reads them: each role's identity policies, the resource-side policy of
each resource (resource, key and trust policies, KMS grants, Lambda permissions), resolved."""

from __future__ import annotations

import re
from typing import Any, Iterable, Iterator, Optional

from xacct_ops.iam.policy import Call, policy_document
from xacct_ops.iam.resolver import REFERENCE, Resolver

# Resource policies that are resources of their own: type -> the argument naming what it protects.
RESOURCE_POLICIES = {
    "aws_kinesis_resource_policy": "resource_arn",  # a stream or an EFO consumer
    "aws_dynamodb_resource_policy": "resource_arn",  # a table or its stream
    "aws_sns_topic_policy": "arn",
    "aws_sqs_queue_policy": "queue_url",
    "aws_secretsmanager_secret_policy": "secret_arn",
    "aws_s3_bucket_policy": "bucket",
}
# The output holding the statements an existing stream's owner adds to its policy (accounts_stack).
OWNER_STATEMENTS_OUTPUT = "stream_policy_statements_for_owner"
SQS_URL = re.compile(r"https://sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(\d{12})/([^/]+)")


class Stack:
    def __init__(self, name: str, config: dict[str, Any], state: Optional[dict[str, dict[str, Any]]] = None,
                 resolver: Optional[Resolver] = None) -> None:
        self.name = name
        self.r = resolver or Resolver(config, state)
        self.config = config
        # Lookups asked again and again (every call's policies): the configuration is read-only
        # once a stack is built, and its references resolve the same way each time.
        self._values: dict[tuple[str, str], Any] = {}
        self._identity: dict[str, list[dict[str, Any]]] = {}
        self._resource: dict[tuple[str, str], Optional[dict[str, Any]]] = {}

    def each(self, type_: str) -> Iterable[tuple[str, dict[str, Any]]]:
        for name, body in self.config.get("resource", {}).get(type_, {}).items():
            yield f"{type_}.{name}", body

    def value(self, address: str, attribute: str) -> Any:
        key = (address, attribute)
        if key not in self._values:
            self._values[key] = self.r.expression(f"{address}.{attribute}")
        return self._values[key]

    def function(self, name_or_arn: str) -> Optional[tuple[str, dict[str, Any]]]:
        return self.find("aws_lambda_function", function_name=name_or_arn) or self.find("aws_lambda_function", arn=name_or_arn)

    def find(self, type_: str, **wanted: Any) -> Optional[tuple[str, dict[str, Any]]]:
        for address, body in self.each(type_):
            if all(self.value(address, k) == v for k, v in wanted.items()):
                return address, body
        return None

    @staticmethod
    def document(text: Any) -> dict[str, Any]:
        return policy_document(text)

    def identity_policies(self, role_arn: str) -> list[dict[str, Any]]:
        """The inline policies this configuration gives a role: matched by the role's name and
        account, so a policy the plan attaches to a role it does not create counts too."""
        if role_arn not in self._identity:
            role_name = role_arn.rsplit("/", 1)[-1]
            self._identity[role_arn] = [
                {"name": self.r(body["name"]), "policy": self.document(self.r(body["policy"]))}
                for _, body in self.each("aws_iam_role_policy")
                if self.r(body["role"]) == role_name and self.account_of_role(role_arn) == self.r.account_of(body)
            ]
        return self._identity[role_arn]

    def declares(self, principal: str) -> bool:
        """Whether the configuration holds the principal's identity side: a role it creates or
        gives a policy to. Another principal's identity policies are its own account's."""
        if not principal.startswith("arn:") or ":role/" not in principal:
            return False
        return self.find("aws_iam_role", arn=principal) is not None or bool(self.identity_policies(principal))

    def grants_as_policy(self, key_arn: str) -> Optional[dict[str, Any]]:
        """The KMS grants of this configuration on a key it does not manage (an existing stream's),
        as the key-policy statements they amount to: the grantee may call the granted operations
        when the request's encryption context is exactly the grant's (EncryptionContextEquals).
        The key's own policy is not in the configuration, so only what the grants allow is known."""
        statements = []
        for _, body in self.each("aws_kms_grant"):
            if self.r(body["key_id"]) != key_arn:
                continue
            statement: dict[str, Any] = {
                "Sid": self.r(body["name"]), "Effect": "Allow", "Principal": {"AWS": self.r(body["grantee_principal"])},
                "Action": [f"kms:{operation}" for operation in self.r(body["operations"])], "Resource": "*",
            }
            for constraint in self.r(body.get("constraints") or []):
                equals = constraint.get("encryption_context_equals") or {}
                if equals:
                    statement["Condition"] = {"StringEquals": {f"kms:EncryptionContext:{k}": v for k, v in equals.items()}}
            statements.append(statement)
        return {"Version": "2012-10-17", "Statement": statements} if statements else None

    def grant_key_for(self, encryption_context: dict[str, str]) -> Optional[str]:
        """The key a grant of this configuration names for exactly this encryption context."""
        for _, body in self.each("aws_kms_grant"):
            for constraint in self.r(body.get("constraints") or []):
                if constraint.get("encryption_context_equals") == encryption_context:
                    return self.r(body["key_id"])
        return None

    @staticmethod
    def account_of_role(role_arn: str) -> str:
        return role_arn.split(":")[4]

    def key_arn(self, key_id: Any) -> Any:
        """A key policy's key as an ARN: from its reference (a configuration) or its id (a state)."""
        reference = REFERENCE.fullmatch(key_id) if isinstance(key_id, str) else None
        if reference:
            return self.value(reference.group(1).rsplit(".", 1)[0], "arn")
        key_id = self.r(key_id)
        if isinstance(key_id, str) and not key_id.startswith("arn:"):
            found = self.find("aws_kms_key", key_id=key_id)
            return self.value(found[0], "arn") if found else key_id
        return key_id

    def permission_statement(self, body: dict[str, Any], function_arn: str) -> dict[str, Any]:
        """A Lambda permission (aws_lambda_permission) as the statement Lambda adds to the function's
        policy (Lambda API AddPermission: a service, an account or ARN, or `*`; SourceArn as
        ArnLike, SourceAccount and PrincipalOrgID as StringEquals)."""
        principal = self.r(body["principal"])
        if principal == "*":
            written: Any = "*"
        elif isinstance(principal, str) and (principal.startswith("arn:") or re.fullmatch(r"\d{12}", principal)):
            written = {"AWS": principal}
        else:
            written = {"Service": principal}
        statement: dict[str, Any] = {"Sid": self.r(body.get("statement_id", "")), "Effect": "Allow", "Principal": written,
                                     "Action": self.r(body["action"]), "Resource": function_arn}
        conditions: dict[str, dict[str, Any]] = {}
        if body.get("source_arn"):
            conditions.setdefault("ArnLike", {})["AWS:SourceArn"] = self.r(body["source_arn"])
        if body.get("source_account"):
            conditions.setdefault("StringEquals", {})["AWS:SourceAccount"] = self.r(body["source_account"])
        if body.get("principal_org_id"):
            conditions.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = self.r(body["principal_org_id"])
        if conditions:
            statement["Condition"] = conditions
        return statement

    def resource_policies(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(the ARN of the resource it protects, the document) for each resource policy of the
        configuration that is a resource of its own (RESOURCE_POLICIES)."""
        for type_ in RESOURCE_POLICIES:
            for _, body in self.each(type_):
                yield self.protected_by(type_, body), self.document(self.r(body["policy"]))
        # An existing stream's policy is its owner's: the statements the stack hands them (and make
        # preflight checks they added) are what AWS will evaluate, on the stream the stack reads.
        owner = self.config.get("output", {}).get(OWNER_STATEMENTS_OUTPUT)
        if owner:
            document = self.document(self.r(owner["value"]))
            for stream in self.streams_read_not_created():
                yield stream, document

    def streams_read_not_created(self) -> list[str]:
        """The streams this configuration's EFO consumers and mappings read that it does not create."""
        created = {self.value(address, "arn") for address, _ in self.each("aws_kinesis_stream")}
        read = [self.r(body.get("stream_arn")) for _, body in self.each("aws_kinesis_stream_consumer")]
        read += [str(self.r(body.get("event_source_arn"))).split("/consumer/")[0] for _, body in self.each("aws_lambda_event_source_mapping")]
        return [arn for arn in dict.fromkeys(read) if isinstance(arn, str) and ":kinesis:" in arn and arn not in created]

    def protected_by(self, type_: str, body: dict[str, Any]) -> Any:
        """The ARN of the resource a resource policy (RESOURCE_POLICIES) protects."""
        target = self.r(body[RESOURCE_POLICIES[type_]])
        url = SQS_URL.fullmatch(target) if isinstance(target, str) else None
        if url:
            return f"arn:aws:sqs:{url.group(1)}:{url.group(2)}:{url.group(3)}"
        if type_ == "aws_s3_bucket_policy" and isinstance(target, str) and not target.startswith("arn:"):
            return f"arn:aws:s3:::{target}"
        return target

    def resource_policy(self, call: Call) -> Optional[dict[str, Any]]:
        """The resource-side policy AWS evaluates for the call: a key's policy (or the grants on a
        key the configuration does not manage), a resource policy, a role's trust, a function's
        permissions."""
        key = (call.action.split(":")[0].lower(), call.resource)
        if key not in self._resource:
            self._resource[key] = self._resource_policy(call)
        return self._resource[key]

    def _resource_policy(self, call: Call) -> Optional[dict[str, Any]]:
        service = call.action.split(":")[0].lower()
        if service == "kms":
            for _, body in self.each("aws_kms_key_policy"):
                if self.key_arn(body["key_id"]) == call.resource:
                    return self.document(self.r(body["policy"]))
            return self.grants_as_policy(call.resource)

        for protected, document in self.resource_policies():
            if call.resource == protected or (protected.startswith("arn:aws:s3:::") and call.resource.startswith(protected + "/")):
                return document
        if service == "sts" and ":role/" in call.resource:
            found = self.find("aws_iam_role", arn=call.resource)
            if found is None:
                return None
            trust = self.document(self.r(found[1]["assume_role_policy"]))
            # A trust policy has no Resource: the role is the resource.
            return {**trust, "Statement": [{**s, "Resource": call.resource} for s in trust["Statement"]]}
        if service == "lambda":
            statements = []
            for _, body in self.each("aws_lambda_permission"):
                function = self.function(self.r(body["function_name"]))
                if function is None or self.value(function[0], "arn") != call.resource:
                    continue
                statements.append(self.permission_statement(body, call.resource))
            return {"Version": "2012-10-17", "Statement": statements} if statements else None
        return None
