"""Every event source mapping waits for every policy that lets its function's role read its source and
run: by construction (the mapping's depends_on is collected from its grants, blocks.grant), checked here
on every synthesized stack and example, and shown to fail when any one grant loses what it wrote."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from conftest import ROOT

pytestmark = pytest.mark.synth

REFERENCE = re.compile(r"^\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}$")


def _address(reference: Any) -> str | None:
    match = REFERENCE.match(reference) if isinstance(reference, str) else None
    return f"{match.group(1)}.{match.group(2)}" if match else None


def _statements(policy: Any) -> list[dict[str, Any]]:
    try:
        document = json.loads(policy) if isinstance(policy, str) else policy
    except ValueError:
        return []
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    return statements if isinstance(statements, list) else [statements]


def _names(statement: dict[str, Any], role_arn: str) -> bool:
    principal = statement.get("Principal")
    values = principal.get("AWS", []) if isinstance(principal, dict) else []
    return role_arn in (values if isinstance(values, list) else [values])


def required(config: dict[str, Any], mapping: dict[str, Any]) -> set[str]:
    """What `mapping` must wait for: the resource policies on its source (or its stream) and the key
    policies and key grants naming its role, and every inline policy of its role and of the roles its
    function assumes for its sink or stream (a policy that lets the first batch run)."""
    resources = config["resource"]
    function_address = _address(mapping["function_name"])
    assert function_address is not None, mapping["function_name"]
    function = resources["aws_lambda_function"][function_address.split(".", 1)[1]]
    role_arn = function["role"]
    role_address = _address(role_arn)
    source = mapping["event_source_arn"]
    source_address = _address(source)
    stream_of_source = None
    if source_address and source_address.startswith("aws_kinesis_stream_consumer."):
        stream_of_source = resources["aws_kinesis_stream_consumer"][source_address.split(".", 1)[1]]["stream_arn"]
    needed: set[str] = set()
    for type_ in ("aws_kinesis_resource_policy", "aws_dynamodb_resource_policy"):
        for name, body in resources.get(type_, {}).items():
            if body["resource_arn"] in (source, stream_of_source) and any(_names(s, role_arn) for s in _statements(body["policy"])):
                needed.add(f"{type_}.{name}")
    for name, body in resources.get("aws_kms_key_policy", {}).items():
        if any(_names(s, role_arn) for s in _statements(body["policy"])):
            needed.add(f"aws_kms_key_policy.{name}")
    for name, body in resources.get("aws_kms_grant", {}).items():
        if body["grantee_principal"] == role_arn:
            needed.add(f"aws_kms_grant.{name}")
    roles = {role_address} if role_address else set()
    for variable in ("SINK_ROLE_ARN", "STREAM_ROLE_ARN"):
        assumed = function.get("environment", {}).get("variables", {}).get(variable)
        for name, body in resources.get("aws_iam_role", {}).items():
            if assumed and (assumed == f"${{aws_iam_role.{name}.arn}}" or assumed.endswith(f":role/{body.get('name')}")):
                roles.add(f"aws_iam_role.{name}")
    for name, body in resources.get("aws_iam_role_policy", {}).items():
        if any(body["role"] == f"${{{role}.id}}" or body["role"] == f"${{{role}.name}}" for role in roles):
            needed.add(f"aws_iam_role_policy.{name}")
    return needed


def mappings(config: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from config["resource"].get("aws_lambda_event_source_mapping", {}).items()


def missing(config: dict[str, Any]) -> dict[str, list[str]]:
    """mapping -> what it should wait for and does not."""
    found = {}
    for name, mapping in mappings(config):
        absent = sorted(required(config, mapping) - set(mapping.get("depends_on", [])))
        if absent:
            found[name] = absent
    return found


def _configs(*outdirs: Path) -> list[tuple[str, dict[str, Any]]]:
    return [(p.parent.name, json.loads(p.read_text())) for outdir in outdirs for p in sorted((outdir / "stacks").glob("*/cdk.tf.json"))]


def test_every_mapping_of_every_stack_and_example_waits_for_every_policy_it_relies_on(cli_outdir: Path, library_outdir: Path) -> None:
    # GIVEN every stack the suite synthesizes: the five kinds, the provisioned variant, the quick start on an
    # existing stream, the fan-out in one plan and split into three
    configs = _configs(cli_outdir, library_outdir)
    # WHEN each mapping's depends_on is compared with what it relies on
    counted = {name: sum(1 for _ in mappings(config)) for name, config in configs}
    # THEN nothing is missing in any of the 14 mappings, and each has something it must wait for
    assert {name: found for name, config in configs if (found := missing(config))} == {}
    assert (len(configs), sum(counted.values())) == (13, 14), counted
    assert counted["orders-fanout"] == 3 and counted["orders-audit"] == 1 and counted["xacct-kinesis-replication"] == 2
    assert all(required(config, m) for _, config in configs for _, m in mappings(config))


def test_removing_any_one_dependency_of_any_mapping_is_caught(cli_outdir: Path, library_outdir: Path) -> None:
    # GIVEN each mapping of each stack, and each thing it must wait for
    cases = 0
    for stack, config in _configs(cli_outdir, library_outdir):
        for name, mapping in mappings(config):
            for dependency in sorted(required(config, mapping)):
                # WHEN that one entry is taken out of its depends_on
                changed = copy.deepcopy(config)
                body = changed["resource"]["aws_lambda_event_source_mapping"][name]
                body["depends_on"] = [d for d in body["depends_on"] if d != dependency]
                # THEN the check names exactly that mapping and that dependency
                assert missing(changed) == {name: [dependency]}, (stack, name, dependency)
                cases += 1
    assert cases == 69, cases


def _drop_dependables(grant: Any) -> Any:
    from xacct_streaming.blocks.grant import Grant

    return Grant(grant.grantee, grant.actions, grant.resources, ())


MUTATIONS: dict[str, tuple[str, str, Callable[[pytest.MonkeyPatch], None]]] = {}


def _mutation(name: str, module: str, attribute: str, settings: str) -> None:
    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        import importlib

        owner_name, _, member = attribute.partition(".")
        owner = getattr(importlib.import_module(module), owner_name)
        original = owner.__dict__[member]
        if isinstance(original, property):
            monkeypatch.setattr(owner, member, property(lambda self: _drop_dependables(original.fget(self))))
        else:
            monkeypatch.setattr(owner, member, lambda self, *a, **k: _drop_dependables(original(self, *a, **k)))
    MUTATIONS[name] = (settings, attribute, apply)


_mutation("stream-resource-side", "xacct_streaming.blocks.shared_stream", "SharedStream.read_grant", "")
_mutation("role-stream-read", "xacct_streaming.blocks.synchronous_function", "SynchronousFunction.grant_role_policy", "")
_mutation("role-runtime", "xacct_streaming.blocks.synchronous_function", "SynchronousFunction.runtime_grant", "")
_mutation("sink-table-write", "xacct_streaming.blocks.synchronous_function", "SynchronousFunction.grant_table_write", "")
_mutation("table-stream-resource-side", "xacct_streaming.blocks.shared_table_stream", "SharedTableStream.read_grant", "xacct-dynamodb-streams")
_mutation("existing-stream-key-grant", "xacct_streaming.blocks.shared_stream", "SharedStream.read_grant", "examples/existing-stream.toml")
_mutation("replica-writer-role", "xacct_streaming.blocks.cross_account_writer_role", "CrossAccountWriterRole.write_grant", "xacct-kinesis-replication")


@pytest.mark.slow  # a synth per mutation: make test
@pytest.mark.parametrize("mutation", sorted(MUTATIONS), ids=sorted(MUTATIONS))
def test_a_grant_that_loses_what_it_wrote_leaves_a_mapping_unordered(mutation: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xacct_streaming.settings.config import load_stacks, props_from_mapping
    from xacct_streaming.synthesis.synth import synthesize

    settings, attribute, apply = MUTATIONS[mutation]
    # GIVEN a grant whose dependables are dropped (as if it no longer said what it wrote)
    if attribute == "CrossAccountWriterRole.write_grant":
        from xacct_streaming.blocks import cross_account_writer_role

        original_init = cross_account_writer_role.CrossAccountWriterRole.__init__

        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original_init(self, *args, **kwargs)
            self.write_grant = _drop_dependables(self.write_grant)
        monkeypatch.setattr(cross_account_writer_role.CrossAccountWriterRole, "__init__", init)
    else:
        apply(monkeypatch)
    props = load_stacks(str(ROOT / settings))[0] if settings.endswith(".toml") else props_from_mapping({"kind": settings} if settings else {})
    # WHEN the stack is synthesized
    synthesize([props], outdir=tmp_path / "out")
    config = json.loads((tmp_path / "out" / "stacks" / props.stack_name / "cdk.tf.json").read_text())
    # THEN a mapping misses what that grant wrote
    assert missing(config) != {}
