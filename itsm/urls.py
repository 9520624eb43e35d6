from django.urls import path

from . import fulfilment, knowledge, views

app_name = "itsm"
K = "<str:key>"

urlpatterns = [
    path("portal/", views.portal, name="portal"),
    path("portal/new/", views.portal_new, name="portal-new"),
    path(f"portal/tickets/{K}/", views.portal_ticket, name="portal-ticket"),
    path(f"portal/tickets/{K}/transition/", views.portal_transition, name="portal-transition"),
    path(f"portal/tickets/{K}/reply/", views.portal_reply, name="portal-reply"),
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
    # knowledge management: the knowledge base, the editor, history, the portal's suggestions and deflections,
    # and what the ticket page gets (create article from a ticket, suggested articles, insert, link)
    path("kb/", knowledge.kb_home, name="kb"),
    path("kb/new/", knowledge.kb_new, name="kb-new"),
    path("kb/preview/", knowledge.kb_preview, name="kb-preview"),
    path("kb/suggest/", knowledge.kb_suggest, name="kb-suggest"),
    path("kb/<int:pk>/", knowledge.kb_article, name="kb-article"),
    path("kb/<int:pk>/edit/", knowledge.kb_edit, name="kb-edit"),
    path("kb/<int:pk>/history/", knowledge.kb_history, name="kb-history"),
    path("kb/<int:pk>/solved/", knowledge.kb_solved, name="kb-solved"),
    path("kb/<int:pk>/<str:move>/", knowledge.kb_move, name="kb-move"),
    path(f"tickets/{K}/article/", knowledge.kb_from_ticket, name="kb-from-ticket"),
    path(f"tickets/{K}/articles/", knowledge.kb_ticket_suggestions, name="kb-ticket-suggestions"),
    path(f"tickets/{K}/articles/<int:pk>/link/", knowledge.kb_link, name="kb-link"),
    path(f"tickets/{K}/articles/<int:pk>/insert/", knowledge.kb_insert, name="kb-insert"),
]

# the request catalogue: the portal's "Request something" and the desk's catalogue (ordering for a requester)
from . import catalogue  # noqa: E402

urlpatterns += [
    path("portal/catalogue/", catalogue.portal_catalogue, name="portal-catalogue"),
    path("portal/catalogue/<int:pk>/", catalogue.portal_item, name="portal-catalogue-item"),
    path("catalogue/", catalogue.desk_catalogue, name="catalogue"),
    path("catalogue/<int:pk>/", catalogue.desk_item, name="catalogue-item"),
]


# services and their operations gate; the editor of a service's request catalogue
from . import service_pages as sp  # noqa: E402

S = "services/<int:pk>"
G = f"{S}/gate/items/<int:item_pk>"
CI = f"{S}/catalogue/<int:item_pk>"
urlpatterns += [
    path("services/", sp.services, name="services"),
    path(f"{S}/", sp.service, name="service"),
    path(f"{S}/edit/", sp.service_edit, name="service-edit"),
    path(f"{S}/retire/", sp.service_retire, name="service-retire"),
    path(f"{S}/gate/open/", sp.gate_open, name="gate-open"),
    path(f"{S}/gate/items/", sp.gate_item_add, name="gate-item-add"),
    path(f"{G}/sign/", sp.gate_item_sign, name="gate-item-sign"),
    path(f"{G}/reopen/", sp.gate_item_reopen, name="gate-item-reopen"),
    path(f"{G}/appoint/", sp.gate_item_appoint, name="gate-item-appoint"),
    path(f"{S}/gate/accept/", sp.gate_accept, name="gate-accept"),
    path(f"{S}/catalogue/", sp.catalogue_items, name="setup-items"),
    path(f"{CI}/", sp.catalogue_item, name="setup-item"),
    path(f"{CI}/fields/", sp.catalogue_field, name="setup-field-add"),
    path(f"{CI}/fields/<int:field_pk>/", sp.catalogue_field, name="setup-field"),
    path(f"{CI}/fields/<int:field_pk>/move/", sp.catalogue_field_move, name="setup-field-move"),
    path(f"{CI}/fields/<int:field_pk>/remove/", sp.catalogue_field_remove, name="setup-field-remove"),
    path(f"{CI}/preview/", sp.catalogue_preview, name="setup-preview"),
    path(f"{CI}/tasks/", sp.catalogue_task, name="setup-task-add"),
    path(f"{CI}/tasks/<int:task_pk>/", sp.catalogue_task, name="setup-task"),
    # catalogue requests after the order: the approver's page and list, the Fulfilment panel's forms
    path("approvals/requests/", fulfilment.request_approvals, name="request-approvals"),
    path("approvals/requests/chip/", fulfilment.request_approvals_chip, name="request-approvals-chip"),
    path(f"approvals/requests/{K}/", fulfilment.request_approval, name="request-approval"),
    path(f"tickets/{K}/fulfilment/tasks/<int:number>/take/", fulfilment.task_take, name="fulfilment-task-take"),
    path(f"tickets/{K}/fulfilment/tasks/<int:number>/finish/", fulfilment.task_finish,
         name="fulfilment-task-finish"),
    path(f"tickets/{K}/fulfilment/automation/again/", fulfilment.automation_again, name="automation-again"),
]
