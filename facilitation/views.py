"""Facilitation pages: the match page with its facilitation part, the review queue with bulk moves,
the pipeline board, moves of one match, private notes, the message thread (htmx), recording a
realised exchange, notifications and the rejection penalties. A match the user may not see is a
404; a move they may not make is a 403 (or a page message when the match's state forbids it)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from audit.services import get_visible_or_404
from core.listpages import FilteredListView, wants_partial
from facilitation import selectors as sel
from facilitation.forms import (
    BulkTransitionForm,
    MessageForm,
    NoteForm,
    RealisedForm,
    TransitionForm,
)
from facilitation.penalties import (
    PENALISING_REASONS,
    REJECTION_PENALTY_FACTOR,
    REJECTION_PENALTY_THRESHOLD,
    rejection_penalty_rules,
)
from facilitation.services import (
    STAFF_ROLES,
    match_bulk_transition,
    match_message_create,
    match_note_create,
    realised_exchange_record,
)
from facilitation.transitions import NotPermitted, TransitionError, match_transition
from matching.choices import MatchAction
from matching.moves import actor_role, allowed_actions
from matching.presentation import present_match
from matching.selectors import match_queryset
from matching.views import MatchDetailView as MatchPageView
from matching.views import MatchPagesView, filter_form_context

QUEUE_PAGE_SIZE = 50


def _visible_match(request, pk):
    return get_visible_or_404(match_queryset(user=request.user), pk=pk)


def _require_facilitator(user):
    if not sel.may_facilitate(user):
        raise PermissionDenied(_("Only facilitators and staff work the review queue."))


def _form_errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def detail_context(user, match) -> dict:
    """What the match page adds for facilitation: moves, timeline, notes, thread, flags."""
    role = actor_role(user, match)
    return {
        "actions": [(a, MatchAction(a).label) for a in allowed_actions(user, match)],
        "transition_form": TransitionForm(),
        "role": role,
        "timeline": sel.match_timeline(user=user, match=match),
        "notes": sel.match_notes(user=user, match=match),
        "note_form": NoteForm(),
        "thread": sel.match_thread(user=user, match=match),
        "message_form": MessageForm(),
        "flags": sel.regulatory_flags(match),
        "may_record": role in STAFF_ROLES and match.revealed,
    }


class MatchDetailView(MatchPageView):
    """The match page with what facilitation adds: moves, timeline, notes, thread, flags."""

    template_name = "facilitation/match_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("realised")

    def get_context_data(self, match) -> dict:
        return {**super().get_context_data(match), **detail_context(self.request.user, match)}


class ReviewQueueView(MatchPagesView):
    """Suggested matches in the facilitator's regions, filtered like `/api/v1/matches/`, with bulk
    moves. Without a query string it opens on the matches waiting for review."""

    template_name = "facilitation/review_queue.html"
    partial_template_name = "facilitation/_queue_results.html"
    selector = sel.review_queue
    paginate_by = QUEUE_PAGE_SIZE

    def get(self, request, *args, **kwargs):
        _require_facilitator(request.user)
        if not request.GET:
            query = "&".join(f"status={s}" for s in sel.QUEUE_DEFAULT_STATUSES)
            return HttpResponseRedirect(f"{reverse('matching:review_queue')}?{query}")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(bulk_form=BulkTransitionForm(), query=self.request.GET.urlencode(), **kwargs)


class QueueBulkView(LoginRequiredMixin, View):
    """One move on the selected matches; each is checked and moved on its own."""

    http_method_names = ["post"]

    def post(self, request):
        _require_facilitator(request.user)
        posted = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
        visible = list(sel.review_queue(user=request.user).qs.filter(pk__in=posted).values_list("pk", flat=True))
        # Ids of matches the user cannot see are dropped silently, as if they did not exist.
        data = request.POST.copy()
        data.setlist("ids", [str(pk) for pk in visible])
        form = BulkTransitionForm(data, match_ids=visible)
        back = f"{reverse('matching:review_queue')}?{request.POST.get('query', '')}"
        if not form.is_valid():
            messages.error(request, _form_errors(form) or _("Select at least one match."))
            return redirect(back)
        data = form.cleaned_data
        result = match_bulk_transition(match_ids=data["ids"], actor=request.user, action=data["action"],
                                       reason_code=data["reason_code"], comment=data["comment"])
        if result.done:
            messages.success(request, _("%(n)s matches moved.") % {"n": len(result.done)})
        for pk, why in result.refused:
            messages.error(request, _("Match #%(pk)s: %(why)s") % {"pk": pk, "why": why})
        return redirect(back)


class PipelineView(LoginRequiredMixin, View):
    """Cards per status from review to implemented, for the facilitator's regions."""

    def get(self, request):
        _require_facilitator(request.user)
        filterset, columns = sel.pipeline_board(user=request.user, filters=request.GET)
        query = request.GET.copy()
        query.pop("status", None)
        query.pop("page", None)
        context = {
            "columns": [(c, [present_match(m, user=request.user) for m in c.matches]) for c in columns],
            "query": query.urlencode(),
            **filter_form_context(filterset, request),
        }
        return render(request, "facilitation/pipeline.html", context)


class MatchTransitionView(LoginRequiredMixin, View):
    """A move of one match from its page (buttons of `allowed_actions`)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        match = _visible_match(request, pk)
        form = TransitionForm(request.POST)
        if not form.is_valid():
            messages.error(request, _form_errors(form))
            return redirect(match)
        try:
            match_transition(match_id=match.pk, actor=request.user, **form.cleaned_data)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        except TransitionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Done: %(action)s.") % {"action": dict(form.fields["action"].choices)[
                form.cleaned_data["action"]]})
        return redirect(match)


class MatchNoteCreateView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        match = _visible_match(request, pk)
        form = NoteForm(request.POST)
        if not form.is_valid():
            messages.error(request, _form_errors(form))
            return redirect(match)
        try:
            match_note_create(match=match, author=request.user, text=form.cleaned_data["text"])
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        messages.success(request, _("Note saved."))
        return redirect(match)


class MatchThreadView(LoginRequiredMixin, View):
    """The message thread: GET renders it (htmx polls this), POST adds a message and re-renders."""

    template_name = "facilitation/_thread.html"

    def _thread(self, request, match):
        thread = sel.match_thread(user=request.user, match=match)
        if thread is None:
            raise PermissionDenied(_("Messages open once both companies have accepted the introduction."))
        return thread

    def get(self, request, pk):
        match = _visible_match(request, pk)
        return render(request, self.template_name, {"match": match, "thread": self._thread(request, match),
                                                    "message_form": MessageForm()})

    def post(self, request, pk):
        match = _visible_match(request, pk)
        self._thread(request, match)
        form = MessageForm(request.POST)
        if form.is_valid():
            match_message_create(match=match, author=request.user, text=form.cleaned_data["text"])
            form = MessageForm()
        if not wants_partial(request):
            if form.errors:
                messages.error(request, _form_errors(form))
            return redirect(match)
        return render(request, self.template_name, {"match": match, "thread": self._thread(request, match),
                                                    "message_form": form})


class RealisedRecordView(LoginRequiredMixin, View):
    """Record the exchange as implemented, with its start date and real yearly quantity."""

    template_name = "facilitation/realised_form.html"

    def _match(self, request, pk):
        match = _visible_match(request, pk)
        if actor_role(request.user, match) not in STAFF_ROLES:
            raise PermissionDenied(_("Only facilitators of this match's region can record an exchange."))
        return match

    def get(self, request, pk):
        match = self._match(request, pk)
        realised = getattr(match, "realised", None)
        initial = {"started_on": timezone.localdate(), "quantity_yearly": round(match.exchangeable_yearly, 1) or None}
        if realised is not None:
            initial = {"started_on": realised.started_on, "quantity_yearly": realised.quantity_yearly,
                       "note": realised.note}
        return render(request, self.template_name, {"match": match, "form": RealisedForm(initial=initial),
                                                    "view": present_match(match, user=request.user)})

    def post(self, request, pk):
        match = self._match(request, pk)
        form = RealisedForm(request.POST)
        if form.is_valid():
            try:
                realised_exchange_record(match_id=match.pk, actor=request.user, **form.cleaned_data)
            except TransitionError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("The exchange is recorded as implemented."))
                return redirect(match)
        return render(request, self.template_name, {"match": match, "form": form,
                                                    "view": present_match(match, user=request.user)}, status=400)


class NotificationListView(FilteredListView):
    template_name = "facilitation/notification_list.html"
    paginate_by = QUEUE_PAGE_SIZE
    ids_first = False

    def select(self):
        return sel.notification_list(user=self.request.user)


class PenaltyListView(LoginRequiredMixin, View):
    """Staff: the category pairs scored down because facilitators keep rejecting them, and why."""

    def get(self, request):
        if not request.user.is_staff:
            raise PermissionDenied(_("Only staff see the rejection penalties."))
        return render(request, "facilitation/penalty_list.html", {
            "rules": rejection_penalty_rules(), "threshold": REJECTION_PENALTY_THRESHOLD,
            "factor": REJECTION_PENALTY_FACTOR, "reasons": [str(r.label) for r in PENALISING_REASONS],
        })
