from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Tracker core"

    def ready(self):
        from . import extensions as ext
        from .choices import Role

        # Where each staff role's work is in the core; the apps register the other homes (portal, dashboard).
        ext.register(
            ext.Home(Role.AGENT_L1, "tracker:queue", "?view=my-group"),
            ext.Home(Role.AGENT_L2, "tracker:queue", "?view=my-group"),
            ext.Home(Role.CHANGE_MANAGER, "tracker:queue", "?view=open&kind=change"),
            ext.Home(Role.INCIDENT_MANAGER, "tracker:queue", "?view=open&kind=incident"),
            ext.Home(Role.PROBLEM_MANAGER, "tracker:queue", "?view=open&kind=problem"),
            ext.Home(Role.ADMIN, "tracker:queue", "?view=open"),
        )
        # Swarming and work logs are the core's (every kind): their panel and timeline rows.
        from . import views

        ext.register(
            ext.Panel("swarm", "tracker/panel_swarm.html", views.swarm_panel, order=40),
            ext.TimelineRenderer("swarm", views.swarm_row),
            ext.TimelineRenderer("work", views.work_row),
            # Files on a ticket: the core's Attachments panel, under the details, and its timeline rows.
            ext.Panel("attachments", views.ATTACHMENTS_PANEL, views.attachments_panel, order=20, column="main"),
            ext.TimelineRenderer("attachment", views.attachment_row),
        )
