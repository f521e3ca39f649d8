"""Page forms for matching: the base form of the match filters (it carries the ordering choice) and
starting a run. Validation only: views hand `cleaned_data` to selectors and services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from matching.choices import RunKind

# Fields a list of matches may be ordered by, on pages and in the API (`?ordering=-score`).
MATCH_ORDERING_FIELDS = ("score", "distance_km", "created_at")
DEFAULT_MATCH_ORDERING = ("-score",)
ORDERING_CHOICES = (
    ("", _("Best score first")),
    ("score", _("Lowest score first")),
    ("distance_km", _("Nearest first")),
    ("-distance_km", _("Farthest first")),
    ("-created_at", _("Newest first")),
    ("created_at", _("Oldest first")),
)


def ordering_terms(value: str | None) -> list[str]:
    """`order_by` terms for an `ordering` parameter such as "-score,distance_km": unknown fields are
    dropped (as DRF's OrderingFilter does), the default is best score first, and the primary key breaks
    ties so that a page and the API list the same rows in the same order."""
    terms = []
    for raw in (value or "").split(","):
        term = raw.strip()
        if term.lstrip("-") in MATCH_ORDERING_FIELDS and term not in terms:
            terms.append(term)
    return [*(terms or DEFAULT_MATCH_ORDERING), "pk"]


class MatchFilterForm(forms.Form):
    """Base form of `MatchFilterSet`: the filters come from the FilterSet, the ordering from here."""

    ordering = forms.CharField(
        label=_("Order by"), required=False, max_length=100, widget=forms.Select(choices=ORDERING_CHOICES)
    )

    def clean_ordering(self) -> str:
        # Like DRF's OrderingFilter: ignore what cannot be ordered by instead of failing the request.
        terms = ordering_terms(self.cleaned_data.get("ordering"))[:-1]
        return ",".join(terms)


class RunStartForm(forms.Form):
    """"Run matching now": a full run, or one stream (by id) for a facilitator or staff member."""

    kind = forms.ChoiceField(label=_("What to match"), choices=RunKind.choices, initial=RunKind.FULL)
    stream = forms.IntegerField(label=_("Stream number"), required=False, min_value=1)

    def clean(self):
        data = super().clean()
        if data.get("kind") == RunKind.STREAM and not data.get("stream"):
            self.add_error("stream", _("Say which stream to match."))
        if data.get("kind") == RunKind.FULL:
            data["stream"] = None
        return data
