"""Domain functions of the SLA engine, one module per concern; this package re-exports the public names.

- `clocks`: policy matching and the clocks that follow each ticket (`clocks_sync`, `on_ticket_change`).
- `sweep`: applying due warnings and breaches exactly once (`clocks_sweep`), claiming, heartbeats.
- `notifications`: followers, in-app and email notification rows, read marks, preferences.
- `outbox`: delivering queued email (`outbox_deliver`).
- `config`: calendar and policy writes and the re-planning they cause.
- `rollup`: the dashboard's daily roll-up and backlog snapshot.
- `webhooks`: outbound webhook events written to their outbox of deliveries (`webhook_event`) and their relay
  (`webhooks_deliver`), subscriptions and redelivery.
"""

from .clocks import (
    CLOCK_SYNC_FIELDS,
    _active_policies,
    clocks_start_bulk,
    clocks_sync,
    forget_policies,
    on_ticket_change,
    policy_for,
    policy_matches,
    register_policy_chooser,
)
from .config import (
    calendar_changed,
    calendar_delete,
    calendar_import_holidays,
    calendar_is_open,
    calendar_require_open,
    clocks_replan,
    policy_delete,
    policy_require_open_calendar,
    policy_saved,
)
from .notifications import mail_language_set, notification_mark_read, notification_send, preference_set
from .outbox import OUTBOX_HEARTBEAT, outbox_deliver
from .rollup import ROLLUP_HEARTBEAT, ROLLUP_MARGIN, backlog_snapshot, rollup_refresh, rollup_refresh_recent
from .sweep import FAILED_CLOCK_RETRY, SWEEP_HEARTBEAT, clocks_sweep, heartbeat_record, lock_skipping, sweep_warm_up
from .webhooks import (
    may_manage_webhooks,
    subscriptions_for,
    webhook_delivery_log,
    webhook_event,
    webhook_redeliver,
    webhook_subscription_delete,
    webhook_subscription_list,
    webhook_subscription_save,
    webhooks_deliver,
)

__all__ = [
    "subscriptions_for",
    "webhook_event",
    "may_manage_webhooks",
    "webhook_redeliver",
    "webhook_delivery_log",
    "webhook_subscription_list",
    "webhook_subscription_delete",
    "webhook_subscription_save",
    "webhooks_deliver",
    "CLOCK_SYNC_FIELDS",
    "FAILED_CLOCK_RETRY",
    "OUTBOX_HEARTBEAT",
    "ROLLUP_HEARTBEAT",
    "ROLLUP_MARGIN",
    "SWEEP_HEARTBEAT",
    "_active_policies",
    "backlog_snapshot",
    "calendar_changed",
    "calendar_delete",
    "calendar_import_holidays",
    "calendar_is_open",
    "calendar_require_open",
    "clocks_replan",
    "clocks_start_bulk",
    "clocks_sweep",
    "clocks_sync",
    "forget_policies",
    "heartbeat_record",
    "lock_skipping",
    "sweep_warm_up",
    "mail_language_set",
    "notification_mark_read",
    "notification_send",
    "on_ticket_change",
    "outbox_deliver",
    "policy_delete",
    "policy_for",
    "register_policy_chooser",
    "policy_matches",
    "policy_require_open_calendar",
    "policy_saved",
    "preference_set",
    "rollup_refresh",
    "rollup_refresh_recent",
]
