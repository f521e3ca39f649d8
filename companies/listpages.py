"""The list-page idiom: a paginated list from a selector that returns a FilterSet, its filter form, and
the results partial for htmx."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.generic import ListView

from companies.forms import freeze_choices, label_empty_choices
from symbiosis.pagination import IdsFirst

PAGE_SIZE = 25


def wants_partial(request) -> bool:
    """An htmx request that swaps only the results (not a boosted page or a history restore)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


class FilteredListView(LoginRequiredMixin, ListView):
    """A paginated list from a selector that returns a FilterSet; htmx gets the results partial."""

    paginate_by = PAGE_SIZE
    partial_template_name = ""
    primary_filters: tuple[str, ...] = ()

    def get_filterset(self):
        raise NotImplementedError

    def get_queryset(self):
        self.filterset = self.get_filterset()
        return self.filterset.qs

    def get_template_names(self):
        return [self.partial_template_name] if wants_partial(self.request) else [self.template_name]

    def get_paginator(self, queryset, per_page, **kwargs):
        return super().get_paginator(IdsFirst(queryset), per_page, **kwargs)

    def get_context_data(self, **kwargs):
        form = label_empty_choices(freeze_choices(self.filterset.form), _("Any"))
        if "q" in form.fields:
            form.fields["q"].widget.input_type = "search"
        more_active = any(
            self.request.GET.get(name) not in (None, "", "unknown")
            for name in form.fields if name not in self.primary_filters
        )
        return super().get_context_data(
            filterset=self.filterset, filter_form=form, primary_filters=self.primary_filters,
            more_filters_active=more_active, **kwargs
        )

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        patch_vary_headers(response, ("HX-Request",))
        return response
