"""Props of the SES notifications kind (xacct-ses-notifications, seed 004): the topic and the stack.

Frozen, keyword-only, validated on creation, no cdktf import; the consumer-side pieces (function,
mapping, sink table, alarms, backend) are the shared props of `props.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from xacct_streaming.settings import defaults
from xacct_streaming.settings.errors import ConfigError
from xacct_streaming.settings.naming import check_stack
from xacct_streaming.settings.props import (
    AlarmProps,
    BackendProps,
    ConsumerFunctionProps,
    SharedStreamProps,
    function_props,
)
from xacct_streaming.settings.patterns import (
    KMS_ALIAS as _KMS_ALIAS,
    KMS_ALIAS_TEXT as _KMS_ALIAS_TEXT,
    IAM_ROLE_NAME,
)
from xacct_streaming.settings.validation import require_int, require_match, require_one_of


@dataclass(frozen=True, kw_only=True)
class NotificationProps:
    """The SES account's configuration set, its SNS event destination and the encrypted topic (seed 004)."""

    configuration_set_name: str = defaults.SES_CONFIGURATION_SET_NAME
    event_types: tuple[str, ...] = defaults.SES_EVENT_TYPES
    topic_name: str = defaults.SES_TOPIC_NAME
    topic_key_alias: str = defaults.SES_TOPIC_KEY_ALIAS
    key_deletion_window_days: int = defaults.KEY_DELETION_WINDOW_DAYS
    stream_writer_role_name: str = defaults.SES_STREAM_WRITER_ROLE_NAME

    def __post_init__(self) -> None:
        require_match("notifications.configuration_set_name", self.configuration_set_name, r"[a-zA-Z0-9_-]{1,64}", "1-64 of a-z A-Z 0-9 _ -")
        types = list(self.event_types) if isinstance(self.event_types, (list, tuple)) else None
        if not types or len(set(types)) != len(types):
            raise ConfigError("notifications.event_types", self.event_types, "a non-empty list of distinct SES event types")
        for event_type in types:
            require_one_of("notifications.event_types", event_type, defaults.SES_EVENT_TYPES)
        object.__setattr__(self, "event_types", tuple(types))  # TOML gives a list; props stay hashable
        require_match("notifications.topic_name", self.topic_name, r"[a-zA-Z0-9_-]{1,256}", "1-256 of a-z A-Z 0-9 _ -")
        require_match("notifications.topic_key_alias", self.topic_key_alias, _KMS_ALIAS, _KMS_ALIAS_TEXT)
        require_int("notifications.key_deletion_window_days", self.key_deletion_window_days, 7, 30)
        require_match("notifications.stream_writer_role_name", self.stream_writer_role_name, IAM_ROLE_NAME, "an IAM role name (1-64 of a-z A-Z 0-9 + = , . @ _ -)")

@dataclass(frozen=True, kw_only=True)
class SesNotificationsStackProps:
    """Seed 004: stream + writer role in the producer account; SES, topic, forwarder in the consumer account."""

    stack_name: str = defaults.SES_STACK_NAME
    stream: SharedStreamProps = field(
        default_factory=lambda: SharedStreamProps(stream_name=defaults.SES_STREAM_NAME, key_alias=defaults.SES_STREAM_KEY_ALIAS)
    )
    forwarder: ConsumerFunctionProps = field(
        default_factory=lambda: function_props(defaults.SES_FORWARDER_FUNCTION_NAME, defaults.SES_FORWARDER_KEY_ALIAS)
    )
    notifications: NotificationProps = field(default_factory=NotificationProps)
    alarms: AlarmProps = field(default_factory=AlarmProps)
    backend: BackendProps = field(default_factory=BackendProps)
    # Tags of every resource of this stack, over the `tags` variable's (provider default_tags).
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_stack(self)
        if self.notifications.topic_key_alias == self.forwarder.key_alias:
            raise ConfigError("notifications.topic_key_alias", self.notifications.topic_key_alias, "an alias different from forwarder.key_alias")
