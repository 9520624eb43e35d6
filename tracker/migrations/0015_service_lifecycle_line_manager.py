import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def retire_inactive(apps, schema_editor):
    """A service that was not live is retired; every live one is operational."""
    apps.get_model("tracker", "Service").objects.filter(active=False).update(lifecycle="retired")


def restore_active(apps, schema_editor):
    apps.get_model("tracker", "Service").objects.filter(lifecycle="retired").update(active=False)


class Migration(migrations.Migration):

    dependencies = [
        ('tracker', '0014_touch_and_hold_swarms_worklog_process_roles'),
    ]

    operations = [
        migrations.AddField(
            model_name='service',
            name='lifecycle',
            field=models.CharField(choices=[('planned', 'Planned'), ('in_transition', 'In transition'), ('operational', 'Operational'), ('retired', 'Retired')], default='operational', help_text='Operational only through the operations gate; until then tickets are accepted but flagged to the desk and the portal does not offer the service; a retired service takes no new tickets.', max_length=16),
        ),
        migrations.RunPython(retire_inactive, restore_active),
        migrations.RemoveField(
            model_name='service',
            name='active',
        ),
        migrations.AddField(
            model_name='service',
            name='project_group',
            field=models.ForeignKey(blank=True, help_text='The project team building the service: the desk escalates its tickets there until it is operational.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='project_services', to='tracker.assignmentgroup'),
        ),
        migrations.AddField(
            model_name='service',
            name='service_manager',
            field=models.ForeignKey(blank=True, help_text='Owns the service through its life; accepts it last at the operations gate.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='managed_services', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='user',
            name='manager',
            field=models.ForeignKey(blank=True, help_text="Line manager: approves the catalogue requests that need the requester's manager.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reports', to=settings.AUTH_USER_MODEL),
        ),
    ]
