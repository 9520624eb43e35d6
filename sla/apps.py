from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "Service levels"
    # The demo seed (`seed_demo`) calls this step with the shared demo context, by order; last, because
    # it closes the history (the sweep to the present, a quiet past, the roll-up) after the other steps.
    demo_seed = "sla.demo.seed"
    demo_order = 30

    def ready(self):
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from tracker import hooks

        from . import ui
        from .models import Calendar, Holiday, Policy, TierTarget, WorkingHours
        from .services import forget_policies, on_ticket_change
        from .services.clocks import on_tickets_change

        hooks.register(on_ticket_change, batch=on_tickets_change)
        from .services.webhooks import on_ticket_change as webhooks_on_ticket_change
        from .services.webhooks import on_tickets_change as webhooks_on_tickets_change

        # ticket.* webhook events, in the change's transaction
        hooks.register(webhooks_on_ticket_change, batch=webhooks_on_tickets_change)
        ui.register_webhooks()
        ui.register()
        # A cache chore: this process drops its cached policies at once; other processes see the stamp change.
        for model in (Policy, TierTarget, Calendar, WorkingHours, Holiday):
            post_save.connect(forget_policies, sender=model, dispatch_uid=f"sla-policies-{model.__name__}-save")
            post_delete.connect(forget_policies, sender=model, dispatch_uid=f"sla-policies-{model.__name__}-delete")
        for through in (Policy.services.through, Policy.organisations.through):
            m2m_changed.connect(forget_policies, sender=through, dispatch_uid=f"sla-policies-{through.__name__}")
