from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "Service levels"

    def ready(self):
        from tracker import hooks

        from .services import on_ticket_change

        hooks.register(on_ticket_change)
