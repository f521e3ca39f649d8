"""Side streams (offers and needs) and the shipped resource taxonomy they are classified by."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from companies.roles import roles_for
from streams.choices import (
    Availability,
    Direction,
    DisposalRoute,
    EnergyCarrier,
    Period,
    PhysicalForm,
    Provenance,
    RegulatoryStatus,
    StreamKind,
    StreamStatus,
    Visibility,
    WaterQuality,
)
from streams.months import ALL_MONTHS, months_from_mask
from streams.units import ALL_UNITS, BASE_UNIT, to_yearly_base, unit_fits_kind

SITE_OF_ANOTHER_COMPANY = _("The site belongs to another company.")


def site_errors(site, company_id: int) -> dict[str, str]:
    """A stream's site is one of its company's sites: the field error when `site` is not, else none.
    The model's `clean`, the services and the API's create all state the rule through this."""
    return {} if site.company_id == company_id else {"site": SITE_OF_ANOTHER_COMPANY}


def check_site(site, company_id: int) -> None:
    """Raise the field error of `site_errors`, if any."""
    if errors := site_errors(site, company_id):
        raise ValidationError(errors)

# The stream input contract: the fields a person sets on a stream, as `stream_create` / `stream_update`
# take them (besides site, category, EWC codes and the offer's hazard flag). The page form
# (streams/forms.py) and the API's write serializer take their fields from here and their rules from
# the model; the sheet's stream columns are these fields under the names in
# streams/importing/format.py (`_STREAM_FIELD_COLUMN`).
STREAM_FIELDS = (
    "external_ref", "direction", "kind", "title", "description", "quantity", "unit", "period",
    "quantity_min", "quantity_max", "availability", "months", "energy_carrier", "temperature_c",
    "water_quality", "physical_form", "composition", "contaminants", "provenance", "regulatory_status",
    "accepts_hazardous", "price_eur_per_unit", "disposal_route", "disposal_cost_eur_per_unit",
    "max_transport_km", "valid_from", "valid_until", "visibility",
)


class ResourceCategory(models.Model):
    """A node of the resource taxonomy, e.g. MAT.WOOD.SAWDUST "Sawdust and wood shavings"."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    kind = models.CharField(_("kind"), max_length=10, choices=StreamKind.choices)
    name = models.CharField(_("name"), max_length=160)
    description = models.TextField(_("description"), blank=True)
    value_class = models.CharField(_("value class"), max_length=24, blank=True)
    level = models.PositiveSmallIntegerField(default=0)
    is_leaf = models.BooleanField(default=True)

    class Meta:
        ordering = ("code",)
        verbose_name = _("resource category")
        verbose_name_plural = _("resource categories")

    def __str__(self) -> str:
        return self.name

    def ancestor_codes(self) -> tuple[str, ...]:
        """Codes of the parents, nearest first, derived from the dotted code."""
        parts = self.code.split(".")
        return tuple(".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1))


class EwcCode(models.Model):
    """An entry of the European List of Waste (EWC), e.g. 10 01 02 coal fly ash."""

    code = models.CharField(_("code"), max_length=6, unique=True, help_text=_("six digits, e.g. 100102"))
    description = models.CharField(_("description"), max_length=400)
    chapter_title = models.CharField(max_length=300)
    sub_chapter_title = models.CharField(max_length=300)
    is_hazardous = models.BooleanField(_("hazardous"), default=False)
    is_mirror = models.BooleanField(_("mirror entry"), default=False)
    entry_type = models.CharField(max_length=40)
    category = models.ForeignKey(ResourceCategory, on_delete=models.PROTECT, related_name="ewc_codes")

    class Meta:
        ordering = ("code",)
        verbose_name = _("EWC code")

    def __str__(self) -> str:
        return f"{self.display_code} {self.description}"

    @property
    def display_code(self) -> str:
        c = self.code
        return f"{c[:2]} {c[2:4]} {c[4:]}" + ("*" if self.is_hazardous else "")

    @property
    def chapter(self) -> str:
        return self.code[:2]

    @property
    def sub_chapter(self) -> str:
        return self.code[:4]


class SubstitutionRule(models.Model):
    """Offered category A can serve a need for category B, with a factor and a source."""

    offer_category = models.ForeignKey(ResourceCategory, on_delete=models.CASCADE, related_name="+")
    need_category = models.ForeignKey(ResourceCategory, on_delete=models.CASCADE, related_name="+")
    factor = models.FloatField(validators=[MinValueValidator(0.01), MaxValueValidator(1.0)])
    source = models.CharField(max_length=300)

    class Meta:
        ordering = ("offer_category__code", "need_category__code")
        constraints = [
            models.UniqueConstraint(fields=("offer_category", "need_category"), name="subst_unique_pair"),
            models.CheckConstraint(condition=Q(factor__gt=0, factor__lte=1), name="subst_factor_range"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_category.code} -> {self.need_category.code} ({self.factor})"


class StreamQuerySet(models.QuerySet):
    def visible_to(self, user) -> StreamQuerySet:
        """Listings `user` may see at all.

        Own company's streams in any status; facilitators: every stream at a site in their regions;
        staff: all; everyone signed in: other companies' active public and anonymous listings.
        Private listings are for the company, its facilitators and the engine only. A company that
        excludes one of the viewer's companies (competitor exclusion) hides its listings from them.
        """
        roles = roles_for(user)
        if not roles.authenticated:
            return self.none()
        if roles.is_staff:
            return self.all()
        listed = Q(status=StreamStatus.ACTIVE, visibility__in=(Visibility.PUBLIC, Visibility.ANONYMOUS))
        if roles.company_ids:
            # Competitor exclusion: listings of companies that exclude one of the viewer's companies
            # are hidden from them (one subquery, no extra round trip).
            from companies.models import CompetitorExclusion

            listed &= ~Q(company_id__in=CompetitorExclusion.objects.hiding_from(roles.company_ids))
        visible = Q(company_id__in=roles.company_ids) | listed
        if roles.facilitator_region_ids:  # (joins the site only when there is a region to test)
            visible |= Q(site__region_id__in=roles.facilitator_region_ids)
        return self.filter(visible)

    def editable_by(self, user) -> StreamQuerySet:
        roles = roles_for(user)
        if not roles.authenticated:
            return self.none()
        if roles.is_staff:
            return self.all()
        return self.filter(Q(company_id__in=roles.company_ids) | Q(site__region_id__in=roles.facilitator_region_ids))


class Stream(models.Model):
    """A side stream a company offers or needs at one site, e.g. 300 t/year of sawdust."""

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="streams")
    # Indexed by `stream_site_idx` (site, id): a region's stream ids come from the index alone.
    site = models.ForeignKey("companies.Site", on_delete=models.PROTECT, related_name="streams", db_index=False)
    external_ref = models.CharField(
        _("external reference"), max_length=64, null=True, blank=True, help_text=_("stream_ref of an import sheet")
    )
    direction = models.CharField(_("direction"), max_length=5, choices=Direction.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=StreamKind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        ResourceCategory, on_delete=models.PROTECT, related_name="streams", verbose_name=_("category")
    )
    ewc_codes = models.ManyToManyField(
        EwcCode, blank=True, related_name="streams", verbose_name=_("EWC codes"),
        help_text=_("An offer's List-of-Waste code; for a need, the codes you accept."),
    )
    # Quantity as entered, plus its yearly normalisation in the kind's base unit.
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=[(u, u) for u in ALL_UNITS])
    period = models.CharField(_("period"), max_length=6, choices=Period.choices, default=Period.YEAR)
    quantity_min = models.DecimalField(_("minimum"), max_digits=14, decimal_places=3, null=True, blank=True)
    quantity_max = models.DecimalField(_("maximum"), max_digits=14, decimal_places=3, null=True, blank=True)
    quantity_yearly = models.FloatField(_("yearly quantity (base unit)"), null=True, blank=True, editable=False)
    base_unit = models.CharField(max_length=8, editable=False, blank=True)
    availability = models.CharField(
        _("availability"), max_length=10, choices=Availability.choices, default=Availability.CONTINUOUS
    )
    months = models.PositiveSmallIntegerField(
        _("months"), default=ALL_MONTHS, help_text=_("12-bit mask, bit 0 = January"),
        validators=[MaxValueValidator(ALL_MONTHS)],
    )
    energy_carrier = models.CharField(_("energy carrier"), max_length=12, choices=EnergyCarrier.choices, blank=True)
    temperature_c = models.FloatField(
        _("temperature (°C)"), null=True, blank=True,
        validators=[MinValueValidator(-273.15), MaxValueValidator(2000)],
        help_text=_("Offer: supply temperature. Need: minimum temperature required."),
    )
    water_quality = models.PositiveSmallIntegerField(
        _("water quality"), choices=WaterQuality.choices, null=True, blank=True,
        help_text=_("Offer: quality supplied. Need: minimum quality accepted."),
    )
    physical_form = models.CharField(_("physical form"), max_length=10, choices=PhysicalForm.choices, blank=True)
    composition = models.TextField(_("composition"), blank=True)
    contaminants = models.TextField(_("contaminants"), blank=True)
    provenance = models.CharField(
        _("data provenance"), max_length=10, choices=Provenance.choices, default=Provenance.ESTIMATE
    )
    regulatory_status = models.CharField(
        _("regulatory status"), max_length=14, choices=RegulatoryStatus.choices, default=RegulatoryStatus.UNKNOWN
    )
    hazardous = models.BooleanField(_("hazardous"), default=False, help_text=_("Set from the EWC code."))
    accepts_hazardous = models.BooleanField(_("accepts hazardous waste"), default=False)
    price_eur_per_unit = models.DecimalField(
        _("price (EUR per unit)"), max_digits=12, decimal_places=2, null=True, blank=True,
        help_text=_("Negative means a gate fee: the provider pays the receiver."),
    )
    disposal_route = models.CharField(
        _("current disposal route"), max_length=16, choices=DisposalRoute.choices, blank=True
    )
    disposal_cost_eur_per_unit = models.DecimalField(
        _("disposal cost (EUR per unit)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    max_transport_km = models.FloatField(
        _("maximum transport distance (km)"), null=True, blank=True,
        validators=[MinValueValidator(0.1), MaxValueValidator(5000)],
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=StreamStatus.choices, default=StreamStatus.ACTIVE)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.ANONYMOUS
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entered_by_facilitator = models.BooleanField(_("entered by a facilitator"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=("updated_at",))
    objects = StreamQuerySet.as_manager()

    class Meta:
        ordering = ("-updated_at", "-pk")
        indexes = [
            models.Index(fields=("status", "visibility"), name="stream_status_vis_idx"),
            models.Index(fields=("kind", "direction", "status"), name="stream_kind_dir_status_idx"),
            models.Index(fields=("site", "id"), name="stream_site_idx"),
            # The companies that publish a listing (`Company.objects.visible_to`), from the index alone.
            models.Index(
                fields=("company",), condition=Q(status=StreamStatus.ACTIVE, visibility=Visibility.PUBLIC),
                name="stream_public_company_idx",
            ),
            # PostgreSQL also has trigram indexes for `q` (streams/migrations/0005), outside the model
            # state so that SQLite never sees them.
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("company", "external_ref"), name="stream_unique_company_ref",
                condition=Q(external_ref__isnull=False),
            ),
            models.CheckConstraint(condition=Q(quantity__isnull=True) | Q(quantity__gt=0), name="stream_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity_min__isnull=True) | Q(quantity_max__isnull=True) | Q(quantity_min__lte=models.F("quantity_max")),
                name="stream_min_lte_max",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True) | Q(valid_from__lte=models.F("valid_until")),
                name="stream_valid_range",
            ),
        ]

    # Check constraints whose rule clean() enforces in Python with the same message-friendly test:
    # full_clean() skips Django's one-query-per-constraint validation of them (the database still
    # enforces them on save). It made a third of the time of a 2,000-row import.
    CHECKED_IN_CLEAN = frozenset({"stream_quantity_gt_0", "stream_min_lte_max", "stream_valid_range"})

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("streams:stream_detail", args=[self.pk])

    def get_constraints(self):
        return [
            (model, [c for c in constraints if c.name not in self.CHECKED_IN_CLEAN])
            for model, constraints in super().get_constraints()
        ]

    @property
    def month_list(self) -> list[int]:
        return months_from_mask(self.months)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.unit and self.kind and not unit_fits_kind(self.unit, self.kind):
            errors["unit"] = _("“%(unit)s” is not a unit for %(kind)s streams.") % {
                "unit": self.unit, "kind": self.get_kind_display().lower(),
            }
        if self.category_id and self.kind and self.category.kind != self.kind:
            errors["category"] = _("This category is for %(kind)s streams.") % {"kind": self.category.get_kind_display().lower()}
        if self.site_id and self.company_id:
            errors.update(site_errors(self.site, self.company_id))
        if self.quantity is not None and self.quantity <= 0:
            errors["quantity"] = _("Quantity must be greater than zero.")
        for f in ("quantity_min", "quantity_max"):
            v = getattr(self, f)
            if v is not None and v < 0:
                errors[f] = _("Must not be negative.")
        if self.quantity_min is not None and self.quantity_max is not None and self.quantity_min > self.quantity_max:
            errors["quantity_max"] = _("The maximum is below the minimum.")
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            errors["valid_until"] = _("Ends before it starts.")
        if self.availability == Availability.SEASONAL and self.months in (0, ALL_MONTHS):
            errors["months"] = _("Choose the months in which a seasonal stream is available.")
        if errors:
            raise ValidationError(errors)
        self.normalise()

    def normalise(self) -> None:
        """Derive the yearly base quantity and unit from what was entered."""
        self.base_unit = BASE_UNIT.get(self.kind, "")
        if self.availability != Availability.SEASONAL and self.months == 0:
            self.months = ALL_MONTHS
        try:
            self.quantity_yearly = to_yearly_base(self.quantity, self.unit, self.period, self.kind)
        except ValueError:
            self.quantity_yearly = None


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class PendingImport(models.Model):
    """An uploaded workshop sheet from its preview to its commit, and the commit's outcome.

    The raw file is kept (at most IMPORT_MAX_BYTES), bound to the user who uploaded it and found by an
    unguessable token; the preview and the commit both parse and validate it again, so the commit
    writes exactly what the data says at that moment. The commit runs as a Celery task (status
    pending -> running -> done | failed); its progress is in the cache, its outcome in `result`. The
    file is dropped once imported; rows older than IMPORT_PENDING_HOURS are swept.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for commit")
        RUNNING = "running", _("importing")
        DONE = "done", _("imported")
        FAILED = "failed", _("refused")

    token = models.CharField(max_length=64, unique=True, default=_new_token, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(_("file name"), max_length=255)
    content = models.BinaryField(blank=True)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name = _("pending import")

    def __str__(self) -> str:
        return f"{self.filename} ({self.user})"

    def get_absolute_url(self) -> str:
        return reverse("streams:import_preview", args=[self.token])
