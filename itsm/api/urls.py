"""Mounted at /api/v1/ by tracker/urls.py, after the ticket API.

- change enablement under `changes/`: CABs, standard-change templates, a change's approval rounds and votes
  (`/api/v1/changes/CHG-12/approvals/vote/`), and the change success and failure rates;
- the change calendar under `changes/`: blackout windows (`changes/blackouts/`), a change's schedule
  (`changes/CHG-12/schedule/`, with a change manager's override of a blackout) and the calendar of a period
  (`changes/calendar/`);
- a change's tasks and rollbacks under its key (`/api/v1/tickets/CHG-12/tasks/2/report/`), and a person's
  change tasks (`/api/v1/change-tasks/`);
- problem management: a problem from incidents (`problems/from-incidents/`), the known-error database
  (`known-errors/`), a known error applied to an incident (`tickets/INC-4/apply-known-error/`) and a problem
  resolved with its chosen incidents (`tickets/PRB-2/resolve-with-incidents/`).
- major incidents under the incident's key: declare and read (`tickets/INC-7/major/`), link children
  (`.../major/children/`), resolve with the children chosen (`.../major/resolve/`).
- knowledge articles under `articles/`: ranked search with snippets, read, write (If-Match), submit, publish,
  retire, versions and the diff of two (`articles/7/diff/?a=1&b=3`).
- catalogue requests after the order, under `catalogue/`: the approver's decision
  (`catalogue/requests/REQ-5/approve/`, `.../reject/`), my pending approvals (`catalogue/approvals/`), a
  request's fulfilment tasks (`.../tasks/`, `.../tasks/2/take/`, `done/`, `cancel/`) and a failed automation
  run again (`.../automation/run-again/`).
"""
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .approvals import ApprovalListView, CabViewSet, TemplateViewSet, VoteView
from .calendar import BlackoutViewSet, CalendarView, ChangeScheduleView
from .fulfilment import (
    ApproveView,
    AutomationRunAgainView,
    MyApprovalsView,
    RejectView,
    TaskCancelView,
    TaskDoneView,
    TaskListView,
    TaskTakeView,
)
from .knowledge import ArticleViewSet
from .major import MajorChildrenView, MajorResolveView, MajorView
from .problems import ApplyKnownErrorView, KnownErrorListView, ProblemFromIncidentsView, ResolveWithIncidentsView
from .tasks import ChangeRatesViewSet, ChangeTaskViewSet, MyTaskViewSet, RollbackViewSet

app_name = "itsm-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("cabs", CabViewSet, basename="cab")
router.register("templates", TemplateViewSet, basename="template")
router.register("blackouts", BlackoutViewSet, basename="blackout")
C = "changes/<str:key>"
K = "tickets/<str:key>"
T = f"{K}/tasks/<int:number>"

urlpatterns = [
    path("changes/rates/", ChangeRatesViewSet.as_view({"get": "list"}), name="change-rates"),
    path("changes/calendar/", CalendarView.as_view(), name="calendar"),
    path("changes/", include(router.urls)),
    path(f"{C}/schedule/", ChangeScheduleView.as_view(), name="change-schedule"),
    path(f"{C}/approvals/", ApprovalListView.as_view(), name="approvals"),
    path(f"{C}/approvals/vote/", VoteView.as_view(), name="vote"),
    path(f"{K}/tasks/", ChangeTaskViewSet.as_view({"get": "list", "post": "create"}), name="task-list"),
    path(f"{T}/", ChangeTaskViewSet.as_view({"get": "retrieve", "patch": "partial_update"}), name="task-detail"),
    path(f"{T}/report/", ChangeTaskViewSet.as_view({"post": "report"}), name="task-report"),
    path(f"{T}/handoff/", ChangeTaskViewSet.as_view({"post": "handoff"}), name="task-handoff"),
    path(f"{K}/rollbacks/", RollbackViewSet.as_view({"get": "list", "post": "create"}), name="rollback-list"),
    path("change-tasks/", MyTaskViewSet.as_view({"get": "list"}), name="my-tasks"),
    # problem management
    path("problems/from-incidents/", ProblemFromIncidentsView.as_view(), name="problem-from-incidents"),
    path("known-errors/", KnownErrorListView.as_view(), name="known-errors"),
    path(f"{K}/apply-known-error/", ApplyKnownErrorView.as_view(), name="apply-known-error"),
    path(f"{K}/resolve-with-incidents/", ResolveWithIncidentsView.as_view(), name="resolve-with-incidents"),
    # major incidents, under the incident's key
    path(f"{K}/major/", MajorView.as_view(), name="major"),
    path(f"{K}/major/children/", MajorChildrenView.as_view(), name="major-children"),
    path(f"{K}/major/resolve/", MajorResolveView.as_view(), name="major-resolve"),
    # knowledge articles
    path("articles/", ArticleViewSet.as_view({"get": "list", "post": "create"}), name="article-list"),
    path("articles/<int:pk>/", ArticleViewSet.as_view({"get": "retrieve", "put": "update"}), name="article-detail"),
    path("articles/<int:pk>/submit/", ArticleViewSet.as_view({"post": "submit"}), name="article-submit"),
    path("articles/<int:pk>/publish/", ArticleViewSet.as_view({"post": "publish"}), name="article-publish"),
    path("articles/<int:pk>/retire/", ArticleViewSet.as_view({"post": "retire"}), name="article-retire"),
    path("articles/<int:pk>/versions/", ArticleViewSet.as_view({"get": "versions"}), name="article-versions"),
    path("articles/<int:pk>/diff/", ArticleViewSet.as_view({"get": "diff"}), name="article-diff"),
]

# the request catalogue: items with their form's schema, ordering one, and a request ordered from it
from .catalogue import ItemDetailView, ItemListView, OrderView, RequestView  # noqa: E402

urlpatterns += [
    path("catalogue/items/", ItemListView.as_view(), name="catalogue-items"),
    path("catalogue/items/<int:pk>/", ItemDetailView.as_view(), name="catalogue-item"),
    path("catalogue/items/<int:pk>/order/", OrderView.as_view(), name="catalogue-order"),
    path("catalogue/requests/<str:key>/", RequestView.as_view(), name="catalogue-request"),
]


# services, their groups and operations gate, and the setup of their catalogue items
from .services import (  # noqa: E402
    CatalogueFieldsView,
    CatalogueFieldView,
    CatalogueItemsView,
    CatalogueItemView,
    GateAcceptView,
    GateOpenView,
    GateReopenView,
    GateSignView,
    GateView,
    GroupViewSet,
    ServiceViewSet,
)

SV = "services/<int:service_id>"
GI = f"{SV}/gate/items/<int:item_id>"
urlpatterns += [
    path("services/", ServiceViewSet.as_view({"get": "list"}), name="service-list"),
    path("services/<int:pk>/", ServiceViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
         name="service-detail"),
    path("groups/", GroupViewSet.as_view({"get": "list"}), name="group-list"),
    path("groups/<int:pk>/", GroupViewSet.as_view({"get": "retrieve"}), name="group-detail"),
    path(f"{SV}/gate/", GateView.as_view(), name="gate"),
    path(f"{SV}/gate/open/", GateOpenView.as_view(), name="gate-open"),
    path(f"{GI}/sign/", GateSignView.as_view(), name="gate-sign"),
    path(f"{GI}/reopen/", GateReopenView.as_view(), name="gate-reopen"),
    path(f"{SV}/gate/accept/", GateAcceptView.as_view(), name="gate-accept"),
    path(f"{SV}/catalogue/items/", CatalogueItemsView.as_view(), name="setup-items"),
    path(f"{SV}/catalogue/items/<int:item_id>/", CatalogueItemView.as_view(), name="setup-item"),
    path(f"{SV}/catalogue/items/<int:item_id>/fields/", CatalogueFieldsView.as_view(), name="setup-fields"),
    path(f"{SV}/catalogue/items/<int:item_id>/fields/<int:field_id>/", CatalogueFieldView.as_view(),
         name="setup-field"),
    # catalogue requests after the order: approval, fulfilment tasks, automation
    path("catalogue/approvals/", MyApprovalsView.as_view(), name="request-approvals"),
    path("catalogue/requests/<str:key>/approve/", ApproveView.as_view(), name="request-approve"),
    path("catalogue/requests/<str:key>/reject/", RejectView.as_view(), name="request-reject"),
    path("catalogue/requests/<str:key>/tasks/", TaskListView.as_view(), name="fulfilment-tasks"),
    path("catalogue/requests/<str:key>/tasks/<int:number>/take/", TaskTakeView.as_view(), name="fulfilment-take"),
    path("catalogue/requests/<str:key>/tasks/<int:number>/done/", TaskDoneView.as_view(), name="fulfilment-done"),
    path("catalogue/requests/<str:key>/tasks/<int:number>/cancel/", TaskCancelView.as_view(),
         name="fulfilment-cancel"),
    path("catalogue/requests/<str:key>/automation/run-again/", AutomationRunAgainView.as_view(),
         name="automation-run-again"),
]
