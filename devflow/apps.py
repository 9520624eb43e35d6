from django.apps import AppConfig


class DevflowConfig(AppConfig):
    name = "devflow"
    verbose_name = "Development"
    # The demo seed (`seed_demo`) calls this step with the shared demo context, by order.
    demo_seed = "devflow.demo.seed"
    demo_order = 20

    def ready(self):
        from . import ui

        ui.register()
