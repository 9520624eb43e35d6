from django.urls import path

from . import fulfilment, views

app_name = "itsm"
K = "<str:key>"

urlpatterns = [
    path("portal/", views.portal, name="portal"),
    path("portal/new/", views.portal_new, name="portal-new"),
    path(f"portal/tickets/{K}/", views.portal_ticket, name="portal-ticket"),
    path(f"portal/tickets/{K}/transition/", views.portal_transition, name="portal-transition"),
    path("kb/", views.kb, name="kb"),
    path("kb/<int:pk>/", views.kb_article, name="kb-article"),
    path("changes/cabs/", views.cabs, name="cabs"),
    path("changes/cabs/new/", views.cab_form, name="cab-new"),
    path("changes/cabs/<int:pk>/", views.cab_form, name="cab-edit"),
    path("changes/templates/", views.change_templates, name="change-templates"),
    path("changes/templates/new/", views.change_template_form, name="change-template-new"),
    path("changes/templates/<int:pk>/", views.change_template_form, name="change-template-edit"),
    path("changes/templates/<int:pk>/retire/", views.change_template_retire, name="change-template-retire"),
    path("changes/templates/<int:pk>/new-change/", views.standard_change_new, name="standard-change-new"),
    path(f"tickets/{K}/vote/", views.change_vote, name="change-vote"),
    path("changes/approvals/mine/", views.my_approvals, name="my-approvals"),
    # A change's tasks and rollback (forms of the ticket page's Tasks panel), and the pages of change enablement.
    path(f"tickets/{K}/tasks/", views.task_add, name="task-add"),
    path(f"tickets/{K}/tasks/<int:number>/report/", views.task_report, name="task-report"),
    path(f"tickets/{K}/tasks/<int:number>/handoff/", views.task_handoff, name="task-handoff"),
    path(f"tickets/{K}/rollback/", views.rollback_add, name="rollback-add"),
    path("changes/tasks/", views.my_tasks, name="my-tasks"),
    path("changes/outcomes/", views.change_outcomes, name="change-outcomes"),
    # the change calendar
    path("changes/calendar/", views.change_calendar, name="calendar"),
    path("changes/calendar.ics", views.calendar_ics, name="calendar-ics"),
    path("changes/calendar/feed/", views.calendar_feed_new, name="calendar-feed-new"),
    path("changes/calendar/feed/delete/", views.calendar_feed_delete, name="calendar-feed-delete"),
    path("changes/calendar/feed/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
    path("changes/blackouts/", views.blackouts, name="blackouts"),
    path("changes/blackouts/<int:pk>/", views.blackout_edit, name="blackout-edit"),
    path("changes/blackouts/<int:pk>/delete/", views.blackout_delete, name="blackout-delete"),
    path(f"tickets/{K}/schedule/", views.change_schedule, name="change-schedule"),
    path(f"tickets/{K}/calendar.ics", views.change_ics, name="change-ics"),
    # problem management: problems from incidents, root cause analysis, known errors applied to incidents
    path(f"tickets/{K}/problem/", views.problem_from, name="problem-from"),
    path(f"tickets/{K}/known-error/<str:problem>/apply/", views.known_error_apply, name="known-error-apply"),
    path(f"tickets/{K}/analysis/", views.problem_analysis, name="problem-analysis"),
    path(f"tickets/{K}/resolve-with-incidents/", views.problem_resolve, name="problem-resolve"),
    path("known-errors/", views.known_errors, name="known-errors"),
    # major incidents (forms of the ticket page) and the process managers' landing pages
    path(f"tickets/{K}/major/declare/", views.major_declare, name="major-declare"),
    path(f"tickets/{K}/major/children/", views.major_link, name="major-link"),
    path(f"tickets/{K}/major/resolve/", views.major_resolve, name="major-resolve"),
    path("process/incidents/", views.incident_health, name="incident-health"),
    path("process/problems/", views.problem_health, name="problem-health"),
    # catalogue requests after the order: the approver's page and list, the Fulfilment panel's forms
    path("approvals/requests/", fulfilment.request_approvals, name="request-approvals"),
    path("approvals/requests/chip/", fulfilment.request_approvals_chip, name="request-approvals-chip"),
    path(f"approvals/requests/{K}/", fulfilment.request_approval, name="request-approval"),
    path(f"tickets/{K}/fulfilment/tasks/<int:number>/take/", fulfilment.task_take, name="fulfilment-task-take"),
    path(f"tickets/{K}/fulfilment/tasks/<int:number>/finish/", fulfilment.task_finish,
         name="fulfilment-task-finish"),
    path(f"tickets/{K}/fulfilment/automation/again/", fulfilment.automation_again, name="automation-again"),
]
