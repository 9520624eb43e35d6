"""The SLA dashboard for managers (every table as CSV), and everyone's notifications with their settings."""
import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tracker import access, extensions
from tracker.access import staff_only
from tracker.errors import DomainError

from . import dashboard as reports
from . import selectors, services
from .forms import PreferencesForm

PERIODS = (7, 14, 30, 90, 365)


@staff_only
@require_GET
def dashboard(request):
    now = timezone.now()
    period, error = reports.period_or_default(request.GET, now)
    export = request.GET.get("export")
    if error and export:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    data = reports.dashboard(period=period, now=now)
    if export:
        table = next((t for t in data["tables"] if t.slug == export), None)
        if table is None:
            raise Http404("No such table.")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="crossline-{table.slug}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"')
        writer = csv.writer(response)
        writer.writerow(table.headers)
        writer.writerows(table.rows)
        return response
    query = request.GET.copy()
    query.pop("export", None)
    return render(request, "sla/dashboard.html", {
        "nav": "dashboard", "period": period, "periods": PERIODS, "query": query.urlencode(),
        "days": request.GET.get("days", "" if request.GET.get("start") else "30"), "error": error, **data,
        "sections": extensions.dashboard_sections(request=request, period=period, now=now),
    }, status=400 if error else 200)


# --- notifications (every role: agents and requesters alike) ------------------------------------------

NOTIFICATIONS = "sla/notifications.html"


def _inbox_context(request) -> dict:
    page = Paginator(selectors.notification_list(user=request.user), 50).get_page(request.GET.get("page"))
    return {"nav": "notifications", "page": page, "staff": access.is_staff_member(request.user)}


def _preferences_form(request, data=None) -> PreferencesForm:
    return PreferencesForm(data, preferences=selectors.preference_list(user=request.user),
                           language=request.user.language)


@require_GET
def notifications(request):
    return render(request, NOTIFICATIONS, {**_inbox_context(request), "form": _preferences_form(request)})


@require_POST
def notifications_read(request):
    """Mark one (`id`) or all unread notifications read; htmx gets the list and the bell back."""
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
    services.notification_mark_read(user=request.user, ids=None if request.POST.get("all") else ids)
    if not request.htmx:
        page = request.POST.get("page", "")
        return redirect(reverse("sla:notifications") + (f"?page={page}" if page.isdigit() else ""))
    html = render_to_string(f"{NOTIFICATIONS}#inbox", _inbox_context(request), request)
    html += render_to_string("sla/bell.html", {"oob": True, "nav": "notifications"}, request)
    return HttpResponse(html)


@require_POST
def notification_preferences(request):
    form = _preferences_form(request, request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                for row in form.choices():
                    services.preference_set(user=request.user, **row)
                services.mail_language_set(user=request.user, language=form.cleaned_data["language"])
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Notification settings saved.")
            return redirect("sla:notifications")
    return render(request, NOTIFICATIONS, {**_inbox_context(request), "form": form}, status=400)
