"""Matches between offers and needs (or prospective companies) and the runs that produced them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from companies.roles import roles_for
from core.expressions import AnyOf
from matching.choices import MatchStatus, OptIn, RunKind, RunStatus
from matching.exclusions import excluded_for


def in_regions_q(region_ids, *, prospective_sources: bool = False, hashed: bool = False) -> Q:
    """Matches touching a site in one of `region_ids`: the offer's or the need's site, or, for a
    prospective match (no need), a site of the target company; with `prospective_sources` also a
    site of the source company of a match without an offer. No joins.

    By default index-friendly (see AnyOf): for a condition that has to find its rows. With `hashed`,
    `column IN (subquery)`: for a condition that narrows rows found by another one (a filter on top
    of `visible_to`), which PostgreSQL then tests per row against a hash of the subquery's result
    rather than by a linear search of the array that `= ANY(ARRAY(...))` is when it is not used as
    an index condition (seconds for 40,000 rows against a region's 3,000 streams)."""
    from companies.models import Site
    from streams.models import Stream

    streams = Stream.objects.filter(site__region_id__in=region_ids).order_by().values("pk")
    companies = Site.objects.filter(region_id__in=region_ids).order_by().values("company_id")

    def of(column, subquery):
        return Q(**{f"{column}__in": subquery}) if hashed else Q(AnyOf(column, subquery))

    q = of("offer_id", streams) | of("need_id", streams) | (Q(need__isnull=True) & of("target_company_id", companies))
    if prospective_sources:
        q |= Q(offer__isnull=True) & of("source_company_id", companies)
    return q


def private_unanswered_q(role: str, streams=None) -> Q:
    """Matches whose `role` side ("offer" or "need") is a private listing (among `streams`, a
    queryset of streams; all by default) that has not said yes to the match."""
    from streams.choices import Visibility
    from streams.models import Stream

    private = (streams if streams is not None else Stream.objects).filter(visibility=Visibility.PRIVATE)
    answer = "provider_response" if role == "offer" else "receiver_response"
    return Q(**{f"{role}_id__in": private.order_by().values("pk")}) & ~Q(**{answer: OptIn.YES})


def private_elsewhere_q(region_ids, *, joined: bool = False) -> Q:
    """Matches with a private listing outside `region_ids` that has not said yes: hidden from the
    facilitators of `region_ids` (the listing is its own region's facilitators' and the engine's).

    By default the sides are tested against the set of such listings (hashed once): for a condition
    on many matches. With `joined`, through each match's own side, its site and region (a few primary
    key lookups per match): for a condition on a few matches found otherwise (the region index's
    flagged rows, `matching.selectors.match_pages`). The same rows either way."""
    from streams.choices import Visibility
    from streams.models import Stream

    if joined:
        def side(role: str, answer: str) -> Q:
            return (Q(**{f"{role}__visibility": Visibility.PRIVATE}) & ~Q(**{f"{role}__site__region_id__in": region_ids})
                    & ~Q(**{answer: OptIn.YES}))

        return side("offer", "provider_response") | side("need", "receiver_response")
    elsewhere = Stream.objects.exclude(site__region_id__in=region_ids)
    return private_unanswered_q("offer", elsewhere) | private_unanswered_q("need", elsewhere)


class MatchQuerySet(models.QuerySet):
    def visible_to(self, user) -> MatchQuerySet:
        """Matches `user` may see: those of their own companies' streams (either side; one whose other
        side is a private listing only after that side said yes) that competitor exclusion does not
        hide from them (`matching.exclusions`), every match touching a site in a region they facilitate, all
        for staff. Authorities see aggregates only, never single matches."""
        roles = roles_for(user)
        if not roles.authenticated:
            return self.none()
        if roles.is_staff:
            return self.all()
        # A counterpart's private listing is for its company, its facilitators and the engine: the
        # other party sees such a match only once the private side has said yes to it.
        own = (Q(source_company_id__in=roles.company_ids) & ~private_unanswered_q("need")) | (
            Q(target_company_id__in=roles.company_ids) & ~private_unanswered_q("offer")
        )
        if roles.company_ids:
            own &= ~excluded_for(roles.company_ids)
        if roles.facilitator_region_ids:
            # Prospective matches have no need; their target company's sites decide. A private listing
            # in another region stays hidden from them as from a party (`private_elsewhere_q`).
            regions = roles.facilitator_region_ids
            return self.filter(own | (in_regions_q(regions) & ~private_elsewhere_q(regions)))
        return self.filter(own)

    def retirable(self) -> MatchQuerySet:
        """Suggestions a new matching result may replace: nobody works on them yet and neither party
        has answered (double opt-in). `matching/finalise.py` states the same rule in SQL."""
        return self.filter(status=MatchStatus.SUGGESTED, provider_response="", receiver_response="")

    def active(self) -> MatchQuerySet:
        return self.exclude(status__in=(MatchStatus.REJECTED, MatchStatus.DECLINED, MatchStatus.WITHDRAWN))


# The score's parts: engine name -> Match column (the staging table uses the same columns).
PART_FIELDS = {"compatibility": "compatibility", "distance": "distance_part", "volume_value": "volume_value_part",
               "availability": "availability_part"}


class Match(models.Model):
    """A suggested exchange: an offer for a need, or an offer for a company whose sector typically
    uses it (prospective), with its score, the parts of the score, reasons and estimated impact."""

    # The references below are enforced in PostgreSQL by statement-level triggers, not by per-row
    # foreign-key triggers (db_constraint=False): a full run inserts a million rows, and five RI checks
    # per row were most of its write time. Same guarantee: matching/migrations/0006_match_set_based_integrity.py.
    offer = models.ForeignKey(
        "streams.Stream", on_delete=models.CASCADE, null=True, blank=True, related_name="matches_as_offer",
        db_constraint=False,
    )
    need = models.ForeignKey(
        "streams.Stream", on_delete=models.CASCADE, null=True, blank=True, related_name="matches_as_need",
        db_constraint=False,
    )
    source_company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+",
                                       db_constraint=False)
    target_company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+",
                                       db_constraint=False)
    prospective = models.BooleanField(_("prospective"), default=False)
    score = models.FloatField(_("score"))
    # The four parts of the score, as columns: a full run writes a million rows, and numbers store and
    # compare at a fraction of a JSON object's cost. `parts` reads and sets them as one dict.
    compatibility = models.FloatField(_("compatibility"), default=0)
    distance_part = models.FloatField(_("distance part"), default=0)
    volume_value_part = models.FloatField(_("volume and value part"), default=0)
    availability_part = models.FloatField(_("availability part"), default=0)
    # Empty for full-run rows, which store numbers only; `matching.explain.explained()` rebuilds them.
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    distance_km = models.FloatField(_("distance (km)"))
    exchangeable_yearly = models.FloatField(_("exchangeable per year"), default=0)
    unit = models.CharField(max_length=8, blank=True)
    impact = models.JSONField(_("estimated impact"), default=dict, blank=True)
    co2e_t = models.FloatField(default=0)
    eur_provider = models.FloatField(default=0)
    eur_receiver = models.FloatField(default=0)
    diverted_t = models.FloatField(default=0)
    status = models.CharField(_("status"), max_length=14, choices=MatchStatus.choices, default=MatchStatus.SUGGESTED)
    stream_changed = models.BooleanField(
        _("stream changed"), default=False,
        help_text=_("A stream changed or closed after a facilitator started working on this match."),
    )
    # Double opt-in: each party's answer; identities and hidden fields are revealed to both once
    # `revealed_at` is set (see facilitation/transitions.py).
    provider_response = models.CharField(_("provider's answer"), max_length=3, choices=OptIn.choices, blank=True,
                                         default="", db_default="")
    provider_answered_at = models.DateTimeField(null=True, blank=True)
    receiver_response = models.CharField(_("receiver's answer"), max_length=3, choices=OptIn.choices, blank=True,
                                         default="", db_default="")
    receiver_answered_at = models.DateTimeField(null=True, blank=True)
    revealed_at = models.DateTimeField(_("identities revealed at"), null=True, blank=True)
    engine_version = models.CharField(max_length=20)
    # Which run wrote the row (provenance; never looked up by run, so no index).
    run = models.ForeignKey("MatchingRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                            db_constraint=False, db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MatchQuerySet.as_manager()

    class Meta:
        ordering = ("-score", "pk")
        verbose_name_plural = _("matches")
        indexes = [
            models.Index(fields=("status", "-score"), name="match_status_score_idx"),
            # The prospective sides of `in_regions_q`: the target company of a match without a need, the
            # source company of one without an offer (the plain company indexes also hold every
            # declared match of those companies).
            models.Index(fields=("target_company",), condition=Q(need__isnull=True), name="match_prospect_target_idx"),
            models.Index(fields=("source_company",), condition=Q(offer__isnull=True), name="match_prospect_source_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("offer", "need"), condition=Q(need__isnull=False, offer__isnull=False),
                name="match_unique_offer_need",
            ),
            models.UniqueConstraint(
                fields=("offer", "target_company"), condition=Q(need__isnull=True),
                name="match_unique_offer_prospect",
            ),
            models.UniqueConstraint(
                fields=("need", "source_company"), condition=Q(offer__isnull=True),
                name="match_unique_need_prospect",
            ),
            models.CheckConstraint(condition=Q(offer__isnull=False) | Q(need__isnull=False), name="match_has_a_stream"),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=1), name="match_score_range"),
        ]

    def __str__(self) -> str:
        return f"Match #{self.pk} ({self.score:.2f})"

    def get_absolute_url(self) -> str:
        return reverse("matching:match_detail", args=[self.pk])

    @property
    def revealed(self) -> bool:
        return self.revealed_at is not None

    @property
    def parts(self) -> dict[str, float]:
        """The score's parts by the engine's names (compatibility, distance, volume_value, availability)."""
        return {key: getattr(self, field) for key, field in PART_FIELDS.items()}

    @parts.setter
    def parts(self, value: dict[str, float]) -> None:
        for key, field in PART_FIELDS.items():
            setattr(self, field, float(value.get(key, 0.0)))


class MatchRegion(models.Model):
    """One region a match touches, with the match's score and status: the region index of matches
    (PostgreSQL).

    A row per (match, region) of `in_regions_q`'s default definition: the region of the offer's site,
    of the need's site and, for a match without a need (prospective receiver), of every site of the
    target company, with `private_elsewhere`. PostgreSQL triggers keep it equal to that definition
    whatever writes Match, a stream's site or visibility, or a site (matching/migrations/
    0009_match_region_index.py, 0012_region_index_private_elsewhere.py); nothing in Python
    writes it. It serves one read: a facilitator's list of their region's matches (the match list and
    the review queue), best score first, as an index-only range scan (`matching.selectors.match_pages`)
    instead of a scan of the region's thousands of match rows. Every other read states the rule itself (`in_regions_q`). On
    SQLite (development mode) the table stays empty and unused."""

    pk = models.CompositePrimaryKey("match", "region")
    match = models.ForeignKey(Match, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False,
                              db_index=False)
    region = models.ForeignKey("companies.Region", on_delete=models.DO_NOTHING, related_name="+",
                               db_constraint=False, db_index=False)
    score = models.FloatField()
    status = models.CharField(max_length=14, choices=MatchStatus.choices)
    # A side of the match is a private listing at a site outside this row's region, whatever its
    # answer (answers change often; the reader checks them on these few rows): the rows that
    # `private_elsewhere_q([region])` may hide from the region's facilitators.
    private_elsewhere = models.BooleanField()

    class Meta:
        # Status is carried in the index (INCLUDE): the review queue filters on it without the heap. The
        # flagged rows of a region have an index of their own (a few percent): the list looks up their
        # answers.
        indexes = [models.Index(fields=("region", "-score", "match"), include=("status",),
                                name="matchregion_list_idx"),
                   models.Index(fields=("region", "match"), condition=Q(private_elsewhere=True),
                                name="matchregion_private_idx")]

    def __str__(self) -> str:
        return f"match {self.match_id} in region {self.region_id}"


class MatchingRun(models.Model):
    """One execution of the engine (all streams, or one stream): the truth about a background job."""

    kind = models.CharField(max_length=8, choices=RunKind.choices)
    stream = models.ForeignKey("streams.Stream", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
    shards_total = models.PositiveIntegerField(default=1)
    shards_done = models.PositiveIntegerField(default=0)
    progress = models.FloatField(default=0, help_text=_("0 to 1"))
    message = models.CharField(max_length=200, blank=True)
    counts = models.JSONField(default=dict)
    timings = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    engine_version = models.CharField(max_length=20, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0, progress__lte=1), name="run_progress_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("matching:run_detail", args=[self.pk])


class MatchCandidate(models.Model):
    """Scratch rows of one full run: what each shard found (numbers only, written with binary COPY),
    before the finalise step swaps them into Match in one transaction. ``offer_id`` / ``need_id`` are
    -1 where the side is absent (prospective), so every row has the same binary layout; ``unit``
    indexes ``engine.columns.UNIT_CODES``."""

    # Scratch rows: no foreign-key trigger per row (the (run, shard) index serves every lookup); the
    # reaper removes the rows of finished runs.
    run = models.ForeignKey(MatchingRun, on_delete=models.CASCADE, related_name="+", db_constraint=False,
                            db_index=False)
    shard = models.IntegerField()
    offer_id = models.BigIntegerField()
    need_id = models.BigIntegerField()
    source_company_id = models.BigIntegerField()
    target_company_id = models.BigIntegerField()
    prospective = models.BooleanField(default=False)
    score = models.FloatField()
    compatibility = models.FloatField()
    distance_part = models.FloatField()
    volume_value_part = models.FloatField()
    availability_part = models.FloatField()
    distance_km = models.FloatField()
    exchangeable_yearly = models.FloatField()
    unit = models.SmallIntegerField()
    co2e_t = models.FloatField()
    eur_provider = models.FloatField()
    eur_receiver = models.FloatField()
    diverted_t = models.FloatField()

    class Meta:
        ordering = ("run", "shard", "pk")
        indexes = [models.Index(fields=("run", "shard"), name="matchcand_run_shard_idx")]

    def __str__(self) -> str:
        return f"candidate {self.offer_id}->{self.need_id} ({self.score:.2f})"
