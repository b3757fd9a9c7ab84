"""`constructs/` is a source root; `import constructs` must stay the library cdktf needs."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_source_root_is_not_a_package() -> None:
    assert not (ROOT / "constructs" / "__init__.py").exists()
    assert (ROOT / "constructs" / "xacct_streaming" / "__init__.py").is_file()


def test_constructs_resolves_to_the_library_from_the_project_root() -> None:
    # GIVEN a fresh interpreter started where main.py runs, with the source root on sys.path
    code = (
        "import sys; sys.path.insert(0, 'constructs'); import constructs, xacct_streaming; "
        "print(constructs.__file__); print(constructs.Construct.__module__); print(xacct_streaming.__file__)"
    )
    # WHEN
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    library, module, ours = result.stdout.splitlines()
    # THEN
    assert "site-packages" in library and library.endswith("constructs/__init__.py")
    assert module == "constructs"
    assert ours == str(ROOT / "constructs" / "xacct_streaming" / "__init__.py")
