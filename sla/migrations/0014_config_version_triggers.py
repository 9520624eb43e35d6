"""Writes to the SLA configuration (policies, their conditions and targets, calendars, webhook subscriptions)
change the configuration's version row: `tracker.config_cache`."""
from django.db import migrations

from tracker.config_cache import bump_triggers, bump_triggers_drop

TABLES = ["sla_calendar", "sla_holiday", "sla_policy", "sla_policy_organisations", "sla_policy_services",
          "sla_tiertarget", "sla_webhooksubscription", "sla_workinghours"]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in [s for table in TABLES for s in bump_triggers(vendor, table)]:
        schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in [s for table in TABLES for s in bump_triggers_drop(vendor, table)]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('sla', '0013_policy_tells_requester'),
        ('tracker', '0020_config_version'),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
