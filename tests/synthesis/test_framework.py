"""xacct_streaming.framework: the one seam between the library and a framework line, and the pins
each line installs (requirements files, the package's extra) kept equal to it."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT
from xacct_streaming import framework


def _pins(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")}


def test_the_cdktn_requirements_are_the_default_ones_with_the_framework_swapped() -> None:
    # GIVEN both lines' exact pins
    default, terrain = _pins(ROOT / "requirements.txt"), _pins(ROOT / "requirements-cdktn.txt")
    # THEN they differ in the framework, its bindings and constructs (cdktn 0.24 wants <10.8) only
    assert default - terrain == {*framework.LINES["cdktf"].distributions, "constructs==10.8.1"}
    assert terrain - default == {*framework.LINES["cdktn"].distributions, "constructs==10.7.2"}


def test_the_package_installs_the_default_line_and_offers_cdktn_as_an_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert [d for d in project["dependencies"] if not d.startswith("constructs")] == list(framework.LINES["cdktf"].distributions)
    assert project["optional-dependencies"]["cdktn"] == list(framework.LINES["cdktn"].distributions)


@pytest.mark.parametrize(("value", "name"), [pytest.param(None, "cdktf", id="unset"), pytest.param("", "cdktf", id="empty"),
                                             pytest.param("cdktf", "cdktf", id="cdktf"), pytest.param("cdktn", "cdktn", id="cdktn")])
def test_the_line_comes_from_xacct_framework(monkeypatch: pytest.MonkeyPatch, value: str | None, name: str) -> None:
    if value is None:
        monkeypatch.delenv(framework.ENV, raising=False)
    else:
        monkeypatch.setenv(framework.ENV, value)
    assert framework.line().name == name


@pytest.mark.parametrize("value", [pytest.param("terrain", id="unknown"), pytest.param("cdktf ", id="trailing-space")])
def test_an_unknown_line_names_the_variable_the_value_and_the_lines(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(framework.ENV, value)
    with pytest.raises(framework.FrameworkError) as raised:
        framework.line()
    assert str(raised.value) == f"XACCT_FRAMEWORK: {value!r} is not a framework line; expected one of cdktf, cdktn"


def test_each_line_says_what_it_changes_in_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    # the default line's App gets no extra context: its output stays byte for byte what it was
    monkeypatch.setenv(framework.ENV, "cdktf")
    assert framework.app_options() == {}
    assert (framework.line().aws_major, framework.line().writes_provider_lock, framework.line().can_plan_here) == (5, True, True)
    # CDK Terrain checks features against the Terraform versions targeted: the write-only secret needs 1.11
    monkeypatch.setenv(framework.ENV, "cdktn")
    assert framework.app_options() == {"context": {"targetVersions": {"terraform": ">=1.11.0"}}}
    assert (framework.line().aws_major, framework.line().writes_provider_lock, framework.line().can_plan_here) == (6, False, False)


def test_a_line_whose_packages_are_missing_says_how_to_install_them(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the cdktn line chosen in an interpreter without cdktn (this venv: the default line's)
    if importlib.util.find_spec("cdktn") is not None:
        pytest.skip("cdktn is installed in this interpreter")
    monkeypatch.setenv(framework.ENV, "cdktn")
    # WHEN a framework class is asked for THEN nothing starts, and the message says what to install
    with pytest.raises(framework.FrameworkError) as raised:
        framework.App  # noqa: B018  (the attribute loads the line)
    assert str(raised.value) == ("XACCT_FRAMEWORK=cdktn: the package cdktn is not installed; "
                                 "pip install cdktn==0.24.0 cdktn-provider-aws==25.8.1 (or `pip install .[cdktn]`)")
