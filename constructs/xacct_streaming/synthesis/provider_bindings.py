"""Loads only the AWS provider bindings the app uses, in about a second instead of twenty.

Why: `cdktf_cdktf_provider_aws/__init__.py` (and `cdktn_provider_aws`'s) imports all ~2,150 generated submodules, and the
package's JavaScript entry point (`lib/index.js`, loaded by the jsii kernel) requires all of
them too. Importing one resource class therefore costs the whole provider on both sides
(~17 s of Python imports, ~3.3 s of Node `require`, ~0.6 GB).

How, in three steps (`enable()`, which this project's synthesis calls before anything else; a
program that imports the constructs without calling it gets the stock, full import):
1. The jsii assembly is loaded into the kernel from a derived tarball whose `lib/index.js`
   defines each submodule as a lazy getter (built once, cached next to the venv). The kernel
   finds types by walking exports (`index.kinesisStream.KinesisStream`), so only the
   submodules the app touches are ever required. The stock package's own load call that
   follows is a no-op: the kernel sees the same name and version already loaded.
2. The first load lets the kernel finish its runtime type index for that tarball, so later
   runs read types from the index instead of parsing the 120 MB `.jsii` file.
3. A stand-in for the Python package (same `__path__`, without running its `__init__`) goes
   into `sys.modules`, so `import cdktf_cdktf_provider_aws.kinesis_stream` loads that
   submodule alone.

Nothing here changes what is synthesized: a test compares this path with the full import.
If a provider release changes the layout this relies on, `ProviderLayoutError` says what is
missing instead of falling back silently. `XACCT_PROVIDER_IMPORT=full` selects the full,
stock import (the benchmark's baseline).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import io
import os
import re
import sys
import tarfile
import time
import types
import typing
from pathlib import Path
from typing import Any

MODE_ENV = "XACCT_PROVIDER_IMPORT"
CACHE_ENV = "XACCT_CACHE_DIR"
JSII_CACHE_ENV = "JSII_RUNTIME_PACKAGE_CACHE_ROOT"
LAZY_MARKER = "// xacct-streaming: lazy submodule exports"
INDEX_MEMBER = "package/lib/index.js"
INDEX_WAIT_SECONDS = 180

_LOAD_CALL = re.compile(
    r'jsii\.JSIIAssembly\.load\(\s*"(?P<name>[^"]+)",\s*"(?P<version>[^"]+)",\s*__name__\[0:-6\],\s*"(?P<tarball>[^"]+)"\s*\)'
)
# `exports.x = require("./x")` (cdktf's bindings) or `exports.x = __importStar(require("./x/index"))`
# (cdktn's, compiled with TypeScript's import helpers).
_EXPORT = re.compile(r'^exports\.(?P<name>[A-Za-z0-9_$]+) = (?P<expression>require\("\./[A-Za-z0-9_./-]+"\)'
                     r'|__importStar\(require\("\./[A-Za-z0-9_./-]+"\)\));$')
_ES_MODULE = 'Object.defineProperty(exports, "__esModule", { value: true });'
# Lines of the stock index.js that carry no export of their own.
_IGNORABLE = re.compile(
    r'^(|"use strict";|/\*\*| \*.*| \*/|Object\.defineProperty\(exports, "__esModule", \{ value: true \}\);'
    r"|exports\.[A-Za-z0-9_$]+ = (exports\.[A-Za-z0-9_$]+ = )*void 0;|//.*)$"
)


class ProviderLayoutError(RuntimeError):
    """The installed provider package is not laid out the way this loader expects."""


class _PackageStandIn(types.ModuleType):
    """`cdktf_cdktf_provider_aws` without its all-importing `__init__`: a submodule is imported
    on first use, whether as `import cdktf_cdktf_provider_aws.s3_bucket` or as an attribute
    (`cdktf_cdktf_provider_aws.s3_bucket.S3Bucket`), so code written for the stock package works."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or not (Path(self.__path__[0]) / name / "__init__.py").is_file():
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        return importlib.import_module(f"{self.__name__}.{name}")


def package() -> str:
    """The provider bindings' package of the framework line in use (xacct_streaming.framework)."""
    from xacct_streaming.framework import line

    return line().provider


def full_import_requested() -> bool:
    return os.environ.get(MODE_ENV, "lazy") == "full"


def package_dir() -> Path:
    from xacct_streaming.framework import line

    name = line().provider
    spec = importlib.util.find_spec(name) if name not in sys.modules else sys.modules[name].__spec__
    if spec is None or not spec.submodule_search_locations:
        raise ProviderLayoutError(f"{name} is not installed (pip install {' '.join(line().distributions)})")
    return Path(list(spec.submodule_search_locations)[0])


def assembly_info(pkg_dir: Path) -> tuple[str, str, Path]:
    """(assembly name, version, stock tarball) as the package's own `_jsii` module loads them."""
    source_file = pkg_dir / "_jsii" / "__init__.py"
    try:
        source = source_file.read_text(encoding="utf-8")
    except OSError:
        raise ProviderLayoutError(f"{package()}: missing {source_file}") from None
    match = _LOAD_CALL.search(source)
    if match is None:
        raise ProviderLayoutError(f"{package()}: no JSIIAssembly.load(...) call found in {source_file}")
    tarball = pkg_dir / "_jsii" / match["tarball"]
    if not tarball.is_file():
        raise ProviderLayoutError(f"{package()}: assembly tarball {tarball} is missing")
    return match["name"], match["version"], tarball


def lazy_index_js(stock_index: str) -> str:
    """The stock index.js rewritten so each `exports.x = ...require("./x")...` runs on first access.
    What comes before the `__esModule` line (TypeScript's import helpers, which the exports call) is
    kept as it is; after it, every line is an export or carries none."""
    lines_in = stock_index.splitlines()
    start = lines_in.index(_ES_MODULE) if _ES_MODULE in lines_in else 0
    preamble = [line for line in lines_in[:start] if not _IGNORABLE.match(line)]
    exports: list[tuple[str, str]] = []
    for number, line in enumerate(lines_in[start:], start=start + 1):
        match = _EXPORT.match(line)
        if match:
            exports.append((match["name"], match["expression"]))
        elif not _IGNORABLE.match(line):
            raise ProviderLayoutError(f"{INDEX_MEMBER} line {number} is not an export this loader understands: {line[:120]!r}")
    if not exports:
        raise ProviderLayoutError(f"{INDEX_MEMBER} exports no submodules")
    lines = [
        '"use strict";',
        LAZY_MARKER,
        *preamble,
        _ES_MODULE,
        "function lazy(name, load) {",
        "  Object.defineProperty(exports, name, {",
        "    enumerable: true,",
        "    configurable: true,",
        "    get() {",
        "      const value = load();",
        "      Object.defineProperty(exports, name, { enumerable: true, value });",
        "      return value;",
        "    },",
        "  });",
        "}",
        *(f'lazy("{name}", () => {expression});' for name, expression in exports),
    ]
    return "\n".join(lines) + "\n"


def build_lazy_tarball(stock: Path, dest: Path) -> Path:
    """Copies the stock assembly tarball to `dest` with a lazy `lib/index.js` (atomic write)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f"{dest.name}.{os.getpid()}.partial")
    replaced = False
    try:
        with tarfile.open(stock, "r:gz") as source, tarfile.open(partial, "w:gz", compresslevel=1) as target:
            for member in source:
                payload = source.extractfile(member) if member.isfile() else None
                if member.name == INDEX_MEMBER and payload is not None:
                    data = lazy_index_js(payload.read().decode("utf-8")).encode("utf-8")
                    member.size = len(data)
                    payload = io.BytesIO(data)
                    replaced = True
                target.addfile(member, payload)
        if not replaced:
            raise ProviderLayoutError(f"{stock.name} has no {INDEX_MEMBER}")
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)
    return dest


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    # Next to the interpreter's environment: the cache lives and dies with the pinned packages.
    return Path(sys.prefix) / "share" / "xacct-streaming"


def _lazy_tarball_for(stock: Path, version: str) -> Path:
    stat = stock.stat()
    dest = cache_dir() / f"provider-aws@{version}-{stat.st_size}-{stat.st_mtime_ns}.lazy.jsii.tgz"
    if not dest.is_file():
        build_lazy_tarball(stock, dest)
    return dest


def _jsii_cache_root() -> Path:
    """The jsii kernel's package cache, pinned to our cache dir unless the user chose one."""
    root = os.environ.get(JSII_CACHE_ENV)
    if not root:
        root = str(cache_dir() / "jsii-package-cache")
        os.environ[JSII_CACHE_ENV] = root  # read by the kernel when it starts, i.e. on `import cdktf`
    return Path(root)


def _runtime_index_ready(name: str, version: str) -> bool | None:
    """True/False once our lazy entry is in the kernel's cache; None if it cannot be found."""
    for entry in (_jsii_cache_root() / name / version).glob("*/"):
        index_js = entry / "lib" / "index.js"
        try:
            with index_js.open(encoding="utf-8") as handle:
                head = handle.read(200)
        except OSError:
            continue
        if LAZY_MARKER in head:
            return (entry / ".jsii.runtime.v1.json").is_file()
    return None


def _wait_for_runtime_index(name: str, version: str) -> None:
    # The kernel builds the index in a worker thread after the first load; a short-lived
    # process would kill it, and every later run would parse the full .jsii file again.
    if _runtime_index_ready(name, version) is not False:
        return
    # Progress, not an error: on stdout (the cdktf CLI shows an app's stderr lines as [ERROR]).
    print(f"building the jsii runtime index of {name}@{version} once (takes a few seconds)...", flush=True)
    deadline = time.monotonic() + INDEX_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if _runtime_index_ready(name, version):
            return
    print("the runtime index is not ready yet; synthesis continues, the next run tries again", flush=True)


_enabled = False


def enable() -> None:
    """Prepares the lazy path; idempotent. Call before the first `import cdktf` so the kernel
    uses our package cache (later calls still work, only the index wait may be skipped)."""
    global _enabled
    if _enabled or full_import_requested():
        return
    bindings = package()
    current = sys.modules.get(bindings)
    if current is not None and not isinstance(current, _PackageStandIn):
        _enabled = True  # the full package is already imported: nothing left to save
        return
    pkg_dir = package_dir()
    name, version, stock = assembly_info(pkg_dir)
    lazy = _lazy_tarball_for(stock, version)
    _jsii_cache_root()
    # Loads the framework's and constructs' assemblies the provider's assembly depends on.
    from xacct_streaming.framework import core

    core()
    from jsii._runtime import kernel

    kernel.load(name, version, str(lazy))
    _wait_for_runtime_index(name, version)
    if current is None:
        spec = importlib.util.find_spec(bindings)
        stand_in = _PackageStandIn(bindings, "AWS provider bindings, submodules loaded on demand")
        stand_in.__path__ = [str(pkg_dir)]
        stand_in.__spec__ = spec
        stand_in.__file__ = str(pkg_dir / "__init__.py")
        stand_in.__package__ = bindings
        sys.modules[bindings] = stand_in
    _enabled = True


def load(submodule: str) -> types.ModuleType:
    """One provider submodule, e.g. load("kinesis_stream").

    Lazily only after `enable()` (this project's synthesis calls it): importing the constructs
    into another CDKTF app changes nothing global there, and the stock package is imported as usual."""
    name = package()
    if not (package_dir() / submodule / "__init__.py").is_file():
        raise ProviderLayoutError(f"{name} has no submodule {submodule!r} (provider version changed?)")
    if not _enabled or full_import_requested():
        importlib.import_module(name)
        return importlib.import_module(f"{name}.{submodule}")
    module = importlib.import_module(f"{name}.{submodule}")
    # The bindings' functions see the module jsii's `publication.publish()` keeps as `_private`.
    getattr(module, "_private", module).typing = _TYPING_WITH_CACHED_HINTS
    return module


class _TypingWithCachedHints(types.ModuleType):
    """`typing` as the generated bindings see it, with `get_type_hints` memoized: they re-derive
    the hints of the same fixed type-checking stub on every constructor call (a fan-out of 20
    consumers makes ~1,200 such calls, most of their Python time). Everything else is `typing`'s."""

    get_type_hints = staticmethod(functools.lru_cache(maxsize=None)(typing.get_type_hints))

    def __getattr__(self, name: str) -> Any:
        return getattr(typing, name)


_TYPING_WITH_CACHED_HINTS = _TypingWithCachedHints("typing", "typing with memoized get_type_hints")


def symbol(submodule: str, name: str) -> Any:
    """A class from a provider submodule, failing with both names if it is not there."""
    module = load(submodule)
    try:
        return getattr(module, name)
    except AttributeError:
        raise ProviderLayoutError(f"{package()}.{submodule} has no {name!r} (provider version changed?)") from None
