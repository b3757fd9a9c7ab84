"""The change forwarder's settings, read once per container from the environment: xacct_contracts.ChangeSettings."""

from __future__ import annotations

from xacct_contracts import ChangeSettings

__all__ = ["ChangeSettings"]
