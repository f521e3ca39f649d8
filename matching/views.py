"""Pages: "Suggested partners" (matches), match detail, matching runs with their live progress.

Adapters only: parse input, call a selector or service, present, render. A match or run the user may
not see is a 404; starting a run without the right role is a 403.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from audit.services import get_visible_or_404
from companies.forms import freeze_choices, label_empty_choices
from companies.roles import roles_for
from matching.choices import RunStatus
from matching.forms import ORDERING_CHOICES, RunStartForm
from matching.permissions import can_run_matching
from matching.presentation import present_match
from matching.selectors import (
    match_list,
    match_pages,
    match_queryset,
    partner_groups,
    run_list,
    stream_redundancy,
)
from matching.services import matching_run_create
from streams.models import Stream
from streams.views import wants_partial

PAGE_SIZE = 25
PRIMARY_FILTERS = ("q", "stream", "kind", "min_score", "ordering")


def filter_form_context(filterset, request, *, streams=None):
    """The FilterSet's form, ready to render without queries. For a company, the stream filter
    offers its own streams by name and the company filter (a number) is left out."""
    form = label_empty_choices(freeze_choices(filterset.form), _("Any"))
    form.fields["ordering"] = form.fields.pop("ordering")  # last, after the filters
    form.fields["ordering"].widget.choices = ORDERING_CHOICES
    form.fields["q"].widget.input_type = "search"
    # The form is validated already, so its bound fields exist: relabel those.
    form["q"].help_text = _("Words from the offer's or need's title")
    form["min_score"].help_text = ""
    if streams is not None:
        form.fields.pop("company", None)
        form.fields["stream"].widget = forms.Select(
            choices=[("", _("All your streams")), *((str(s.pk), s.title) for s in streams)]
        )
        form["stream"].label = _("Your stream")
    more_active = any(
        request.GET.get(name) not in (None, "", "unknown") for name in form.fields if name not in PRIMARY_FILTERS
    )
    return {"filter_form": form, "primary_filters": PRIMARY_FILTERS, "more_filters_active": more_active}


def _render(request, template, partial, context):
    response = render(request, partial if wants_partial(request) else template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


class MatchListView(LoginRequiredMixin, View):
    """"Suggested partners". A company member sees each of their streams with its best matches; a
    facilitator or staff member a flat list of the matches in their regions (same filters as
    `/api/v1/matches/`)."""

    template_name = "matching/match_list.html"
    partial_template_name = "matching/_match_results.html"

    def get(self, request):
        user = request.user
        roles = roles_for(user)
        grouped = bool(roles.company_ids) and not (roles.is_staff or roles.is_facilitator)
        context = {"grouped": grouped}
        if grouped:
            result = partner_groups(user=user, filters=request.GET)
            redundancy = stream_redundancy(g.stream.pk for g in result.groups if g.stream is not None)
            for g in result.groups:
                g.redundancy = redundancy.get(g.stream.pk) if g.stream is not None else None
            context["groups"] = [(g, [present_match(m, user=user) for m in g.matches]) for g in result.groups]
            context.update(filter_form_context(result.filterset, request, streams=result.streams))
        else:
            filterset = match_list(user=user, filters=request.GET)
            pages = match_pages(filterset.qs, user=user, filterset=filterset)
            page = Paginator(pages, PAGE_SIZE).get_page(request.GET.get("page"))
            context.update(page_obj=page, paginator=page.paginator,
                           rows=[present_match(m, user=user) for m in page.object_list])
            context.update(filter_form_context(filterset, request))
        return _render(request, self.template_name, self.partial_template_name, context)


class MatchDetailView(LoginRequiredMixin, View):
    """One match as the viewer may see it. The page is composed by facilitation
    (`facilitation.views.MatchDetailView` adds the moves, timeline, notes and thread)."""

    template_name = "matching/match_detail.html"

    def get_queryset(self):
        return match_queryset(user=self.request.user).prefetch_related("offer__ewc_codes")

    def get_context_data(self, match) -> dict:
        return {"match": match, "view": present_match(match, user=self.request.user)}

    def get(self, request, pk):
        match = get_visible_or_404(self.get_queryset(), pk=pk)
        return render(request, self.template_name, self.get_context_data(match))


class RunListView(LoginRequiredMixin, ListView):
    """Matching runs the user may follow, and "Run matching now" for facilitators and staff."""

    template_name = "matching/run_list.html"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return run_list(user=self.request.user, filters=self.request.GET)

    def get_context_data(self, **kwargs):
        may_run = can_run_matching(self.request.user)
        return super().get_context_data(may_run=may_run, start_form=RunStartForm() if may_run else None, **kwargs)


class RunStartView(LoginRequiredMixin, View):
    """Start a full run, or a run for one stream the user can see (POST only)."""

    http_method_names = ["post"]

    def post(self, request):
        if not can_run_matching(request.user):
            raise PermissionDenied(_("Only facilitators and staff can start matching runs."))
        form = RunStartForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return redirect("matching:run_list")
        stream = None
        if form.cleaned_data["stream"]:
            stream = Stream.objects.visible_to(request.user).filter(pk=form.cleaned_data["stream"]).first()
            if stream is None:
                messages.error(request, _("There is no stream with this number that you can see."))
                return redirect("matching:run_list")
        run = matching_run_create(kind=form.cleaned_data["kind"], stream=stream, requested_by=request.user)
        messages.success(request, _("Matching started. This page shows its progress."))
        return redirect(run)


class RunDetailView(LoginRequiredMixin, View):
    template_name = "matching/run_detail.html"
    partial_template_name = "matching/_run_progress.html"

    def get(self, request, pk):
        run = get_visible_or_404(run_list(user=request.user), pk=pk)
        return render(request, self.template_name, _run_context(run))


class RunProgressView(RunDetailView):
    """The progress block alone, polled by htmx every second while the run is queued or running."""

    def get(self, request, pk):
        run = get_visible_or_404(run_list(user=request.user), pk=pk)
        return render(request, self.partial_template_name, _run_context(run))


def _run_context(run) -> dict:
    return {
        "run": run,
        "active": run.status in (RunStatus.QUEUED, RunStatus.RUNNING),
        "percent": round(run.progress * 100),
        "timings": sorted((run.timings or {}).items()),
        "counts": sorted((run.counts or {}).items()),
    }
