from django.apps import AppConfig


class ItsmConfig(AppConfig):
    name = "itsm"
    verbose_name = "Service management"

    def ready(self):
        from . import ui

        ui.register()
