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
        # The change calendar's rules hold for every write of a change window (UI, API, other apps).
        hooks.register_guard(services.schedule_guard)
        hooks.register(services.schedule_observer)
