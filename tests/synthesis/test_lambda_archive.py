"""The Lambda zip is reproducible: same sources, same bytes, whatever the file times."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from xacct_streaming.synthesis.lambda_archive import FIXED_DATE_TIME, ArchiveError, builtin_module_files, source_dir_archive


def build(src: Path) -> Path:
    # A user's source directory as synthesis archives it (no requirements.txt: nothing vendored).
    return source_dir_archive(src, "python3.13", "x86_64")


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "handler.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    (src / "pkg" / "__init__.py").write_text("")
    (src / "pkg" / "util.py").write_text("X = 1\n")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\x00compiled")
    return src


def test_same_sources_give_the_same_bytes_whatever_the_mtimes(sources: Path, tmp_path: Path) -> None:
    # GIVEN an archive built once
    first = build(sources).read_bytes()
    # WHEN every file gets another modification time and mode
    for path in sources.rglob("*.py"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
        path.chmod(0o600)
    second = build(sources).read_bytes()
    # THEN
    assert first == second


def test_entries_sorted_dated_and_without_bytecode(sources: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(build(sources)) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["handler.py", "pkg/__init__.py", "pkg/util.py"]
        assert {i.date_time for i in infos} == {FIXED_DATE_TIME}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}
        assert archive.read("pkg/util.py") == b"X = 1\n"


def test_content_change_changes_the_bytes(sources: Path, tmp_path: Path) -> None:
    first = build(sources).read_bytes()
    (sources / "pkg" / "util.py").write_text("X = 2\n")
    assert build(sources).read_bytes() != first


def test_empty_source_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="no files in"):
        build(tmp_path)


def test_builtin_module_walk_follows_sources_changed_within_one_process(sources: Path) -> None:
    # GIVEN the handler's modules walked once (the walk is memoized per version of the sources)
    assert [name for name, _ in builtin_module_files(sources, "handler.lambda_handler")] == ["handler.py"]
    # WHEN the handler starts importing a module that did not exist at the first walk
    (sources / "extra.py").write_text("Y = 2\n")
    (sources / "handler.py").write_text("import extra\nimport pkg.util\n\ndef lambda_handler(event, context):\n    return {}\n")
    # THEN the next walk sees the new module and the package on the way
    assert sorted(name for name, _ in builtin_module_files(sources, "handler.lambda_handler")) == [
        "extra.py", "handler.py", "pkg/__init__.py", "pkg/util.py",
    ]
    # WHEN the import goes again
    (sources / "handler.py").write_text("import pkg.util\n")
    # THEN so does the module
    assert "extra.py" not in [name for name, _ in builtin_module_files(sources, "handler.lambda_handler")]
