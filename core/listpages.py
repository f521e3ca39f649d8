"""The list-page idiom: one paginated list from an app's selector, its filter form, and the results
partial for htmx. Every list page of the apps is a `FilteredListView` configured by attributes."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.generic import ListView

from core.forms import freeze_choices, label_empty_choices
from core.pagination import IdsFirst

PAGE_SIZE = 25


def wants_partial(request) -> bool:
    """An htmx request that swaps only the results (not a boosted page or a history restore)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def filter_context(filterset, request, *, primary_filters=(), adjust=None) -> dict:
    """The FilterSet's form ready to render without queries ("Any" for no choice, `q` a search box),
    after `adjust(form)`; whether a filter beyond `primary_filters` is set (the page opens "More filters")."""
    form = label_empty_choices(freeze_choices(filterset.form), _("Any"))
    if "q" in form.fields:
        form.fields["q"].widget.input_type = "search"
    if adjust is not None:
        adjust(form)
    more_active = any(
        request.GET.get(name) not in (None, "", "unknown") for name in form.fields if name not in primary_filters
    )
    return {"filter_form": form, "primary_filters": primary_filters, "more_filters_active": more_active}


class FilteredListView(LoginRequiredMixin, ListView):
    """A paginated list page. Configured by attributes:

    - `selector`: the app's selector, called as `selector(user=..., filters=request.GET)`; it returns a
      FilterSet (the page shows its form) or a queryset (a list without a filter form). A page whose
      selector takes other arguments overrides `select()`.
    - `template_name`, and `partial_template_name`: what an htmx request that swaps only the results
      gets ("" for none: the whole page).
    - `paginate_by` (None: not paged), `primary_filters` (shown before "More filters").
    - `ids_first`: page through `IdsFirst` (ids and count in one query, then the page's rows) rather
      than a plain COUNT and slice.

    Hooks: `get_pages(queryset)` wraps the rows for the paginator (a selector's own pager),
    `adjust_filter_form(form)` and `get_rows(objects)` (the page's rows as the template shows them,
    as context `rows`). A page number beyond the last shows the last page, anything else not a number
    the first (`Paginator.get_page`)."""

    selector = None
    paginate_by = PAGE_SIZE
    partial_template_name = ""
    primary_filters: tuple[str, ...] = ()
    ids_first = True

    def select(self):
        return type(self).selector(user=self.request.user, filters=self.request.GET)

    def get_queryset(self):
        selected = self.select()
        self.filterset = None if isinstance(selected, QuerySet) else selected
        return selected if self.filterset is None else self.filterset.qs

    def get_template_names(self):
        if self.partial_template_name and wants_partial(self.request):
            return [self.partial_template_name]
        return [self.template_name]

    def get_pages(self, queryset):
        return IdsFirst(queryset) if self.ids_first else queryset

    def get_paginator(self, queryset, per_page, **kwargs):
        return super().get_paginator(self.get_pages(queryset), per_page, **kwargs)

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size, orphans=self.get_paginate_orphans(),
                                       allow_empty_first_page=self.get_allow_empty())
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def adjust_filter_form(self, form) -> None:
        pass

    def get_rows(self, objects):
        return None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.filterset is not None:
            context["filterset"] = self.filterset
            context.update(filter_context(self.filterset, self.request, primary_filters=self.primary_filters,
                                          adjust=self.adjust_filter_form))
        rows = self.get_rows(context["object_list"])
        if rows is not None:
            context["rows"] = rows
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if self.partial_template_name:
            patch_vary_headers(response, ("HX-Request",))
        return response
