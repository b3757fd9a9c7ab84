"""Synthesizes the app into a staging directory and swaps it in only when synthesis succeeded.

A failed synth therefore leaves the previous output exactly as it was, and a successful one
replaces each stack's directory whole (a rename each) and the manifest last. Synthesis owns
`stacks/` and `manifest.json` only: other files in the output directory (the Terraform CLI config
`make validate` writes there, diagrams) stay. Terraform's working directory (`.terraform/`) is
carried over into the new output so `make synth` does not force a fresh `terraform init`.

Next to each stack's configuration go two files cdktf does not write:
- `.terraform.lock.hcl`, the project's provider lock (`terraform.lock.hcl` beside this module), so
  `terraform init` installs only a provider whose checksum it lists, on every machine (on the cdktf
  line: the lock holds aws 5.100.0, which a 6.x line's configuration excludes; xacct_streaming.framework);
- `versions.tf`, the Terraform version the configuration needs. It is not in `cdk.tf.json`
  because checkov 3.3.30 cannot parse a `terraform` block holding a plain string (it reports the
  whole file as a parsing error and scans nothing); Terraform merges the two `terraform` blocks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

from xacct_streaming import framework
from xacct_streaming.synthesis.name_limits import check_names
from xacct_streaming.synthesis.node_runtime import start_kernel
from xacct_streaming.synthesis.teardown import write_teardown_override

# Terraform's working directory, and the values a split fan-out's plans hand each other (xacct_ops.handoff).
TERRAFORM_WORKING_FILES = (".terraform", "split-handoff.auto.tfvars.json")
PROVIDER_LOCK = Path(__file__).with_name("terraform.lock.hcl")
# Variable validations that refer to other variables need Terraform 1.9; the S3 backend's
# `use_lockfile` (state locking without DynamoDB) needs 1.10.
REQUIRED_TERRAFORM = ">= 1.10"
# Ephemeral resources need 1.10; write-only arguments (`*_wo`) 1.11.
REQUIRED_TERRAFORM_WRITE_ONLY = ">= 1.11"


def required_terraform(config: dict[str, Any]) -> str:
    """The Terraform a stack's configuration needs: 1.11 when a resource sets a write-only argument."""
    for resources in config.get("resource", {}).values():
        for body in resources.values():
            if any(name.endswith("_wo") for name in body):
                return REQUIRED_TERRAFORM_WRITE_ONLY
    return REQUIRED_TERRAFORM


def versions_tf(config: dict[str, Any]) -> str:
    return f'terraform {{\n  required_version = "{required_terraform(config)}"\n}}\n'


class OutputFormatError(RuntimeError):
    """JSON asked for in a process whose cdktf kernel writes HCL, or the other way round."""


def _set_output_format(hcl: bool) -> None:
    """cdktf's stacks read SYNTH_HCL_OUTPUT in the jsii kernel, a Node process started on the first
    cdktf import and given the environment of that moment (App(hcl_output=...) only renames the
    file): one process writes JSON or HCL, never both. A synth of the other format is refused
    instead of silently inheriting the first one's."""
    wanted = "true" if hcl else None
    current = os.environ.get("SYNTH_HCL_OUTPUT")
    if framework.loaded() and (current == "true") != hcl:
        raise OutputFormatError(
            f"cdktf started in this process writing {'HCL' if current == 'true' else 'JSON'} (it fixes the format when it "
            f"starts): synthesize {'HCL' if hcl else 'JSON'} in a new process"
        )
    if wanted:
        os.environ["SYNTH_HCL_OUTPUT"] = wanted


def synthesize(
    stacks: Sequence[Any],
    *,
    outdir: Path,
    hcl: bool = False,
    keep_other_stacks: bool = False,
    teardown: bool = False,
    customize: Optional[Callable[[Any, list[Any]], None]] = None,
) -> list[Path]:
    """Writes one directory per stack (props of any kind in `catalog.KINDS`) under
    `outdir/stacks/` and returns them.

    `customize(app, stacks)`, called with the cdktf App and the stacks built from `stacks` before the
    synth, adds a user's own resources to those stacks or own stacks to the app: they get the same
    safety nets (every derived name checked, `versions.tf` and the provider lock in every stack
    directory, AWS names and states unique across stacks, all or nothing written).

    `keep_other_stacks` (`main.py --stack`): only these stacks' directories are replaced, each
    whole; the other stacks' directories (with their `.terraform/` and saved plans) stay as they
    are, and the manifest keeps listing them. `teardown`: each stack also gets its teardown override
    (`teardown.py`)."""
    _set_output_format(hcl)
    # Imported here: validating props must not pay for loading cdktf and the provider bindings.
    from xacct_streaming.synthesis import provider_bindings

    provider_bindings.enable()  # before cdktf starts the jsii kernel (see provider_bindings)
    start_kernel()  # on a supported Node, the environment left as it was
    from xacct_streaming.framework import App

    from xacct_streaming.settings.catalog import kind_of

    # A split fan-out is its plans, each a stack (as `catalog.select` gives them to main.py).
    stacks = [part for props in stacks for part in (list(getattr(props, "plans", tuple)()) or [props])]
    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.staging-", dir=outdir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the output is an ordinary directory
    try:
        app = App(outdir=str(staging), stack_traces=False, hcl_output=hcl, **framework.app_options())
        built = [kind_of(props).build(app, props) for props in stacks]
        if customize is not None:
            customize(app, built)
        props_of = {stack.node.id: props for stack, props in zip(built, stacks)}
        configs = validate(app, props_of)  # before anything is written: the previous output stays
        app.synth()
        _record_kinds(staging / "manifest.json", props_of)
        for name, config in configs.items():
            stack_dir = staging / "stacks" / name
            if hcl:
                stack_file = stack_dir / "cdk.tf"
                written = {key: value for key, value in config.items() if key != "ephemeral"}  # cdktf drops it
                stack_file.write_text(clean_hcl(stack_file.read_text(), written, stack_file) + ephemeral_hcl(config))
            if framework.line().writes_provider_lock:
                shutil.copyfile(PROVIDER_LOCK, stack_dir / ".terraform.lock.hcl")
            (stack_dir / "versions.tf").write_text(versions_tf(config))
            if teardown:
                write_teardown_override(stack_dir)
        _carry_over_working_files(outdir, staging)
        _swap_in(staging, outdir, keep_other_stacks)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [outdir / "stacks" / name for name in configs]


def validate(app: Any, props_of: Optional[dict[str, Any]] = None) -> dict[str, dict[str, Any]]:
    """The safety nets of `synthesize()` for any cdktf App, a user's own included; call it before
    `app.synth()`. Every stack's configuration is checked: each name AWS would refuse (naming the
    settings it derives from: `props_of`, stack id -> props, else the stack's own `props`), AWS names
    that two stacks would both create in one account, and two stacks sharing one state. The first
    problem is a ConfigError and nothing is written. Returns each stack's configuration by stack id."""
    from xacct_streaming.framework import TerraformStack

    configs: dict[str, dict[str, Any]] = {}
    for stack in (child for child in app.node.children if isinstance(child, TerraformStack)):
        config = stack.to_terraform()
        check_names(config, (props_of or {}).get(stack.node.id) or getattr(stack, "props", None))
        configs[stack.node.id] = config
    _check_names_are_unique(configs)
    _check_states_are_separate(configs)
    return configs


def _record_kinds(manifest_file: Path, props_of: dict[str, Any]) -> None:
    """Each stack's kind in the manifest (catalog.StackKind.manifest_entry), where the tools look up
    what to run on it; a stack of the user's own (`customize`) has none."""
    from xacct_streaming.settings.catalog import kind_of

    manifest = json.loads(manifest_file.read_text())
    for name, entry in manifest.get("stacks", {}).items():
        if name in props_of:
            entry.update(kind_of(props_of[name]).manifest_entry(props_of[name]))
    manifest_file.write_text(json.dumps(manifest, indent=2))


# cdktf writes `provider = "aws.x"` and quoted `depends_on` and `ignore_changes` entries in HCL, forms
# Terraform deprecated in 0.12 and warns about on every validate; these are the only ones it emits.
_QUOTED_PROVIDER = re.compile(r'^(provider = )"(aws\.[a-z0-9_]+)"$', re.MULTILINE)
_QUOTED_DEPENDENCY = re.compile(r'^"((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)",$', re.MULTILINE)


_IGNORE_CHANGES = re.compile(r'^(\s*ignore_changes = \[\n)((?:"[a-z0-9_]+",\n)+)', re.MULTILINE)


def unquote_references(hcl: str) -> str:
    """Turns cdktf's quoted provider, depends_on and ignore_changes references into plain references."""
    hcl = _IGNORE_CHANGES.sub(lambda m: m.group(1) + m.group(2).replace('"', ""), hcl)
    return _QUOTED_DEPENDENCY.sub(r"\1,", _QUOTED_PROVIDER.sub(r"\1\2", hcl))


def ephemeral_hcl(config: dict[str, Any]) -> str:
    """The stack's `ephemeral` blocks as HCL: cdktf's HCL writer drops top-level blocks it has no
    class for. Their arguments are flat strings, numbers and booleans (blocks.basic_auth_stream_api)."""
    out = []
    for type_, blocks in sorted(config.get("ephemeral", {}).items()):
        for name, body in sorted(blocks.items()):
            lines = [f'ephemeral "{type_}" "{name}" {{']
            for key, value in sorted(body.items()):
                if key == "provider":
                    lines.append(f"  provider = {value}")
                elif isinstance(value, bool):
                    lines.append(f"  {key} = {str(value).lower()}")
                elif isinstance(value, (int, float)):
                    lines.append(f"  {key} = {value}")
                elif isinstance(value, str):
                    lines.append(f"  {key} = {hcl_string(value)}")
                else:
                    raise HclExportError(f"ephemeral.{type_}.{name}.{key}: {value!r} is not a flat value this export writes")
            out.append("\n".join(lines) + "\n}\n")
    return "".join("\n" + block for block in out)


class HclExportError(RuntimeError):
    """A value cdktf's HCL writer cannot carry over faithfully (the JSON output is unaffected)."""


# cdktf writes a one-line string as it is when it holds an interpolation (`"{"a":"${x.arn}"}"`, quotes
# unescaped) and otherwise escapes only its quotes, leaving backslashes (`"5\d{2}"`), which HCL reads as
# escape sequences: an error (`\d`) or another character (`\n`). Each such value is rewritten from the
# stack's JSON configuration, where it is exact.
_UNESCAPED_QUOTE = re.compile(r'(?<!\\)"')


def _as_cdktf_writes(value: str) -> str:
    return '"' + (value if "${" in value else _UNESCAPED_QUOTE.sub('\\\\"', value)) + '"'


def hcl_string(value: str) -> str:
    """`value` as an HCL quoted template: backslashes and quotes escaped outside `${...}` / `%{...}`."""
    out, depth, index = [], 0, 0
    while index < len(value):
        char = value[index]
        if depth == 0 and value.startswith(("${", "%{"), index):
            out.append(value[index:index + 2])
            depth, index = 1, index + 2
            continue
        if depth:
            depth += {"{": 1, "}": -1}.get(char, 0)
        elif char in '\\"':
            char = "\\" + char
        out.append(char)
        index += 1
    return '"' + "".join(out) + '"'


def _one_line_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if "\n" not in value and "\r" not in value:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _one_line_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _one_line_strings(item)


def clean_hcl(hcl: str, config: Any, path: Path) -> str:
    """cdktf's HCL with plain references, and every one-line string of `config` (the stack's JSON
    configuration) that cdktf wrote wrongly written as HCL reads it back, or an HclExportError."""
    cleaned = unquote_references(hcl)
    for value in sorted(set(_one_line_strings(config)), key=len, reverse=True):
        written, correct = _as_cdktf_writes(value), hcl_string(value)
        if written == correct:
            continue
        if written not in cleaned:
            raise HclExportError(f"{path}: the value {value!r} cannot be written as HCL faithfully; the JSON output (without --hcl) carries it")
        cleaned = cleaned.replace(written, correct)
    return cleaned


def _carry_over_working_files(old: Path, new: Path) -> None:
    old_stacks = old / "stacks"
    if not old_stacks.is_dir():
        return
    for stack_dir in old_stacks.iterdir():
        target = new / "stacks" / stack_dir.name
        if not target.is_dir():
            continue
        for name in TERRAFORM_WORKING_FILES:
            if (stack_dir / name).exists():
                shutil.move(str(stack_dir / name), str(target / name))


def run_by_cdktf_cli() -> bool:
    """The cdktf CLI sets these for the app it runs (and nothing else does): it lists the stack
    directories before the app runs and deletes those the new manifest lacks after, failing on any
    that is already gone."""
    return "CDKTF_CONTEXT_JSON" in os.environ and "CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS" in os.environ


def _swap_in(staging: Path, outdir: Path, keep_other_stacks: bool) -> None:
    """Replaces each synthesized stack's directory (a rename each), then the manifest. Synthesis owns
    `stacks/` and `manifest.json` only: other files in `outdir` (a Terraform CLI config, diagrams)
    stay. Stacks this run did not write are kept with their manifest entries (`keep_other_stacks`),
    or dropped from the manifest and deleted, except under the cdktf CLI, which deletes them itself."""
    manifest_file = outdir / "manifest.json"
    outdir.mkdir(parents=True, exist_ok=True)
    manifest = json.loads(manifest_file.read_text()) if manifest_file.is_file() else {}
    new_manifest = json.loads((staging / "manifest.json").read_text())
    (outdir / "stacks").mkdir(exist_ok=True)
    written = sorted(p for p in (staging / "stacks").iterdir() if p.is_dir())
    for stack_dir in written:
        target = outdir / "stacks" / stack_dir.name
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{stack_dir.name}.retired-", dir=outdir))
            target.rename(retired / stack_dir.name)
            stack_dir.rename(target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            stack_dir.rename(target)
    names = {p.name for p in written}
    if keep_other_stacks:
        stacks = {name: entry for name, entry in manifest.get("stacks", {}).items() if (outdir / "stacks" / name).is_dir()}
    else:
        stacks = {}
        if not run_by_cdktf_cli():
            for orphan in (p for p in (outdir / "stacks").iterdir() if p.is_dir() and p.name not in names):
                shutil.rmtree(orphan)
    stacks.update(new_manifest.get("stacks", {}))
    merged = {**manifest, **{k: v for k, v in new_manifest.items() if k != "stacks"}, "stacks": dict(sorted(stacks.items()))}
    partial = manifest_file.with_name(".manifest.json.partial")
    partial.write_text(json.dumps(merged, indent=2))
    partial.replace(manifest_file)
    shutil.rmtree(staging, ignore_errors=True)


# Resources whose name must be unique in an account and region (a bucket's, everywhere), and the
# argument holding it. Names scoped to a parent (an inline policy's, an event destination's) are not.
UNIQUE_NAMES = {
    "aws_cloudwatch_log_group": "name",
    "aws_cloudwatch_metric_alarm": "alarm_name",
    "aws_dynamodb_table": "name",
    "aws_iam_role": "name",
    "aws_kinesis_firehose_delivery_stream": "name",
    "aws_kinesis_stream": "name",
    "aws_kms_alias": "name",
    "aws_lambda_function": "function_name",
    "aws_s3_bucket": "bucket",
    "aws_secretsmanager_secret": "name",
    "aws_ses_configuration_set": "name",
    "aws_sns_topic": "name",
    "aws_sqs_queue": "name",
}


def _check_names_are_unique(configs: dict[str, dict[str, Any]]) -> None:
    """Two stacks of one run that would create the same named resource in the same account (the
    same provider alias of the same variables) cannot both be applied: a ConfigError naming both."""
    from xacct_streaming.settings.errors import ConfigError

    owners: dict[tuple[str, str, str], str] = {}
    for stack, config in sorted(configs.items()):
        for type_, argument in UNIQUE_NAMES.items():
            for body in config.get("resource", {}).get(type_, {}).values():
                value = body.get(argument)
                if not isinstance(value, str):
                    continue
                key = (body.get("provider", "aws"), type_, value)
                if owners.setdefault(key, stack) != stack:
                    raise ConfigError(
                        "stack_name", stack,
                        f"AWS names no other stack of the run uses: {type_} {value!r} ({key[0]} account) is also in stack {owners[key]!r}",
                    )


def _check_states_are_separate(configs: dict[str, dict[str, Any]]) -> None:
    """Two stacks of one run with one state (the same S3 object, or local file) would overwrite each
    other's: a ConfigError naming both."""
    from xacct_streaming.settings.errors import ConfigError

    owners: dict[tuple[str, ...], str] = {}
    for stack, config in sorted(configs.items()):
        backend = config.get("terraform", {}).get("backend", {})
        for kind, settings in backend.items():
            where = (kind, settings.get("bucket", ""), settings.get("key") or settings.get("path", ""))
            if owners.setdefault(where, stack) != stack:
                raise ConfigError(
                    "backend.key" if kind == "s3" else "backend.path", where[2],
                    f"a state of this stack's own: stack {owners[where]!r} keeps its state there too",
                )
