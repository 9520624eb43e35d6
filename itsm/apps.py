from django.apps import AppConfig


class ItsmConfig(AppConfig):
    name = "itsm"
    verbose_name = "Service management"
    # The demo seed (`seed_demo`) calls this step with the shared demo context, by order.
    demo_seed = "itsm.demo.seed"
    demo_order = 10

    def ready(self):
        from tracker import hooks

        from . import services, ui

        ui.register()
        # A change's go-live and close obey its tasks, rollback and review, whichever front end moves it.
        hooks.register_guard(services.change_guard)
        hooks.register(services.tasks_cancel_with_change)
