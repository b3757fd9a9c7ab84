"""The one place the CDK framework is named: every construct, stack and synthesis module imports the
framework's classes from here (`from xacct_streaming.framework import TerraformStack`), never from
`cdktf` or `cdktn` directly, and the provider bindings' package name from `line()`.

Two lines, chosen by `XACCT_FRAMEWORK` when the framework is first used:
- `cdktf` (the default): CDKTF 0.21.0, archived upstream, with the prebuilt bindings of hashicorp/aws
  5.100.0 (`cdktf-cdktf-provider-aws` 20.1.0): what this project validates, plans and rehearses;
- `cdktn`: CDK Terrain, CDKTF's maintained fork (`pip install .[cdktn]`, or `make check-cdktn`'s
  `.venv-cdktn`), with the bindings of hashicorp/aws 6.x (`cdktn-provider-aws`). Its upgrade guide
  (open-constructs/cdk-terrain-docs, upgrade-guide-v0-22) keeps cdktf.json, cdktf.out and logical ids,
  so a stack's state does not move. No aws 6.x provider is in this machine's mirror: that line is
  synthesized, scanned and reviewed here, not validated or planned (docs/migration.md).

The classes are looked up on first use (PEP 562): importing this module loads no framework.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

ENV = "XACCT_FRAMEWORK"


@dataclass(frozen=True)
class Line:
    name: str
    core: str  # the framework's Python package
    provider: str  # the AWS provider bindings' Python package
    distributions: tuple[str, ...]  # what pip installs (pyproject's dependencies or its `cdktn` extra)
    aws_provider: str  # the hashicorp/aws version the bindings are generated for
    can_plan_here: bool  # the provider mirror of this machine has that version
    # Whether synthesis writes the project's provider lock (synthesis/terraform.lock.hcl, 5.100.0's
    # checksums) next to each stack. Not on a 6.x line: Terraform refuses a lock whose version its
    # constraint excludes, and `terraform init` writes the line's own lock on the first run.
    writes_provider_lock: bool
    # App context the line needs. CDK Terrain checks each feature against the Terraform versions a
    # project targets (its `targetVersions`, default >=1.5.7): the API stack's secret is written
    # with a write-only argument, which needs 1.11 (synthesis/synth.py REQUIRED_TERRAFORM_WRITE_ONLY).
    app_context: tuple[tuple[str, Any], ...] = ()

    @property
    def aws_major(self) -> int:
        """The provider's major version: where a construct writes an argument one major removed."""
        return int(self.aws_provider.split(".")[0])


LINES = {
    "cdktf": Line("cdktf", "cdktf", "cdktf_cdktf_provider_aws", ("cdktf==0.21.0", "cdktf-cdktf-provider-aws==20.1.0"), "5.100.0", True, True),
    "cdktn": Line("cdktn", "cdktn", "cdktn_provider_aws", ("cdktn==0.24.0", "cdktn-provider-aws==25.8.1"), "6.69.1", False, False,
                  app_context=(("targetVersions", {"terraform": ">=1.11.0"}),)),
}
DEFAULT = "cdktf"


class FrameworkError(RuntimeError):
    """`XACCT_FRAMEWORK` names no line, or the line's packages are not installed."""


def line() -> Line:
    """The line this process uses: `XACCT_FRAMEWORK`, default cdktf."""
    name = os.environ.get(ENV, "") or DEFAULT
    if name not in LINES:
        raise FrameworkError(f"{ENV}: {name!r} is not a framework line; expected one of {', '.join(LINES)}")
    return LINES[name]


def app_options() -> dict[str, Any]:
    """Keyword arguments of `App(...)` the line needs (none on cdktf: its output stays as it was)."""
    context = dict(line().app_context)
    return {"context": context} if context else {}


def loaded() -> bool:
    """Whether the framework's kernel is running in this process (its package imported)."""
    return line().core in sys.modules


def core() -> ModuleType:
    """The framework's package, its jsii kernel started on a supported Node (node_runtime)."""
    chosen = line()
    if chosen.core not in sys.modules:
        if importlib.util.find_spec(chosen.core) is None:
            raise FrameworkError(f"{ENV}={chosen.name}: the package {chosen.core} is not installed; "
                                 f"pip install {' '.join(chosen.distributions)} (or `pip install .[{chosen.name}]`)")
        from xacct_streaming.synthesis.node_runtime import start_kernel

        start_kernel()
    return importlib.import_module(chosen.core)


def aws_module(submodule: str) -> ModuleType:
    """A submodule of the line's AWS provider bindings, for a host app's own resources next to the
    library's (`aws_module("s3_bucket").S3Bucket`): the same code on both lines, where a direct
    `from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket` names one. Loaded lazily when the app
    enabled fast provider loading, else as a plain import."""
    from xacct_streaming.synthesis.provider_bindings import load

    return load(submodule)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(core(), name)
