"""Companies, their sites and people, the regions they sit in, and the NACE classification."""

from __future__ import annotations

import functools
import operator
import unicodedata
from collections.abc import Callable

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.lookups import StartsWith
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from companies.choices import Country, MembershipRole, NaceRevision, RegionRoleKind
from companies.constants import SME_MAX_EMPLOYEES
from companies.roles import roles_for


def company_name_key(name: str) -> str:
    """A company name as exclusions compare it: NFKC, casefolded, whitespace collapsed, so that
    "Beta  Sawmill AB", "beta sawmill ab" and its full-width look-alike are one name."""
    return " ".join(unicodedata.normalize("NFKC", str(name)).casefold().split())


class Region(models.Model):
    """A NUTS 2 or 3 area: the scope of facilitators and authorities. Every site belongs to one."""

    code = models.CharField(_("code"), max_length=10, unique=True, help_text=_("NUTS code, e.g. SE224"))
    name = models.CharField(_("name"), max_length=120)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)

    class Meta:
        ordering = ("country", "name")
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class NaceCode(models.Model):
    """One entry of NACE Rev. 2 or Rev. 2.1: a section, division, group or class."""

    revision = models.CharField(_("revision"), max_length=3, choices=NaceRevision.choices)
    code = models.CharField(_("code"), max_length=5, help_text=_("e.g. 10.51"))
    level = models.PositiveSmallIntegerField(_("level"))
    parent_code = models.CharField(_("parent code"), max_length=5, blank=True)
    title = models.CharField(_("title"), max_length=300)
    # Codes without dots, so that "1051" finds "10.51".
    compact = models.CharField(max_length=5, db_index=True, editable=False)

    class Meta:
        ordering = ("revision", "code")
        constraints = [models.UniqueConstraint(fields=("revision", "code"), name="nace_unique_revision_code")]
        verbose_name = _("NACE code")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def save(self, *args, **kwargs):
        self.compact = self.code.replace(".", "")
        super().save(*args, **kwargs)

    @property
    def division(self) -> str:
        return self.code[:2] if self.level >= 2 else ""


class NaceCorrespondence(models.Model):
    """A link between a NACE Rev. 2 class and a Rev. 2.1 class (Eurostat correspondence table)."""

    rev2 = models.ForeignKey(NaceCode, on_delete=models.CASCADE, related_name="to_rev21")
    rev21 = models.ForeignKey(NaceCode, on_delete=models.CASCADE, related_name="from_rev2")
    correspondence_type = models.CharField(max_length=5)
    rev2_partial = models.BooleanField(default=False)
    rev21_partial = models.BooleanField(default=False)

    class Meta:
        ordering = ("rev2__code", "rev21__code")
        constraints = [models.UniqueConstraint(fields=("rev2", "rev21"), name="nace_corr_unique_pair")]

    def __str__(self) -> str:
        return f"{self.rev2.code} -> {self.rev21.code} ({self.correspondence_type})"


# What makes a company visible to every signed-in user: a public presence, i.e. its active public
# listings. Listings live in streams/, above this app, so streams registers the query in its
# AppConfig.ready() (docs/STYLE.md, "Imports one way"). Each entry returns a query of company ids.
_PUBLIC_PRESENCE: list[Callable[[], models.QuerySet]] = []


def register_public_presence(company_ids: Callable[[], models.QuerySet]) -> None:
    """Add a query of the ids of companies that show themselves publicly (called once per app)."""
    if company_ids not in _PUBLIC_PRESENCE:
        _PUBLIC_PRESENCE.append(company_ids)


class CompanyQuerySet(models.QuerySet):
    def visible_to(self, user) -> CompanyQuerySet:
        """Companies `user` may see: their own, those with sites in regions they facilitate (and those
        they entered as a facilitator that have no site yet), and those that publish at least one
        active public listing. Staff see all."""
        roles = roles_for(user)
        if not roles.authenticated:
            return self.none()
        if roles.is_staff:
            return self.all()
        # Subqueries, not joins: joining sites and streams multiplies every company by its listings
        # and then needs a DISTINCT (or `pk IN (...)` over the join) to undo it.
        presences = [Q(pk__in=company_ids()) for company_ids in _PUBLIC_PRESENCE] or [Q(pk__in=[])]
        public = functools.reduce(operator.or_, presences)
        if roles.company_ids:
            # A company that excludes one of the viewer's companies is not shown through its listings.
            public &= ~Q(pk__in=CompetitorExclusion.objects.hiding_from(roles.company_ids))
        cond = Q(pk__in=roles.company_ids)
        if roles.facilitator_region_ids:
            sites = Site.objects.filter(region_id__in=roles.facilitator_region_ids).order_by()
            cond |= Q(pk__in=sites.values("company_id"))
            # A company the facilitator entered for an SME, until its first site places it in a region.
            # A subquery of its own (a hashed set of a few ids), not a condition with a correlated
            # EXISTS per company: inside the OR that was tested against all 30k companies (100k
            # streams: the facilitator's company list 46 -> 82 ms).
            orphans = self.model.objects.filter(entered_by=user, entered_by_facilitator=True).exclude(
                Exists(Site.objects.filter(company=OuterRef("pk"))))
            cond |= Q(pk__in=orphans.order_by().values("pk"))
        return self.filter(cond | public)


class Company(models.Model):
    """A firm that lists side streams: usually an SME manufacturer with one or more sites."""

    name = models.CharField(_("name"), max_length=200)
    # `company_name_key(name)`, kept by save() (and by bulk writers): what a by-name exclusion matches.
    name_key = models.CharField(max_length=200, editable=False, db_index=True, default="")
    nace = models.ForeignKey(
        NaceCode,
        on_delete=models.PROTECT,
        related_name="companies",
        verbose_name=_("NACE Rev. 2.1 code"),
        limit_choices_to={"revision": NaceRevision.REV21},
    )
    nace_as_entered = models.CharField(
        _("NACE code as entered"), max_length=12, blank=True, help_text=_("Rev. 2 codes are mapped to Rev. 2.1")
    )
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    is_sme = models.BooleanField(_("SME"), default=True, editable=False)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), blank=True)
    # The import key. Only an import sets it (never the company itself: the API and forms do not
    # offer it), and it is only ever looked up within its `import_scope` (streams/importing/scope.py).
    external_ref = models.CharField(
        _("external reference"), max_length=64, null=True, blank=True, db_index=True,
        help_text=_("company_ref of an import sheet; a key only within its import scope"),
    )
    import_scope = models.CharField(
        _("import scope"), max_length=32, blank=True, default="",
        help_text=_("Whose company_ref external_ref is: “platform” (staff and system imports), “region:<NUTS "
                    "code>” (imports by that region's facilitators), or empty (not an import key, never matched)"),
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entered_by_facilitator = models.BooleanField(_("entered by a facilitator"), default=False)
    # When a facilitator or staff member vouched for the company (entered it on its behalf, or checked
    # a self-registered one). Dashboards and open data count only companies verified for a while
    # (dashboards/suppression.py): a company made up to lift a cell over k = 3 does not count.
    verified_at = models.DateTimeField(
        _("verified at"), null=True, blank=True,
        help_text=_("Set when a facilitator or staff member has checked that the company is real."),
    )
    # Who verified it (company_verify); empty for companies verified before this was kept, or whose
    # verifier's account is gone.
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("verified by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ("name", "pk")
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        constraints = [
            models.CheckConstraint(condition=Q(employees__isnull=True) | Q(employees__gte=0), name="company_employees_gte_0"),
            # One company per reference within a scope: the key a re-import finds.
            models.UniqueConstraint(
                fields=("import_scope", "external_ref"), condition=~Q(import_scope=""),
                name="company_unique_import_key",
                violation_error_message=_("Another company already has this company_ref."),
            ),
            models.CheckConstraint(condition=Q(import_scope="") | Q(external_ref__isnull=False),
                                   name="company_import_scope_has_ref"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # Unknown size counts as SME: the platform is built for them and most who omit it are small.
        self.is_sme = self.employees is None or self.employees <= SME_MAX_EMPLOYEES
        self.name_key = company_name_key(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_key"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("companies:company_detail", args=[self.pk])


class SiteQuerySet(models.QuerySet):
    def visible_to(self, user) -> SiteQuerySet:
        """Exact sites are confidential: only the company, facilitators of the region and staff."""
        roles = roles_for(user)
        if not roles.authenticated:
            return self.none()
        if roles.is_staff:
            return self.all()
        return self.filter(Q(company_id__in=roles.company_ids) | Q(region_id__in=roles.facilitator_region_ids))


class Site(models.Model):
    """A physical location of a company (plant, depot) where streams arise or are needed."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(_("name"), max_length=120)
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.FloatField(_("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(_("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)])
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="sites")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ("company", "name", "pk")
        constraints = [
            models.UniqueConstraint(fields=("company", "name"), name="site_unique_company_name"),
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90), name="site_latitude_range"),
            models.CheckConstraint(condition=Q(longitude__gte=-180, longitude__lte=180), name="site_longitude_range"),
        ]

    def __str__(self) -> str:
        return f"{self.company.name}: {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("companies:company_detail", args=[self.company_id])


class Membership(models.Model):
    """A person who acts for a company, as its admin or as a member."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("company", "user")
        constraints = [models.UniqueConstraint(fields=("user", "company"), name="membership_unique_user_company")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company} ({self.role})"


class RegionRole(models.Model):
    """A facilitator or an authority working for one region."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="region_roles")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=12, choices=RegionRoleKind.choices)

    class Meta:
        ordering = ("region", "role", "user")
        constraints = [
            models.UniqueConstraint(fields=("user", "region", "role"), name="regionrole_unique_user_region_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} of {self.region}"


class CompetitorExclusionQuerySet(models.QuerySet):
    def hiding_from(self, company_ids) -> models.QuerySet:
        """`company_id`s of the companies that exclude any of `company_ids` (picked by id, by name, or by
        a NACE code equal to or above theirs), as a subquery: `visible_to` filters with it without an
        extra query. This is the one direction that hides: the excluder from the excluded."""
        ids = list(company_ids)
        under_code = Company.objects.filter(pk__in=ids, nace__code__startswith=OuterRef("excluded_nace__code"))
        keys = Company.objects.filter(pk__in=ids).order_by().values("name_key")
        return self.filter(
            Q(excluded_company_id__in=ids) | Q(excluded_name_key__in=keys)
            | Q(Exists(under_code), excluded_nace__isnull=False)
        ).exclude(company_id__in=ids).order_by().values("company_id")

    def named_by(self, company_ids) -> models.QuerySet:
        """Ids of the companies that `company_ids` exclude by name (or picked by id), as a subquery.
        For the excluder's own view, which may depend on such an exclusion only where it already shows
        the company's name (see `Match.objects.visible_to`)."""
        ids = list(company_ids)
        mine = self.filter(company_id__in=ids).order_by()
        return Company.objects.filter(
            Q(pk__in=mine.filter(excluded_company__isnull=False).values("excluded_company_id"))
            | Q(name_key__in=mine.filter(excluded_name_key__isnull=False).values("excluded_name_key"))
        ).exclude(pk__in=ids).order_by().values("pk")

    def in_sectors_of(self, company_ids) -> models.QuerySet:
        """Ids of the companies under a NACE code that one of `company_ids` excludes, as a subquery.
        For the excluder's own view, where the company's name (hence its code) is already shown, like
        `named_by`; where it is not, its label decides (`matching.exclusions`)."""
        ids = list(company_ids)
        codes = NaceCode.objects.filter(Exists(self.filter(
            StartsWith(OuterRef("code"), F("excluded_nace__code")), company_id__in=ids,
            excluded_nace__revision=OuterRef("revision"),
        ))).order_by().values("pk")
        return Company.objects.filter(nace_id__in=codes).exclude(pk__in=ids).order_by().values("pk")

    def hides(self, excluder_id: int, excluded_id: int) -> bool:
        """Whether company `excluder_id` excludes company `excluded_id` (by id, name or NACE code)."""
        return self.hiding_from([excluded_id]).filter(company_id=excluder_id).exists()


class CompetitorExclusion(models.Model):
    """A company (`company`) keeps a competitor away: a company picked among those it can see
    (`excluded_company`), a company name (`excluded_name_key`: whichever company has or will have that
    name), or every company whose NACE code is `excluded_nace` or lies under it (a division such as 10
    or a group such as 10.5 covers its classes). `excluded_name` is the name as the admin gave it,
    the only name the list ever shows.

    An exclusion hides the excluder from the excluded: the excluded company's members never see the
    excluder's listings nor any match with it. The excluder's own view never depends on whom it
    excluded unless that company's name is already shown to it: it still sees the excluded company's
    listings, and its matches with it while that side is anonymous or private to it; it loses them
    only where the excluded company's name is shown (its listing on the match is public, or the match
    is revealed) or, for a NACE exclusion, where the sector its label shows lies under the code. The
    engine is given no exclusion; `Match.objects.visible_to` applies them. See docs/facilitation.md."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="exclusions")
    excluded_company = models.ForeignKey(
        Company, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("excluded company"),
    )
    excluded_name = models.CharField(_("excluded company name"), max_length=200, blank=True, default="")
    excluded_name_key = models.CharField(max_length=200, null=True, blank=True, editable=False)
    excluded_nace = models.ForeignKey(
        NaceCode, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("excluded NACE code"), limit_choices_to={"revision": NaceRevision.REV21},
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CompetitorExclusionQuerySet.as_manager()

    class Meta:
        ordering = ("company", "excluded_nace__code", "excluded_name", "pk")
        verbose_name = _("competitor exclusion")
        constraints = [
            models.CheckConstraint(
                condition=(Q(excluded_company__isnull=False) & Q(excluded_name_key__isnull=True)
                           & Q(excluded_nace__isnull=True))
                | (Q(excluded_company__isnull=True) & Q(excluded_name_key__isnull=False)
                   & Q(excluded_nace__isnull=True))
                | (Q(excluded_company__isnull=True) & Q(excluded_name_key__isnull=True)
                   & Q(excluded_nace__isnull=False)),
                name="exclusion_one_target",
            ),
            models.UniqueConstraint(
                fields=("company", "excluded_company"), name="exclusion_unique_company",
                condition=Q(excluded_company__isnull=False),
            ),
            models.UniqueConstraint(
                fields=("company", "excluded_name_key"), name="exclusion_unique_name",
                condition=Q(excluded_name_key__isnull=False),
            ),
            models.UniqueConstraint(
                fields=("company", "excluded_nace"), name="exclusion_unique_nace",
                condition=Q(excluded_nace__isnull=False),
            ),
            models.CheckConstraint(
                condition=~Q(excluded_company=models.F("company")), name="exclusion_not_self",
            ),
        ]

    def __str__(self) -> str:
        target = f"NACE {self.excluded_nace.code}" if self.excluded_nace_id else self.excluded_name
        return f"{self.company} excludes {target}"

    def get_absolute_url(self) -> str:
        return reverse("companies:exclusion_list", args=[self.company_id])
