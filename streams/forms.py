"""The stream form of the pages. Validation only: the views pass `cleaned_data` to the services.

A first offer needs six required fields (direction, kind, title, category, quantity, unit; the
period defaults to per year and the site to the company's first site). Everything else is optional
and folded away, grouped with a sentence on how it improves the matches.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from streams.choices import Direction, StreamKind
from streams.ewc import split_ewc_codes
from streams.filtersets import ResourceCategoryFilterSet
from streams.models import STREAM_FIELDS, ResourceCategory, Stream
from streams.months import ALL_MONTHS, mask_from_months
from streams.units import UNITS, units_for_kind

MONTH_CHOICES = [(number, name) for number, name in MONTHS.items()]
KIND_LABELS = dict(StreamKind.choices)


def grouped_units() -> list:
    """Every unit, grouped by kind: the choice list when the kind is not known yet."""
    return [(KIND_LABELS[kind], units_for_kind(kind)) for kind in UNITS]


def unit_choices(kind: str | None) -> list:
    return units_for_kind(kind) if kind in UNITS else grouped_units()


def category_choices(categories, kind: str | None) -> list:
    """Options for the category select: flat for a known kind, grouped by kind otherwise."""
    if kind in KIND_LABELS:
        return [("", _("Choose a category")), *((c.pk, c.name) for c in categories)]
    groups: dict[str, list] = {}
    for c in categories:
        groups.setdefault(c.kind, []).append((c.pk, c.name))
    return [("", _("Choose a category")), *((KIND_LABELS.get(k, k), opts) for k, opts in groups.items())]


def category_queryset(kind: str | None = None, current_pk: int | None = None, query: str = ""):
    """Leaf categories (of `kind`, matching `query`), plus the one already chosen so it stays selectable."""
    data = {"leaf": "true"}
    if kind in KIND_LABELS:
        data["kind"] = kind
    if query:
        data["q"] = query
    matching = ResourceCategoryFilterSet(data, queryset=ResourceCategory.objects.all()).qs
    cond = Q(pk__in=matching.values("pk"))
    if current_pk:
        cond |= Q(pk=current_pk, kind=kind) if kind in KIND_LABELS else Q(pk=current_pk)
    return ResourceCategory.objects.filter(cond).order_by("kind", "name")


# Fields of the stream input contract that the page does not offer.
PAGE_OMITS = ("external_ref",)

# Fields that always carry a value (the model's default): shown prefilled, never required.
DEFAULTED_FIELDS = ("period", "visibility", "availability", "provenance", "regulatory_status")


@dataclass
class FieldGroup:
    """Optional fields shown together, with why they help and the kinds they apply to."""

    title: str
    why: str
    names: tuple[str, ...]
    kinds: str = ""  # space-separated StreamKind values; empty = every kind
    fields: list | None = None


ADVANCED_GROUPS = (
    FieldGroup(
        _("Description"),
        _("A few words on where the stream comes from and what it could be used for help facilitators "
          "and partners recognise it."),
        ("description",),
    ),
    FieldGroup(
        _("When and how much"),
        _("Matches are scored on how well availability overlaps over the year and how much of a need you "
          "can cover; a minimum and maximum let smaller partners match too."),
        ("availability", "months", "quantity_min", "quantity_max"),
    ),
    FieldGroup(
        _("Waste code and handling"),
        _("An EWC (List of Waste) code gives exact matches with partners who accept that code and flags "
          "hazardous waste; the physical form rules out partners who cannot handle it."),
        ("ewc_codes", "physical_form", "accepts_hazardous"),
        kinds="material",
    ),
    FieldGroup(
        _("Composition"),
        _("Receivers screen by contents and contaminant limits, and lab data ranks above estimates. "
          "Hidden from other companies until you both agree to an introduction."),
        ("composition", "contaminants", "provenance"),
        kinds="material water",
    ),
    FieldGroup(
        _("Energy and temperature"),
        _("Heat is useful only at or above the temperature a need requires, and the carrier decides "
          "whether the equipment fits."),
        ("energy_carrier", "temperature_c"),
        kinds="energy water",
    ),
    FieldGroup(
        _("Water quality"),
        _("Water is matched only with needs that accept its quality class."),
        ("water_quality",),
        kinds="water",
    ),
    FieldGroup(
        _("Money"),
        _("Price and today's disposal cost let us estimate the savings for both sides. Never shown to "
          "other companies."),
        ("price_eur_per_unit", "disposal_route", "disposal_cost_eur_per_unit"),
    ),
    FieldGroup(
        _("Rules and reach"),
        _("The regulatory status flags permits to check early (we flag, we never rule); a maximum "
          "distance replaces the default radius for this kind; validity dates keep matches current."),
        ("regulatory_status", "max_transport_km", "valid_from", "valid_until"),
    ),
)


class StreamForm(forms.ModelForm):
    """Validates an offer or need. `sites` are the sites the user may list for (from a selector)."""

    required_css_class = "required"
    error_css_class = "has-error"

    site = forms.ModelChoiceField(
        queryset=None,
        label=_("Company and site"),
        empty_label=None,
        help_text=_("Where the stream arises or is needed; distances are measured from here."),
    )
    unit = forms.ChoiceField(label=_("Unit"))
    ewc_codes = forms.CharField(
        label=_("EWC codes"),
        required=False,
        max_length=500,
        help_text=_("Six-digit codes separated by semicolons, e.g. “10 01 02; 10 01 05”. "
                    "For a need: the codes you accept."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    months = forms.TypedMultipleChoiceField(
        label=_("Months available"),
        choices=MONTH_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For seasonal streams; leave empty for all year."),
    )

    class Meta:
        model = Stream
        # The stream input contract (streams.models.STREAM_FIELDS) with the category; the import's
        # key (external_ref) is not edited on the page.
        fields = ("category", *(name for name in STREAM_FIELDS if name not in PAGE_OMITS))
        labels = {
            "direction": _("Do you offer it or need it?"),
            "kind": _("What kind of resource?"),
            "title": _("Short title"),
            "category": _("Category"),
            "quantity": _("Quantity"),
            "period": _("Per"),
            "visibility": _("Who may see the listing?"),
        }
        help_texts = {
            "title": _("e.g. “Sawdust from planing” or “Low-temperature heat, 40 °C”."),
            "quantity": _("Your best estimate is fine."),
            "quantity_min": _("Smallest amount per period."),
            "quantity_max": _("Largest amount per period."),
            "max_transport_km": _("Leave empty for the usual distance for this kind."),
        }
        widgets = {
            "direction": forms.RadioSelect,
            "kind": forms.RadioSelect,
            "visibility": forms.RadioSelect,
            "title": forms.TextInput(attrs={"autocomplete": "off"}),
            "description": forms.Textarea(attrs={"rows": 3}),
            "composition": forms.Textarea(attrs={"rows": 3}),
            "contaminants": forms.Textarea(attrs={"rows": 2}),
            "quantity": forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
            "quantity_min": forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
            "quantity_max": forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
            "temperature_c": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            "price_eur_per_unit": forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
            "disposal_cost_eur_per_unit": forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
            "max_transport_km": forms.NumberInput(attrs={"step": "any", "min": "0.1", "inputmode": "decimal"}),
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"].required = True
        # Prefilled choices need no typing: not marked as required, and an omitted one takes its default.
        for name in DEFAULTED_FIELDS:
            self.fields[name].required = False
        for name in ("physical_form", "energy_carrier", "water_quality"):
            field = self.fields[name]
            field.choices = [("", _("Not specified")), *(c for c in field.choices if c[0] != "")]
        # Radio buttons need no "---------" entry.
        self.fields["direction"].choices = Direction.choices
        self.fields["kind"].choices = StreamKind.choices

        site_field = self.fields["site"]
        site_field.queryset = sites
        site_field.choices = list(iter(site_field.choices))
        # Left empty, the site defaults to the stream's own or the first one offered.
        site_field.required = False
        if len(site_field.choices) == 1:
            site_field.widget = forms.HiddenInput()
            self.only_site_label = site_field.choices[0][1]
            self.initial.setdefault("site", site_field.choices[0][0].value)
        else:
            self.only_site_label = ""
            if site_field.choices:
                self.initial.setdefault("site", site_field.choices[0][0].value)
        if self.instance.pk:
            self.initial["site"] = self.instance.site_id

        kind = self.current_kind()
        unit_field = self.fields["unit"]
        # Any unit passes the field; the model's clean() says which units fit the chosen kind.
        unit_field.choices = grouped_units()
        unit_field.widget.choices = unit_choices(kind)
        unit_field.widget.attrs.update({
            "hx-get": reverse_lazy("streams:unit_options"),
            "hx-trigger": "change from:[name=kind]",
            "hx-include": "[name=kind]",
            "hx-swap": "innerHTML",
        })

        category_field = self.fields["category"]
        category_field.queryset = ResourceCategory.objects.all()
        category_field.choices = category_choices(
            list(category_queryset(kind, self.instance.category_id)), kind
        )
        category_field.widget.attrs.update({
            "hx-get": reverse_lazy("streams:category_options"),
            "hx-trigger": "change from:[name=kind], input changed delay:300ms from:#category-search, "
                          "search from:#category-search",
            "hx-include": "[name=kind], #category-search",
            "hx-swap": "innerHTML",
        })

        if self.instance.pk and not self.is_bound:
            self.initial["ewc_codes"] = "; ".join(e.display_code.rstrip("*") for e in self.instance.ewc_codes.all())
            months = self.instance.months
            self.initial["months"] = [] if months == ALL_MONTHS else self.instance.month_list

    def current_kind(self) -> str | None:
        """The kind the user has chosen so far: submitted, stored or initial."""
        if self.is_bound:
            kind = self.data.get(self.add_prefix("kind"))
        else:
            kind = self.initial.get("kind") or self.instance.kind
        return kind if kind in KIND_LABELS else None

    @property
    def essential_fields(self):
        return [self[name] for name in ("title", "category")]

    @property
    def quantity_fields(self):
        return [self[name] for name in ("quantity", "unit", "period")]

    @property
    def advanced_groups(self) -> list[FieldGroup]:
        return [
            FieldGroup(g.title, g.why, g.names, g.kinds, [self[name] for name in g.names])
            for g in ADVANCED_GROUPS
        ]

    @property
    def advanced_has_errors(self) -> bool:
        return any(self.errors.get(name) for group in ADVANCED_GROUPS for name in group.names)

    def clean(self):
        cleaned = super().clean()
        for name in DEFAULTED_FIELDS:
            if not cleaned.get(name) and name not in self.errors:
                cleaned[name] = Stream._meta.get_field(name).get_default()
        return cleaned

    def clean_site(self):
        site = self.cleaned_data.get("site")
        if site is None:
            site = self.instance.site if self.instance.pk else self.fields["site"].queryset.first()
        if site is None:
            raise forms.ValidationError(_("Choose the site of the stream."), code="required")
        return site

    def clean_ewc_codes(self) -> list[str]:
        return split_ewc_codes(self.cleaned_data.get("ewc_codes"))

    def clean_months(self) -> int:
        return mask_from_months(self.cleaned_data.get("months"))

    def service_data(self) -> dict:
        """Keyword arguments for `stream_create` / `stream_update`."""
        data = {k: v for k, v in self.cleaned_data.items() if k in STREAM_FIELDS or k == "category"}
        data["site"] = self.cleaned_data["site"]
        data["ewc_codes"] = self.cleaned_data.get("ewc_codes", [])
        return data


class ImportUploadForm(forms.Form):
    """The workshop sheet. Its content decides what it is (streams.importing sniffs and checks it)."""

    sheet = forms.FileField(
        label=_("Sheet (.xlsx or .csv)"),
        help_text=_("Excel 2007 or later, or CSV in UTF-8. Start from the template."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm,.csv,text/csv,"
                                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
    )
