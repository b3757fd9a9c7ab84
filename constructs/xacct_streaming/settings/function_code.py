"""Where a function's code comes from: a built-in runtime (the default), the user's source
directory or prebuilt zip, or a container image. Checked when the props are made (no cdktf here).
"""

from __future__ import annotations

import ast
import re
import zipfile
from pathlib import Path
from typing import Any, Optional

from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.patterns import ECR_IMAGE as ECR_IMAGE_PATTERN
from xacct_streaming.settings.validation import require_region

# What the built-in runtimes are tested on.
BUILTIN_RUNTIMES = ("python3.12", "python3.13")
# Runtimes for the user's own code: the ones Lambda supports and AWS provider 5.100 knows, minus
# those deprecated by 2026 (python3.9, nodejs18.x).
OWN_CODE_RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13", "nodejs20.x", "nodejs22.x", "java17", "java21", "provided.al2023")
NODE_SUFFIXES = (".js", ".mjs", ".cjs")
HANDLER_PATTERN = r"[^\s]{1,128}"
ECR_IMAGE_TEXT = "an ECR image URI such as 111111111111.dkr.ecr.eu-west-1.amazonaws.com/repo:tag (Lambda pulls only from ECR)"


def handler_files(handler: str, runtime: str) -> Optional[list[str]]:
    """The files one of which must hold `handler`'s module, or None where it cannot be told
    (compiled runtimes name a class or a binary)."""
    module = handler.rsplit(".", 1)[0]
    if runtime.startswith("python"):
        path = module.replace(".", "/")
        return [f"{path}.py", f"{path}/__init__.py"]
    if runtime.startswith("nodejs"):
        return [module + suffix for suffix in NODE_SUFFIXES]
    return None


def check_code(field: str, props: Any) -> None:
    """The code settings of a function (`field` is its table, e.g. "function")."""
    for name, what in (("source_dir", "a directory with the function's code (relative to the settings file)"),
                       ("zip_file", "a zip file with the function's code (relative to the settings file)")):
        value = getattr(props, name)
        if value is not None and (not isinstance(value, str) or not value):
            raise ConfigError(f"{field}.{name}", value, what)
    given = [name for name in ("source_dir", "zip_file", "image_uri") if getattr(props, name) is not None]
    if len(given) > 1:
        raise ConfigError(f"{field}.{given[1]}", getattr(props, given[1]), f"no value when {field}.{given[0]} is set (one code source)")
    if props.image_uri is not None:
        _check_image(field, props)
        return
    own = bool(given)
    runtimes = OWN_CODE_RUNTIMES if own else BUILTIN_RUNTIMES
    if props.runtime not in runtimes:
        why = "" if own else " (the built-in runtime; set source_dir or zip_file to deploy other code)"
        raise ConfigError(f"{field}.runtime", props.runtime, "one of " + ", ".join(repr(r) for r in runtimes) + why)
    if props.handler is not None and not (isinstance(props.handler, str) and re.fullmatch(HANDLER_PATTERN, props.handler) and "." in props.handler):
        raise ConfigError(f"{field}.handler", props.handler, "a handler such as 'app.lambda_handler' (module.function, no spaces, up to 128)")
    if not own:
        return
    if props.handler is None:
        raise ConfigError(f"{field}.handler", None, f"the handler in {field}.{given[0]}, such as 'app.lambda_handler'")
    if props.source_dir is not None:
        _check_source_dir(field, props)
    else:
        _check_zip_file(field, props)


def _check_image(field: str, props: Any) -> None:
    if not isinstance(props.image_uri, str) or re.fullmatch(ECR_IMAGE_PATTERN, props.image_uri) is None:
        raise ConfigError(f"{field}.image_uri", props.image_uri, ECR_IMAGE_TEXT)
    require_region(f"{field}.image_uri", props.image_uri, props.image_uri.split(".")[3])
    if props.handler is not None:
        raise ConfigError(f"{field}.handler", props.handler, "no value with image_uri (the image's CMD names the handler)")
    if props.layers:
        raise ConfigError(f"{field}.layers", props.layers, "no value with image_uri (an image carries its own dependencies)")


def _missing_module(field: str, props: Any, location: str, candidates: list[str]) -> ConfigError:
    return ConfigError(
        f"{field}.handler", props.handler, f"a handler whose module is in {location} (looked for {' or '.join(candidates)})"
    )


def _defines(source: bytes, name: str) -> Optional[bool]:
    """Whether Python `source` defines `name` at its top level (a def, a class or an assignment); None
    when it cannot be parsed (the function's own runtime is the judge then). Read, never imported."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name.split(".")[0]) == name for a in node.names):
            return True
    return False


def _check_function_defined(field: str, props: Any, location: str, module_file: str, source: bytes) -> None:
    if not props.runtime.startswith("python"):
        return
    function = props.handler.rsplit(".", 1)[1]
    if _defines(source, function) is False:
        raise ConfigError(
            f"{field}.handler", props.handler, f"a function {module_file} defines at its top level ({location}: no {function!r} there)"
        )


def _check_source_dir(field: str, props: Any) -> None:
    path = Path(props.source_dir)
    if not path.is_dir():
        raise ConfigError(f"{field}.source_dir", props.source_dir, "an existing directory with the function's code")
    candidates = handler_files(props.handler, props.runtime)
    if candidates is None:
        return
    found = [name for name in candidates if (path / name).is_file()]
    if not found:
        raise _missing_module(field, props, props.source_dir, candidates)
    _check_function_defined(field, props, props.source_dir, found[0], (path / found[0]).read_bytes())


def _check_zip_file(field: str, props: Any) -> None:
    path = Path(props.zip_file)
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        raise ConfigError(f"{field}.zip_file", props.zip_file, "an existing zip file with the function's code") from None
    candidates = handler_files(props.handler, props.runtime)
    if candidates is None:
        return
    found = [name for name in candidates if name in names]
    if not found:
        raise _missing_module(field, props, props.zip_file, candidates)
    with zipfile.ZipFile(path) as archive:
        _check_function_defined(field, props, props.zip_file, found[0], archive.read(found[0]))
