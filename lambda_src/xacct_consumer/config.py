"""The Kinesis consumer's settings, read once per container from the environment the stack sets:
`Settings` is xacct_contracts.ConsumerSettings (every variable named there)."""

from __future__ import annotations

from xacct_contracts import ConfigurationError, ConsumerSettings as Settings, load_at_cold_start

__all__ = ["ConfigurationError", "Settings", "load_at_cold_start"]
