"""Pages of the core: the home page that sends each role to its work, and the Markdown preview."""
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from . import access
from .choices import Role
from .markdown import render_markdown

# Where each role's work is (URL names; the queue views take a saved view).
HOME_FOR_ROLE = {
    Role.REQUESTER: ("itsm:portal", ""),
    Role.AGENT_L1: ("itsm:queue", "?view=my-group"),
    Role.AGENT_L2: ("itsm:queue", "?view=my-group"),
    Role.ENGINEER_L3: ("devflow:queue", ""),
    Role.CHANGE_MANAGER: ("itsm:queue", "?view=open&kind=change"),
    Role.MANAGER: ("sla:dashboard", ""),
    Role.ADMIN: ("itsm:queue", "?view=open"),
}


def home(request):
    name, query = HOME_FOR_ROLE.get(access.role_of(request.user), ("itsm:portal", ""))
    response = redirect(name)
    response["Location"] += query
    return response


@require_POST
def markdown_preview(request):
    html = render_markdown(request.POST.get("body", ""))
    return HttpResponse(html or '<p class="muted">Nothing to preview.</p>')
