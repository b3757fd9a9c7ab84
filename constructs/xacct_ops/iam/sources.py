"""Where the stacks of a review or a check come from: synthesized stack directories (stand-in values),
`terraform show -json` of a plan (its known values, the stand-ins for what is computed at apply) or of
a state, or a state file itself (every value known). A missing or empty state is "nothing yet".
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional

from xacct_ops import manifest
from xacct_ops.iam.resolver import CONSUMER_CREATED, PlanResolver, StateResolver, stand_in_accounts
from xacct_ops.iam.stack import Stack
from xacct_streaming.settings.fanout import PRODUCER_ACCOUNT as PRODUCER_PART  # a split plan's part (manifest.json)


class SourceError(Exception):
    """An input that is not a stack, a plan or a state, or cannot be read: named with its path."""


# moto's EFO consumer ARNs end at the consumer name; AWS's carry the creation time (":<epoch>"), and
# the engine validates ARNs against AWS's formats. Given one everywhere in the state, they stay equal.
# The name is taken whole (not a shorter prefix of it before a timestamp): an ARN that has one is left as it is.
MOTO_CONSUMER_ARN = re.compile(r'(arn:aws:kinesis:[a-z0-9-]+:\d{12}:stream/[^/"\\]+/consumer/[^:/"\\]+)(?![^:/"\\]|:\d)')


def load_state(path: Path) -> dict[str, dict[str, Any]]:
    """Address -> attributes, from `terraform show -json` output or from a local state file itself
    (no Terraform run, no provider processes: what the rehearsal reads)."""
    state = json.loads(MOTO_CONSUMER_ARN.sub(rf"\1:{CONSUMER_CREATED}", path.read_text()))
    if "values" in state:
        resources = state["values"].get("root_module", {}).get("resources", [])
        return {r["address"]: r["values"] for r in resources if r.get("mode") == "managed"}
    return {
        f"{r['type']}.{r['name']}": r["instances"][0]["attributes"]
        for r in state.get("resources", []) if r.get("mode") == "managed" and r.get("instances") and "module" not in r
    }


def read_json(path: Path, what: str) -> Any:
    """A file's JSON, or the reason it is not usable (a SourceError naming the file)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(f"{path}: cannot read it ({error.__class__.__name__}: {error})") from None
    # moto's EFO consumer ARNs lack AWS's creation time: given one, as load_state does for a state.
    text = MOTO_CONSUMER_ARN.sub(r"\1:" + CONSUMER_CREATED, text)
    try:
        return json.loads(text) if text else {}
    except ValueError as error:
        raise SourceError(f"{path}: not JSON ({error}): {what}") from None


USAGE = "give a synthesized stack directory, a stack's cdk.tf.json, or `terraform show -json` of a plan or a state"


def load_side(path: Path, config_path: Optional[Path] = None) -> list[Stack]:
    """The stacks of one side: synthesized directories, or a plan or state with real values."""
    if path.is_dir():
        dirs = [path] if (path / "cdk.tf.json").is_file() else sorted(p for p in (path / "stacks").glob("*/") if (p / "cdk.tf.json").is_file())
        if not dirs:
            raise SourceError(f"{path}: no cdk.tf.json in it or in {path}/stacks/*/")
        configs = [(d.name, read_json(d / "cdk.tf.json", USAGE)) for d in dirs]
        for (name, config), directory in zip(configs, dirs):
            if not isinstance(config, dict) or not isinstance(config.get("resource", {}), dict):
                raise SourceError(f"{directory / 'cdk.tf.json'}: not a synthesized stack (no resource object)")
        return _synthesized(configs, {d.name: (manifest.entry(d) or {}).get("part") for d in dirs})
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory")
    document = read_json(path, USAGE)
    if not isinstance(document, dict):
        raise SourceError(f"{path}: not a plan, a state or a stack: {USAGE}")
    if "planned_values" in document or "resource_changes" in document:
        return [_plan_stack(path, document, config_path or path.parent / "cdk.tf.json")]
    if "resource" in document and isinstance(document["resource"], dict):
        return _synthesized([(path.parent.name, document)], {path.parent.name: (manifest.entry(path.parent) or {}).get("part")})
    if not document or "values" in document or ("resources" in document and "version" in document):
        return [_state_stack(path)]
    raise SourceError(f"{path}: not a plan, a state or a stack (no resource_changes, values, resources or resource): {USAGE}")


def _synthesized(configs: list[tuple[str, dict[str, Any]]], parts: dict[str, Optional[str]]) -> list[Stack]:
    """Synthesized stacks with stand-in values. The plans of a split fan-out (the manifest records
    each plan's account: `parts`) get what the handoff would give them: the producer plan every
    account plan's `reader_role_arns`, each account plan its entry of the producer's `stream_shares`,
    and each account plan its own account's id."""
    stacks = [Stack(name, config) for name, config in configs]
    producers = [s for s in stacks if parts.get(s.name) == PRODUCER_PART]
    readers = [s for s in stacks if parts.get(s.name) not in (None, PRODUCER_PART)]
    if producers and readers:
        roles = {k: v for s in readers for k, v in s.r(s.config["output"]["reader_role_arns"]["value"]).items()}
        for producer in producers:
            producer.r.variables["reader_role_arns"] = roles
            shares = producer.r(producer.config["output"]["stream_shares"]["value"])
            for reader in readers:
                (alias,) = [a.split(".", 1)[1] for a in stand_in_accounts(reader.config)]
                if alias in shares:
                    reader.r.variables["stream_share"] = shares[alias]
    return stacks


def _variables(document: dict[str, Any]) -> dict[str, Any]:
    return {name: body.get("value") for name, body in document.get("variables", {}).items()}


def _accounts_of(document: dict[str, Any], variables: dict[str, Any]) -> dict[str, str]:
    """Provider alias -> account id, from each provider's allowed_account_ids in the plan."""
    accounts: dict[str, str] = {}
    for key, provider in document.get("configuration", {}).get("provider_config", {}).items():
        expression = provider.get("expressions", {}).get("allowed_account_ids", {})
        references = expression.get("references", []) if isinstance(expression, dict) else []
        for reference in references:
            value: Any = variables
            for part in reference.split(".")[1:] if reference.startswith("var.") else ["?"]:
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, str) and value.isdigit():
                accounts[f"aws.{provider.get('alias', key.split('.')[-1])}"] = value
                break
    return accounts


def _plan_stack(path: Path, document: dict[str, Any], config_path: Path) -> Stack:
    if not config_path.is_file():
        raise SourceError(f"{path}: a plan is reviewed with its stack's configuration: no {config_path} (give --config)")
    config = read_json(config_path, "a plan's cdk.tf.json (--config)")
    if not isinstance(config, dict) or not isinstance(config.get("resource", {}), dict):
        raise SourceError(f"{config_path}: not a synthesized stack (no resource object)")
    variables = _variables(document)
    known = {}
    for change in document.get("resource_changes", []):
        actions = change["change"]["actions"]
        if change.get("mode") != "managed" or actions == ["delete"]:
            continue
        after = change["change"].get("after") or {}
        unknown = change["change"].get("after_unknown") or {}
        # `x[0]`: an instance of a resource with a count (a split fan-out's mappings and read policies).
        known[re.sub(r"\[[^\]]*\]$", "", change["address"])] = {k: v for k, v in after.items() if not unknown.get(k)}
    # What the plan will not have after the apply (count = 0, or destroyed) grants nothing.
    config = {**config, "resource": {type_: {name: body for name, body in group.items() if f"{type_}.{name}" in known}
                                     for type_, group in config.get("resource", {}).items()}}
    accounts = {**stand_in_accounts(config), **_accounts_of(document, variables)}
    resolver = PlanResolver(config, known, accounts=accounts, variables=variables)
    return Stack(config_path.parent.name, config, resolver=resolver)


# Nested blocks the model reads: a configuration writes each as an object, a state as a list of one.
BLOCKS = {"environment", "logging_config", "dead_letter_config", "destination_config", "on_failure", "server_side_encryption",
          "extended_s3_configuration", "cloudwatch_logging_options", "sns_destination", "stream_mode_details"}


def _as_configuration(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (_as_configuration(v[0]) if v else {}) if k in BLOCKS and isinstance(v, list) else _as_configuration(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_as_configuration(v) for v in value]
    return value


def _state_stack(path: Path) -> Stack:
    """A state as a configuration of literal values: every policy, name and ARN is known."""
    values = {address: _as_configuration(attributes) for address, attributes in (load_state(path) if path.read_text().strip() else {}).items()}
    config: dict[str, Any] = {"resource": {}}
    for address, attributes in values.items():
        type_, name = address.split(".", 1)
        config["resource"].setdefault(type_, {})[name] = dict(attributes)
    return Stack(path.stem, config, state=values, resolver=StateResolver(config, values))
