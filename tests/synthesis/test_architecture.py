"""The library's shape, kept by tests: stacks compose parts instead of borrowing each other's
constructors, no import cycle among stack modules, settings independent of synthesis, and no stack
ordering a mapping by hand."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "constructs" / "xacct_streaming"


def _imports(path: Path) -> set[str]:
    """Every xacct_streaming module `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("xacct_streaming"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("xacct_streaming"))
    return found


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT / "constructs").with_suffix("").parts)


def test_no_import_cycle_among_stack_modules() -> None:
    # GIVEN the import graph of the stacks package (function-level imports included)
    modules = {_module(p): p for p in (PACKAGE / "stacks").glob("*.py") if p.name != "__init__.py"}
    graph = {name: {m for m in _imports(path) if m in modules} for name, path in modules.items()}
    # WHEN it is walked THEN no module reaches itself
    def reaches(start: str, target: str, seen: set[str]) -> bool:
        return any(n == target or (n not in seen and reaches(n, target, seen | {n})) for n in graph[start])
    assert [name for name in graph if reaches(name, name, set())] == []


def test_settings_import_nothing_from_synthesis_blocks_or_stacks() -> None:
    for path in (PACKAGE / "settings").glob("*.py"):
        forbidden = {m for m in _imports(path) if m.split(".")[1] in ("synthesis", "blocks", "stacks")}
        assert forbidden == set(), path.name


def test_every_stack_kind_is_an_accounts_stack_of_its_own() -> None:
    # GIVEN every stack class (read from the source: importing cdktf here would cost seconds)
    bases = {
        node.name: [b.id for b in node.bases if isinstance(b, ast.Name)]
        for path in (PACKAGE / "stacks").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef) and node.name.endswith("Stack")
    }
    # THEN the fan-out's plans compose the same parts; none is built through another's constructor
    for name in ("FanoutStack", "FanoutProducerStack", "FanoutAccountStack"):
        assert bases[name] == ["AccountsStack"], (name, bases[name])
    for path in (PACKAGE / "stacks").glob("*.py"):
        assert "AccountsStack.__init__(" not in path.read_text(), path.name


@pytest.mark.parametrize("path", sorted((PACKAGE / "stacks").glob("*.py")), ids=lambda p: p.name)
def test_no_stack_orders_a_mapping_by_hand(path: Path) -> None:
    # THEN no stack passes `after=` or builds a mapping itself: StreamConsumer collects depends_on from grants
    tree = ast.parse(path.read_text())
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    assert [k.arg for c in calls for k in c.keywords if k.arg == "after"] == []
    assert [c for c in calls if isinstance(c.func, ast.Name) and c.func.id == "StreamEventSourceMapping"] == []


OPS_PACKAGES = [ROOT / "constructs" / "xacct_ops" / name for name in ("", "iam", "review")]


@pytest.mark.parametrize("package", OPS_PACKAGES, ids=lambda p: p.name)
def test_the_operator_tools_are_small_modules(package: Path) -> None:
    # GIVEN the operator tools, the IAM model and the access review, each split by concern
    sizes = {p.name: len(p.read_text().splitlines()) for p in package.glob("*.py")}
    # THEN none is over about 300 lines (the request-context table is data with its sources)
    assert {name: n for name, n in sizes.items() if n > 330} == {}
    assert len(sizes) >= 7


def _private_uses(path: Path) -> list[str]:
    """`from x import _name` and `module._name` of another module: private members used across modules."""
    tree = ast.parse(path.read_text())
    imported_modules = {alias.asname or alias.name.split(".")[-1] for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                        for alias in node.names}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(("xacct_", "conftest")):
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("test_"):
            found.append(f"{node.module} (a test module: shared helpers live in conftest.py or a helper module)")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if isinstance(node.value, ast.Name) and node.value.id in imported_modules:
                found.append(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("root", ["constructs/xacct_ops", "constructs/xacct_streaming", "constructs/xacct_checks", "tests", "bench"])
def test_no_module_uses_another_modules_private_members(root: str) -> None:
    # GIVEN every module of the library, the operator tools and the tests (harnesses included)
    found = {str(p.relative_to(ROOT)): uses for p in sorted((ROOT / root).rglob("*.py")) if "__pycache__" not in p.parts and (uses := _private_uses(p))}
    # THEN none reaches into another module's private names
    assert found == {}


FRAMEWORK_PACKAGES = ("cdktf", "cdktn", "cdktf_cdktf_provider_aws", "cdktn_provider_aws")


def _framework_imports(path: Path) -> list[str]:
    """Imports of a framework or its provider bindings that run (an `if TYPE_CHECKING:` block's are for editors)."""
    def walk(node: ast.AST) -> list[str]:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return [name for child in node.orelse for name in walk(child)]
        found = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in FRAMEWORK_PACKAGES:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module}")
        elif isinstance(node, ast.Import):
            found += [f"{path.relative_to(ROOT)}:{node.lineno} import {a.name}" for a in node.names if a.name.split(".")[0] in FRAMEWORK_PACKAGES]
        return found + [name for child in ast.iter_child_nodes(node) for name in walk(child)]
    return walk(ast.parse(path.read_text()))


def test_one_module_names_the_framework() -> None:
    # GIVEN every Python file of the library, the operator tools, the app, the examples, the tests and benchmarks
    files = [p for root in ("constructs", "examples", "tests", "bench") for p in (ROOT / root).rglob("*.py") if "__pycache__" not in p.parts]
    files.append(ROOT / "main.py")
    # THEN only xacct_streaming.framework imports cdktf, cdktn or their AWS bindings (provider_bindings names the
    # bindings' package through it), so the line XACCT_FRAMEWORK picks is the one every module uses
    offenders = [line for path in files if path != PACKAGE / "framework.py" for line in _framework_imports(path)]
    assert offenders == []
