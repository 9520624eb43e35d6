"""The SLA dashboard for managers: compliance, breaches, backlog, MTTR, escalations; every table as CSV."""
import csv

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from itsm.views import staff_only

from . import dashboard as reports

PERIODS = (7, 14, 30, 90, 365)


@staff_only
@require_GET
def dashboard(request):
    now = timezone.now()
    period = reports.period_from(request.GET, now)
    data = reports.dashboard(period=period, now=now)
    export = request.GET.get("export")
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
        "days": request.GET.get("days", "" if request.GET.get("start") else "30"), **data,
    })
