"""Reproducible, content-addressed Lambda zips: one per function, the same bytes on every machine.

cdktf's own ARCHIVE assets record file modification times, so a fresh clone (CI, Atlantis)
produced a different zip, a different `source_code_hash` and a code update in every plan.
Here entries are sorted, timestamps fixed and permissions normalized, and every function gets
an archive of its own code only: editing one function's code changes that function alone in
the plan.

- a built-in runtime: its handler module and the `lambda_src/` modules it imports, nothing else;
- a source directory: the directory, plus its `requirements.txt` installed for the function's
  Python version and architecture (manylinux wheels, pip's `--platform`);
- a prebuilt zip: used as it is.

Archives are stored by their SHA-256 under the build cache (`XACCT_BUILD_CACHE`, default
`~/.cache/xacct-streaming`), so cdktf can copy them into the output whenever it synthesizes.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Iterable, Optional

# The earliest time a zip can record; any fixed value would do.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".git", ".venv", "node_modules"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}
REQUIREMENTS = "requirements.txt"
# pip records where a package came from (a machine path) and installs console scripts with this
# interpreter's path in their shebang: neither belongs in a reproducible archive.
UNREPRODUCIBLE_NAMES = {"direct_url.json", "INSTALLER", "RECORD", "REQUESTED"}
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


class ArchiveError(Exception):
    """A function's code cannot be packaged (pip failed, empty directory)."""


def builtin_sources() -> Path:
    """The built-in runtimes: `$XACCT_LAMBDA_SRC` if set (tests, a fork's own runtimes), else
    `lambda_src/` of this checkout, else the installed copy (pyproject)."""
    if os.environ.get("XACCT_LAMBDA_SRC"):
        return Path(os.environ["XACCT_LAMBDA_SRC"])
    here = Path(__file__).resolve()
    checkout = here.parents[3] / "lambda_src"
    if here.parents[2].name == "constructs" and checkout.is_dir():
        return checkout
    import importlib.util

    spec = importlib.util.find_spec("xacct_streaming_runtime")
    if spec is None or not spec.submodule_search_locations:
        raise ArchiveError("the built-in Lambda runtimes (lambda_src/) are not installed")
    return Path(list(spec.submodule_search_locations)[0])


def cache_dir() -> Path:
    base = os.environ.get("XACCT_BUILD_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "xacct-streaming"
    )
    return Path(base)


def _tree(src_dir: Path) -> list[tuple[str, Path]]:
    files = []
    for path in src_dir.rglob("*"):
        relative = path.relative_to(src_dir)
        if any(part in SKIPPED_DIRS for part in relative.parts) or path.suffix in SKIPPED_SUFFIXES:
            continue
        if path.is_file():
            files.append((relative.as_posix(), path))
    return files


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(name, pattern.rstrip("/") + "/*") for pattern in patterns)


def package_entries(src_dir: Path, runtime: str, exclude: Iterable[str] = (), include: Iterable[str] = ()) -> list[tuple[str, Path]]:
    """What of a user's source directory goes into the zip: not hidden files or directories (a `.env`
    with a secret, `.git*`), caches or bytecode, nor node_modules for a Python runtime (a Node.js
    function needs its packages); `exclude` leaves out more, `include` puts hidden files back."""
    exclude, include = tuple(exclude), tuple(include)
    entries = []
    for path in sorted(src_dir.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(src_dir).as_posix()
        parts = name.split("/")
        if path.suffix in SKIPPED_SUFFIXES or any(part in {"__pycache__", ".pytest_cache", ".mypy_cache"} for part in parts):
            continue
        if "node_modules" in parts and not runtime.startswith("nodejs"):
            continue
        hidden = any(part.startswith(".") for part in parts)
        if (hidden and not _matches(name, include)) or _matches(name, exclude):
            continue
        entries.append((name, path))
    return entries


def zip_bytes(entries: Iterable[tuple[str, Path]]) -> bytes:
    """A zip of (name in the archive, file) pairs, sorted by name, with fixed times and modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16  # regular file, rw-r--r--
            info.create_system = 3  # Unix, so the permissions above are honoured
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def store(data: bytes) -> Path:
    """Writes `data` once under its SHA-256 in the build cache and returns the path."""
    digest = hashlib.sha256(data).hexdigest()
    path = cache_dir() / "archives" / f"{digest}.zip"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(data)
        partial.replace(path)
    return path


def _module_file(root: Path, module: str) -> Optional[Path]:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


def _imports(path: Path) -> frozenset[str]:
    return _imports_of(*_stamp(path))


@functools.lru_cache(maxsize=None)
def _imports_of(path: str, mtime_ns: int, size: int) -> frozenset[str]:
    """Parsed once per file version: a fan-out builds the same runtime for every consumer."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"), filename=path)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(names)


def builtin_module_files(src_dir: Path, handler: str) -> list[tuple[str, Path]]:
    """The handler's module and every module of `src_dir` it imports, directly or not, with the
    `__init__.py` of each package on the way: what the function runs, and nothing it does not."""
    return list(_module_files(src_dir, handler, _python_files_snapshot(src_dir)))


def _python_files_snapshot(src_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Every Python file under `src_dir` with its version: the walk below depends on no more."""
    found = []
    for directory, subdirs, files in os.walk(src_dir):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS)
        found += [_stamp(Path(directory, name)) for name in sorted(files) if name.endswith(".py")]
    return tuple(found)


@functools.lru_cache(maxsize=None)
def _module_files(src_dir: Path, handler: str, snapshot: tuple[tuple[str, int, int], ...]) -> tuple[tuple[str, Path], ...]:
    """Walked once per handler and version of the sources: a fan-out builds the same runtime for every consumer."""
    module = handler.rsplit(".", 1)[0]
    start = _module_file(src_dir, module)
    if start is None:
        raise ArchiveError(f"no module {module!r} in {src_dir}")
    seen: dict[Path, None] = {}
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen[path] = None
        for name in _imports(path):
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # each package on the way, then the module
                found = _module_file(src_dir, ".".join(parts[:depth]))
                if found is not None and found not in seen:
                    todo.append(found)
    return tuple((path.relative_to(src_dir).as_posix(), path) for path in seen)


def builtin_archive(handler: str, src_dir: Optional[Path] = None) -> Path:
    """The stored archive of one built-in runtime (`handler` as Lambda names it)."""
    files = builtin_module_files(src_dir or builtin_sources(), handler)
    key = tuple((name, _stamp(path)) for name, path in files)
    stored = _STORED.get(key)
    if stored is None or not stored.is_file() or stored.parent.parent != cache_dir():
        stored = _STORED[key] = store(zip_bytes(files))
    return stored


# Zipped once per set of file versions: a fan-out deploys one runtime to every consumer.
_STORED: dict[tuple[tuple[str, tuple[str, int, int]], ...], Path] = {}


def _python_version(runtime: str) -> str:
    return runtime.removeprefix("python")


def vendored_requirements(requirements: Path, runtime: str, architecture: str) -> Path:
    """`requirements.txt` installed for the function's platform, cached by its content: pip
    resolves binary wheels for Lambda's Linux and Python, not for this machine."""
    key = hashlib.sha256(b"\0".join([requirements.read_bytes(), runtime.encode(), architecture.encode()])).hexdigest()
    target = cache_dir() / "vendor" / key
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", dir=target.parent))
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--requirement", requirements.name, "--target", str(staging),
        "--platform", PLATFORMS[architecture], "--implementation", "cp",
        "--python-version", _python_version(runtime), "--only-binary=:all:",
    ]
    # From the requirements' directory, so relative paths in the file (--find-links) mean what they say.
    result = subprocess.run(command, cwd=requirements.parent, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ArchiveError(
            f"pip could not install {requirements} for {runtime}/{architecture}: {detail[-1] if detail else 'no output'}. "
            f"Only binary wheels built for {runtime} on {architecture} can be vendored (the build runs on another machine than "
            "Lambda): pin a version that has one, use the package's binary variant (psycopg2 -> psycopg2-binary), "
            "put it in a Lambda layer (function.layers), or deploy a container image (function.image_uri)"
        )
    shutil.rmtree(staging / "bin", ignore_errors=True)
    try:
        staging.rename(target)
    except OSError:  # another synth stored the same requirements meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _unreproducible(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in UNREPRODUCIBLE_NAMES


def source_dir_archive(src_dir: Path, runtime: str, architecture: str, exclude: Iterable[str] = (), include: Iterable[str] = ()) -> Path:
    """The stored archive of a user's source directory (`package_entries`), its requirements vendored
    (Python runtimes)."""
    entries = package_entries(src_dir, runtime, exclude, include)
    if not entries:
        raise ArchiveError(f"no files in {src_dir}")
    requirements = src_dir / REQUIREMENTS
    if requirements.is_file() and runtime.startswith("python"):
        vendored = vendored_requirements(requirements, runtime, architecture)
        own = {name for name, _ in entries}
        entries += [
            (name, path)
            for name, path in _tree(vendored)
            if name not in own and not _unreproducible(name)
        ]
    return store(zip_bytes(entries))


def zip_file_archive(zip_file: Path) -> Path:
    """A prebuilt zip, stored as it is."""
    return store(zip_file.read_bytes())


@dataclass(frozen=True)
class FunctionCode:
    """What the function construct deploys: a zip (`archive`, `handler`, `runtime`) or an image."""

    archive: Optional[Path] = None
    handler: Optional[str] = None
    runtime: Optional[str] = None
    image_uri: Optional[str] = None


def function_code(props: Any, builtin_handler: str) -> FunctionCode:
    """What the function deploys: its archive, built (or found in the cache) from its props' code or the
    built-in runtime's `builtin_handler`, or its image. Imports nothing from cdktf."""
    if props.image_uri is not None:
        return FunctionCode(image_uri=props.image_uri)
    if props.source_dir is not None:
        archive = source_dir_archive(Path(props.source_dir), props.runtime, props.architecture, props.package_exclude, props.package_include)
    elif props.zip_file is not None:
        archive = zip_file_archive(Path(props.zip_file))
    else:
        archive = builtin_archive(props.handler or builtin_handler)
    return FunctionCode(archive=archive, handler=props.handler or builtin_handler, runtime=props.runtime)
