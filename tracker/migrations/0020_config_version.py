"""The configuration's version row, and the triggers that change it on every write to the core's configuration
tables (the priority matrix, the assignment groups and the services they cover, the services): `tracker.config_cache`."""
from django.db import migrations

from tracker.config_cache import bump_triggers, bump_triggers_drop, version_table_drop_sql, version_table_sql

TABLES = ["tracker_priorityrule", "tracker_assignmentgroup", "tracker_assignmentgroup_services", "tracker_service"]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in version_table_sql(vendor) + [s for table in TABLES for s in bump_triggers(vendor, table)]:
        schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in [s for table in TABLES for s in bump_triggers_drop(vendor, table)] + version_table_drop_sql(vendor):
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('tracker', '0019_user_email_upper_index'),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
