"""Synthesizes the app into a staging directory and swaps it in only when synthesis succeeded.

A failed synth therefore leaves the previous output exactly as it was, and a successful one
never mixes old and new files. Terraform's working directory (`.terraform/`) is carried over into
the new output so `make synth` does not force a fresh `terraform init`.

Next to each stack's configuration go two files cdktf does not write:
- `.terraform.lock.hcl`, the project's provider lock (`terraform.lock.hcl` beside this module), so
  `terraform init` installs only a provider whose checksum it lists, on every machine;
- `versions.tf`, the Terraform version the configuration needs. It is not in `cdk.tf.json`
  because checkov 3.3.30 cannot parse a `terraform` block holding a plain string (it reports the
  whole file as a parsing error and scans nothing); Terraform merges the two `terraform` blocks.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence

TERRAFORM_WORKING_FILES = (".terraform",)
PROVIDER_LOCK = Path(__file__).with_name("terraform.lock.hcl")
# Variable validations that refer to other variables need Terraform 1.9; the S3 backend's
# `use_lockfile` (state locking without DynamoDB) needs 1.10.
REQUIRED_TERRAFORM = ">= 1.10"
VERSIONS_TF = f'terraform {{\n  required_version = "{REQUIRED_TERRAFORM}"\n}}\n'


def synthesize(
    stacks: Sequence[Any],
    *,
    outdir: Path,
    project_root: Path,
    hcl: bool = False,
) -> list[Path]:
    """Writes one directory per stack (props of any kind in `catalog.KINDS`) under
    `outdir/stacks/` and returns them."""
    if hcl:
        # cdktf's stacks read this in the jsii kernel (a Node process started on the first cdktf
        # import), so it must be set before that import; App(hcl_output=...) only renames the file.
        os.environ["SYNTH_HCL_OUTPUT"] = "true"
    # Imported here: validating props must not pay for loading cdktf and the provider bindings.
    from xacct_streaming import provider_bindings

    provider_bindings.enable()  # before cdktf starts the jsii kernel (see provider_bindings)
    from cdktf import App

    from xacct_streaming.catalog import kind_of
    from xacct_streaming.lambda_archive import build_archive

    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.staging-", dir=outdir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the output is an ordinary directory
    try:
        with tempfile.TemporaryDirectory(prefix="xacct-build-") as build:
            archive = build_archive(project_root / "lambda_src", Path(build) / "lambda.zip")
            app = App(outdir=str(staging), stack_traces=False, hcl_output=hcl)
            for props in stacks:
                kind_of(props).build(app, props, archive)
            app.synth()
        if hcl:
            for stack_file in staging.glob("stacks/*/cdk.tf"):
                stack_file.write_text(unquote_references(stack_file.read_text()))
        for stack_dir in staging.glob("stacks/*/"):
            shutil.copyfile(PROVIDER_LOCK, stack_dir / ".terraform.lock.hcl")
            (stack_dir / "versions.tf").write_text(VERSIONS_TF)
        _carry_over_working_files(outdir, staging)
        _swap_in(staging, outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [outdir / "stacks" / props.stack_name for props in stacks]


# cdktf writes `provider = "aws.x"` and quoted `depends_on` entries in HCL, forms Terraform
# deprecated in 0.12 and warns about on every validate; these are the only two it emits.
_QUOTED_PROVIDER = re.compile(r'^(provider = )"(aws\.[a-z0-9_]+)"$', re.MULTILINE)
_QUOTED_DEPENDENCY = re.compile(r'^"((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)",$', re.MULTILINE)


def unquote_references(hcl: str) -> str:
    """Turns cdktf's quoted provider and depends_on references into plain references."""
    return _QUOTED_DEPENDENCY.sub(r"\1,", _QUOTED_PROVIDER.sub(r"\1\2", hcl))


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


def _swap_in(staging: Path, outdir: Path) -> None:
    if not outdir.exists():
        staging.rename(outdir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.retired-", dir=outdir.parent))
    retired.rmdir()
    outdir.rename(retired)
    staging.rename(outdir)
    shutil.rmtree(retired, ignore_errors=True)
