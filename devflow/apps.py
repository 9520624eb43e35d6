from django.apps import AppConfig


class DevflowConfig(AppConfig):
    name = "devflow"
    verbose_name = "Development"

    def ready(self):
        from . import ui

        ui.register()
