"""The accounts of a deployment as the tools reach them: the tfvars' accounts and deploy roles, a
session in each (assumed with the caller's credentials), and the SES identities verified there.
Shared by preflight, smoke and the live access review."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import boto3

from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.patterns import PARTITION_REGION_PREFIXES

SIDES = ("producer", "consumer")


@dataclass
class Result:
    name: str
    ok: bool
    detail: str


def read_tfvars(path: Path, aliases: list[str]) -> dict[str, Any]:
    import hcl2  # bc-python-hcl2, installed with checkov

    raw = hcl2.loads(path.read_text(encoding="utf-8"))
    values = {key: value[0] if isinstance(value, list) and len(value) == 1 else value for key, value in raw.items()}
    required = ["region"]
    for alias in aliases:
        if alias in SIDES:
            required += [f"{alias}_account_id", f"{alias}_deploy_role_arn"]
        elif "consumer_accounts" not in required:
            required.append("consumer_accounts")
    missing = [name for name in required if not values.get(name)]
    if missing:
        raise ConfigError(str(path), ", ".join(missing), "values for every required variable (see terraform.tfvars.example)")
    return values


def assumed(base: boto3.Session, role_arn: str, region: str, endpoint: Optional[str], session_name: str) -> boto3.Session:
    """A session on `role_arn`, assumed with `base`'s credentials (preflight, smoke)."""
    creds = base.client("sts", region_name=region, endpoint_url=endpoint).assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], region_name=region,
    )


def verified_identities(ses: Any) -> list[str]:
    """The SES identities (addresses and domains) verified in the client's account, sorted."""
    identities = ses.list_identities()["Identities"]
    status = ses.get_identity_verification_attributes(Identities=identities)["VerificationAttributes"] if identities else {}
    return sorted(i for i, attributes in status.items() if attributes.get("VerificationStatus") == "Success")


def stack_aliases(config: dict[str, Any]) -> list[str]:
    """The stack's accounts: its provider aliases, in the order the configuration declares them."""
    providers = config.get("provider", {}).get("aws", [])
    return [provider["alias"] for provider in (providers if isinstance(providers, list) else [providers])]


def accounts(tfvars: dict[str, Any], aliases: list[str]) -> dict[str, tuple[str, str]]:
    """Each account the stack deploys to: alias -> (deploy role ARN, account id)."""
    found = {}
    for alias in aliases:
        if alias in SIDES:
            found[alias] = (tfvars[f"{alias}_deploy_role_arn"], tfvars[f"{alias}_account_id"])
            continue
        mapping = tfvars["consumer_accounts"]
        if alias not in mapping:
            named = ", ".join(a for a in aliases if a not in SIDES)
            raise ConfigError("consumer_accounts", alias, f"an entry for every account the settings name ({named})")
        found[alias] = (mapping[alias]["deploy_role_arn"], mapping[alias]["account_id"])
    return found


def alias_of(body: dict[str, Any]) -> str:
    """The account (provider alias) a resource of the configuration is created in."""
    return str(body.get("provider", "aws.producer")).removeprefix("aws.")


def partition_of(region: str) -> str:
    return next((p for p, prefixes in PARTITION_REGION_PREFIXES.items() if region.startswith(prefixes)), "aws")
