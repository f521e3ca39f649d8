"""Pages: "Suggested partners" (matches), match detail, matching runs with their live progress.

Adapters only: parse input, call a selector or service, present, render. A match or run the user may
not see is a 404; starting a run without the right role is a 403.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views import View

from audit.services import get_visible_or_404
from companies.roles import roles_for
from core.listpages import FilteredListView, filter_context
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

PRIMARY_FILTERS = ("q", "stream", "kind", "min_score", "ordering")


def filter_form_context(filterset, request, *, streams=None):
    """The filter form of the match lists (see `adjust_filter_form`), ready to render without queries."""
    return filter_context(filterset, request, primary_filters=PRIMARY_FILTERS,
                          adjust=lambda form: adjust_filter_form(form, streams=streams))


def adjust_filter_form(form, *, streams=None) -> None:
    """Ordering last, with its labels. For a company, the stream filter offers its own streams by name
    and the company filter (a number) is left out."""
    form.fields["ordering"] = form.fields.pop("ordering")  # last, after the filters
    form.fields["ordering"].widget.choices = ORDERING_CHOICES
    # The form is validated already, so its bound fields exist: relabel those.
    form["q"].help_text = _("Words from the offer's or need's title")
    form["min_score"].help_text = ""
    if streams is not None:
        form.fields.pop("company", None)
        form.fields["stream"].widget = forms.Select(
            choices=[("", _("All your streams")), *((str(s.pk), s.title) for s in streams)]
        )
        form["stream"].label = _("Your stream")


class MatchPagesView(FilteredListView):
    """A list of matches: the FilterSet of `/api/v1/matches/`, paged by `match_pages`, each row as the
    viewer may see it."""

    primary_filters = PRIMARY_FILTERS
    partial_template_name = "matching/_match_results.html"

    def get_pages(self, queryset):
        return match_pages(queryset, user=self.request.user, filterset=self.filterset)

    def adjust_filter_form(self, form) -> None:
        adjust_filter_form(form)

    def get_rows(self, objects):
        return [present_match(m, user=self.request.user) for m in objects]


class MatchListView(MatchPagesView):
    """"Suggested partners". A company member sees each of their streams with its best matches (not
    paged); a facilitator or staff member a flat list of the matches in their regions."""

    template_name = "matching/match_list.html"
    selector = match_list

    @cached_property
    def grouped(self) -> bool:
        roles = roles_for(self.request.user)
        return bool(roles.company_ids) and not (roles.is_staff or roles.is_facilitator)

    def select(self):
        if not self.grouped:
            return super().select()
        self.groups = partner_groups(user=self.request.user, filters=self.request.GET)
        return self.groups.filterset

    def get_paginate_by(self, queryset):
        return None if self.grouped else self.paginate_by

    def adjust_filter_form(self, form) -> None:
        adjust_filter_form(form, streams=self.groups.streams if self.grouped else None)

    def get_rows(self, objects):
        return None if self.grouped else super().get_rows(objects)

    def get_context_data(self, **kwargs):
        if not self.grouped:
            return super().get_context_data(grouped=False, **kwargs)
        result, user = self.groups, self.request.user
        redundancy = stream_redundancy(g.stream.pk for g in result.groups if g.stream is not None)
        for g in result.groups:
            g.redundancy = redundancy.get(g.stream.pk) if g.stream is not None else None
        groups = [(g, [present_match(m, user=user) for m in g.matches]) for g in result.groups]
        return super().get_context_data(grouped=True, groups=groups, **kwargs)


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


class RunListView(FilteredListView):
    """Matching runs the user may follow, and "Run matching now" for facilitators and staff."""

    template_name = "matching/run_list.html"
    selector = run_list
    ids_first = False

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
