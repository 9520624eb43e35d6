from django.apps import AppConfig


class ItsmConfig(AppConfig):
    name = "itsm"
    verbose_name = "Service management"
    # The demo seed (`seed_demo`) calls this step with the shared demo context, by order.
    demo_seed = "itsm.demo.seed"
    demo_order = 10

    def ready(self):
        from . import services, ui

        ui.register()
        ui.register_problems()
        services.register()
        ui.register_catalogue()
        from .services import catalogue

        catalogue.register()  # a request ordered from the catalogue keeps its item's SLA policy
        ui.register_services()
        ui.register_knowledge()
        ui.register_fulfilment()
        from . import release_notes

        release_notes.register()  # a release's published notes become an internal article of its service
