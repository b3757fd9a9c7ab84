"""Reproducible Lambda zip: the same sources give the same bytes on every machine.

cdktf's own ARCHIVE assets record file modification times, so a fresh clone (CI, Atlantis)
produced a different zip, a different `source_code_hash` and a code update in every plan.
Here entries are sorted, timestamps fixed and permissions normalized.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

# The earliest time a zip can record; any fixed value would do.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


def _sources(src_dir: Path) -> list[Path]:
    files = []
    for path in src_dir.rglob("*"):
        relative = path.relative_to(src_dir)
        if any(part in SKIPPED_DIRS for part in relative.parts) or path.suffix in SKIPPED_SUFFIXES:
            continue
        if path.is_file():
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(src_dir).as_posix())


def build_archive(src_dir: Path, dest: Path) -> Path:
    """Zips `src_dir` into `dest` reproducibly and returns `dest`."""
    files = _sources(src_dir)
    if not files:
        raise FileNotFoundError(f"no Lambda sources in {src_dir}")
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(src_dir).as_posix(), date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16  # regular file, rw-r--r--
            info.create_system = 3  # Unix, so the permissions above are honoured
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return dest
