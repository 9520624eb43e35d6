"""Seed one key counter per kind and the default impact x urgency matrix (admins edit it afterwards)."""
from django.db import migrations

KINDS = ["incident", "request", "problem", "change", "defect"]
MATRIX = {(1, 1): 1, (1, 2): 2, (1, 3): 3, (2, 1): 2, (2, 2): 3, (2, 3): 4, (3, 1): 3, (3, 2): 4, (3, 3): 5}


def seed(apps, schema_editor):
    KeyCounter = apps.get_model("tracker", "KeyCounter")
    PriorityRule = apps.get_model("tracker", "PriorityRule")
    for kind in KINDS:
        KeyCounter.objects.get_or_create(kind=kind, defaults={"next_number": 1})
    for (impact, urgency), priority in MATRIX.items():
        PriorityRule.objects.get_or_create(impact=impact, urgency=urgency, defaults={"priority": priority})


class Migration(migrations.Migration):
    dependencies = [("tracker", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
