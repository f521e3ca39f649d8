"""Pages for browsing listings, the user's own streams, the stream form, detail and status changes.

Adapters only: parse input, call a selector or service, render. Not visible is a 404
(`get_object_or_404` over the visible queryset); visible but not editable is a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.dates import MONTHS
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from audit.services import get_visible_or_404
from companies.permissions import can_act_for_company
from companies.roles import roles_for
from companies.selectors import site_list, viewer_origin
from core.forms import apply_service_errors
from core.listpages import FilteredListView
from core.pages import PageExtensions
from streams.choices import StreamStatus
from streams.forms import StreamForm, category_choices, category_queryset, unit_choices
from streams.models import Stream
from streams.months import ALL_MONTHS
from streams.permissions import can_edit_stream
from streams.presentation import present
from streams.selectors import my_stream_list, stream_list, stream_queryset
from streams.services import ALLOWED_STATUS_MOVES, stream_create, stream_set_status, stream_update
from streams.units import BASE_UNIT

HISTORY_LIMIT = 20
BROWSE_PRIMARY_FILTERS = ("q", "direction", "kind", "region")
MINE_PRIMARY_FILTERS = ("q", "status", "direction", "kind")

# What higher apps show on a stream's page (matching: its links and the redundancy panel), as
# `action_panels` (inside the owner's actions) and `panels` (below them); providers get `stream`
# and `may_edit`.
stream_detail_page = PageExtensions("streams:stream_detail")


def move_label(old: str, new: str) -> str:
    """The button text for moving a stream from status `old` to `new`."""
    if new == StreamStatus.ACTIVE:
        return {
            StreamStatus.DRAFT: _("Publish"),
            StreamStatus.PAUSED: _("Resume"),
            StreamStatus.CLOSED: _("Reopen"),
        }.get(old, _("Activate"))
    return {StreamStatus.PAUSED: _("Pause"), StreamStatus.CLOSED: _("Close")}.get(new, new)


def status_moves(stream: Stream) -> list[tuple[str, str]]:
    """(status, button label) for every move the stream may make, in a stable order."""
    order = (StreamStatus.ACTIVE, StreamStatus.PAUSED, StreamStatus.CLOSED)
    allowed = ALLOWED_STATUS_MOVES.get(stream.status, set())
    return [(s.value, move_label(stream.status, s)) for s in order if s in allowed]


def option_groups(choices) -> list[tuple[str | None, list[tuple[str, str]]]]:
    """Normalise flat or grouped choices to [(group label or None, [(value, label)])] for templates."""
    groups: list[tuple[str | None, list[tuple[str, str]]]] = []
    for value, label in choices:
        if isinstance(label, list | tuple):
            groups.append((str(value), [(str(v), str(lab)) for v, lab in label]))
        else:
            if not groups or groups[-1][0] is not None:
                groups.append((None, []))
            groups[-1][1].append((str(value), str(label)))
    return groups


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


class StreamListView(FilteredListView):
    """Browse listings: the same selector and FilterSet as `/api/v1/streams/`."""

    template_name = "streams/stream_list.html"
    partial_template_name = "streams/_stream_table.html"
    primary_filters = BROWSE_PRIMARY_FILTERS
    selector = stream_list

    def get_rows(self, objects):
        origin = viewer_origin(self.request.user)
        return [present(s, user=self.request.user, origin=origin) for s in objects]


class MyStreamsView(FilteredListView):
    """The streams of the user's own companies, every status, with their status buttons."""

    template_name = "streams/stream_mine.html"
    partial_template_name = "streams/_stream_mine_table.html"
    primary_filters = MINE_PRIMARY_FILTERS
    selector = my_stream_list

    def get_rows(self, objects):
        return [(s, status_moves(s)) for s in objects]

    def get_context_data(self, **kwargs):
        return super().get_context_data(has_company=bool(roles_for(self.request.user).company_ids), **kwargs)


class StreamDetailView(LoginRequiredMixin, View):
    template_name = "streams/stream_detail.html"

    def get(self, request, pk):
        stream = get_visible_or_404(stream_queryset(user=request.user), pk=pk)
        may_edit = can_edit_stream(request.user, stream)
        return render(request, self.template_name, {
            "stream": stream,
            "view": present(stream, user=request.user, origin=viewer_origin(request.user)),
            "ewc_codes": list(stream.ewc_codes.all()),
            "months": [MONTHS[m] for m in stream.month_list] if stream.months != ALL_MONTHS else [],
            "may_edit": may_edit,
            "moves": status_moves(stream) if may_edit else [],
            "history": stream_history(stream) if may_edit else [],
            **stream_detail_page.context(request, stream=stream, may_edit=may_edit),
        })


def stream_history(stream: Stream) -> list[dict]:
    """The latest changes of a stream, newest first, with the fields each one changed."""
    records = list(stream.history.select_related("history_user").order_by("-history_date", "-history_id")
                   [: HISTORY_LIMIT + 1])
    kinds = {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}
    rows = []
    for i, record in enumerate(records[:HISTORY_LIMIT]):
        older = records[i + 1] if i + 1 < len(records) else None
        fields = []
        if older is not None:
            for change in record.diff_against(older).changes:
                fields.append(str(Stream._meta.get_field(change.field).verbose_name))
        rows.append({
            "date": record.history_date,
            "user": record.history_user,
            "what": kinds.get(record.history_type, record.history_type),
            "fields": fields,
        })
    return rows


class StreamFormView(LoginRequiredMixin, View):
    template_name = "streams/stream_form.html"

    def render_form(self, form, stream=None):
        return render(self.request, self.template_name, {"form": form, "stream": stream})


class StreamCreateView(StreamFormView):
    """List a new offer or need for a site the user may act for."""

    def sites(self):
        return site_list(user=self.request.user).order_by("company__name", "company_id", "pk")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.sites().exists():
            if roles_for(request.user).company_ids:
                messages.info(request, _("Add a site to your company first: streams belong to a site."))
            else:
                messages.info(request, _("Register your company and its first site before listing streams."))
            return redirect("companies:company_onboard")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        initial = {k: request.GET[k] for k in ("direction", "kind") if k in request.GET}
        return self.render_form(StreamForm(sites=self.sites(), initial=initial))

    def post(self, request):
        form = StreamForm(request.POST, sites=self.sites())
        if form.is_valid():
            data = form.service_data()
            site = data.pop("site")
            if not can_act_for_company(request.user, site.company):
                raise PermissionDenied(_("You cannot list streams for this company."))
            try:
                stream = stream_create(company=site.company, site=site, actor=request.user, **data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Your listing is saved. Matches will appear as partners are found."))
                return redirect(stream)
        return self.render_form(form)


class StreamEditView(StreamFormView):
    def get_stream(self, pk) -> Stream:
        stream = get_visible_or_404(stream_queryset(user=self.request.user), pk=pk)
        if not can_edit_stream(self.request.user, stream):
            raise PermissionDenied(_("You can see this stream but not change it."))
        return stream

    def sites(self, stream):
        return site_list(user=self.request.user, filters={"company": stream.company_id})

    def get(self, request, pk):
        stream = self.get_stream(pk)
        return self.render_form(StreamForm(instance=stream, sites=self.sites(stream)), stream)

    def post(self, request, pk):
        stream = self.get_stream(pk)
        form = StreamForm(request.POST, instance=stream, sites=self.sites(stream))
        if form.is_valid():
            try:
                stream_update(stream=stream, actor=request.user, **form.service_data())
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect(stream)
        return self.render_form(form, stream)


class StreamStatusView(LoginRequiredMixin, View):
    """Publish, pause, close or reopen a stream (POST only)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        stream = get_visible_or_404(stream_queryset(user=request.user), pk=pk)
        if not can_edit_stream(request.user, stream):
            raise PermissionDenied(_("You can see this stream but not change it."))
        try:
            stream = stream_set_status(stream=stream, actor=request.user, status=request.POST.get("status", ""))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("“%(title)s” is now %(status)s.") % {
                "title": stream.title, "status": stream.get_status_display().lower(),
            })
        return redirect(safe_next(request, stream.get_absolute_url()))


class UnitOptionsView(LoginRequiredMixin, View):
    """`<option>`s of the unit select for the chosen kind (htmx)."""

    def get(self, request):
        kind = request.GET.get("kind") or None
        choices = unit_choices(kind)
        selected = request.GET.get("unit", "")
        if kind in BASE_UNIT and selected not in dict(choices):
            selected = BASE_UNIT[kind]
        return render(request, "streams/_select_options.html", {
            "groups": option_groups(choices), "selected": selected, "empty": "",
        })


class CategoryOptionsView(LoginRequiredMixin, View):
    """`<option>`s of the category select for the chosen kind and search words (htmx)."""

    no_match = gettext_lazy("No category matches; try another word")

    def get(self, request):
        kind = request.GET.get("kind") or None
        query = request.GET.get("category_q", "").strip()
        current = request.GET.get("category", "")
        current_pk = int(current) if current.isdigit() else None
        categories = list(category_queryset(kind, current_pk, query))
        return render(request, "streams/_select_options.html", {
            "groups": option_groups(category_choices(categories, kind)),
            "selected": current,
            "empty": self.no_match if not categories else "",
        })
