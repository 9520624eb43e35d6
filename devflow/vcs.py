"""The repositories page (`/dev/repositories/`): staff see which repositories send code to the tracker;
administrators register them, edit them and give them a new webhook secret, which is shown once."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tracker.access import staff_only
from tracker.errors import DomainError
from tracker.models import AssignmentGroup, Service
from tracker.views import form_errors

from .models import Repository
from .services import vcs

PAGE = "devflow/repositories.html"
EDIT = "devflow/repository_edit.html"


class RepositoryForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="owner/name, as the provider spells it.",
                           widget=forms.TextInput(attrs={"size": 32, "placeholder": "acme/payroll"}))
    provider = forms.ChoiceField(choices=Repository.Provider.choices)
    url = forms.CharField(max_length=300, required=False, label="Web address",
                          widget=forms.TextInput(attrs={"size": 40, "placeholder": "https://github.com/acme/payroll"}))
    service = forms.ModelChoiceField(queryset=Service.objects.all(), required=False, empty_label="(none)")
    team = forms.ModelChoiceField(queryset=AssignmentGroup.objects.all(), required=False, empty_label="(none)",
                                  label="Development team")
    active = forms.BooleanField(required=False, initial=True, label="Active (deliveries are accepted)")


def _repository(pk) -> Repository:
    repo = Repository.objects.select_related("service", "team").filter(pk=pk).first()
    if repo is None:
        raise Http404("No such repository.")
    return repo


def _page(request, *, form=None, secret_for=None, status=200):
    can_manage = vcs.may_manage_repositories(request.user)
    rows = Repository.objects.select_related("service", "team")
    return render(request, PAGE, {
        "nav": "repositories", "rows": rows, "can_manage": can_manage, "secret_for": secret_for,
        "form": form or (RepositoryForm(auto_id="id_repo_%s") if can_manage else None),
        "webhook_base": request.build_absolute_uri("/api/v1/vcs/"),
    }, status=status)


@staff_only
def repositories(request):
    """The list; an administrator's POST registers one and shows its secret this once."""
    if request.method != "POST":
        return _page(request)
    form = RepositoryForm(request.POST, auto_id="id_repo_%s")
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            repo = vcs.repository_create(actor=request.user, name=data["name"], provider=data["provider"],
                                         url=data["url"], service=data["service"], team=data["team"])
        except DomainError as exc:
            form_errors(form, exc)
            status = exc.status
        else:
            return _page(request, secret_for=repo, status=201)
    return _page(request, form=form, status=status)


@staff_only
def repository_edit(request, pk):
    repo = _repository(pk)
    if not vcs.may_manage_repositories(request.user):
        return _page(request, status=403)
    if request.method != "POST":
        form = RepositoryForm(initial={"name": repo.name, "provider": repo.provider, "url": repo.url,
                                       "service": repo.service, "team": repo.team, "active": repo.active},
                              auto_id="id_repo_%s")
        return render(request, EDIT, {"nav": "repositories", "form": form, "repo": repo})
    form = RepositoryForm(request.POST, auto_id="id_repo_%s")
    status = 400
    if form.is_valid():
        try:
            vcs.repository_update(repository=repo, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_errors(form, exc)
            status = exc.status
            repo.refresh_from_db()
        else:
            messages.success(request, f"Saved {repo.name}.")
            return redirect("devflow:repositories")
    return render(request, EDIT, {"nav": "repositories", "form": form, "repo": repo}, status=status)


@staff_only
@require_POST
def repository_secret(request, pk):
    """A new secret, shown this once on the list; the old one stops working at once."""
    repo = _repository(pk)
    try:
        vcs.repository_regenerate_secret(repository=repo, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("devflow:repositories")
    return _page(request, secret_for=repo)
