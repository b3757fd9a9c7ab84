"""The built-in runtimes' contracts (lambda_src/xacct_contracts.py): the one place each runtime's
environment variables are named. Stacks set a function's environment through them
(`ConsumerSettings.environment(table_name=...)`), the IAM model reads the calls they declare.

The module is the runtimes' own (standard library only, bundled into their archives), so it is
loaded from where they are: `lambda_src/` of this checkout, else the installed copy (pyproject's
`xacct_streaming_runtime`). A checkout's copy is the module `xacct_contracts`, the name the runtimes
and their tests import, so both see the same classes.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _load() -> ModuleType:
    here = Path(__file__).resolve()
    checkout = here.parents[3] / "lambda_src" / "xacct_contracts.py"
    if here.parents[2].name != "constructs" or not checkout.is_file():
        return importlib.import_module("xacct_streaming_runtime.xacct_contracts")
    name = "xacct_contracts"
    loaded = sys.modules.get(name)
    if loaded is not None:
        if Path(getattr(loaded, "__file__", "") or "").resolve() == checkout:
            return loaded
        name = "xacct_streaming.settings._xacct_contracts"  # another copy took the name: this one apart
    spec = importlib.util.spec_from_file_location(name, checkout)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the classes are made.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


contracts = _load()
RuntimeSettings = contracts.RuntimeSettings
QueuedRuntimeSettings = contracts.QueuedRuntimeSettings
ConsumerSettings = contracts.ConsumerSettings
ChangeSettings = contracts.ChangeSettings
ForwarderSettings = contracts.ForwarderSettings
AuthorizerSettings = contracts.AuthorizerSettings
RuntimeCall = contracts.RuntimeCall
settings_for = contracts.settings_for
