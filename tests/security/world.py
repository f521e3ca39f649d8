"""A small multi-tenant world for the security tests: two tenants in two regions, every persona.

Tenant B lives in SE22 (company B and its partner B2), tenant Y in FI1B (Y and Y2). Every text of a
tenant carries its marker (``SECRET-B`` / ``SECRET-Y``), so a leak shows up as the marker in a
response body, whatever the route renders. Each tenant has a private and a draft stream, a site, two
matches between its two companies (one suggested, one revealed: both companies said yes, and its
thread holds a message), a one-stream matching run and a workshop upload by its region's facilitator,
and a competitor exclusion (its company keeps company A away): nothing of it is visible outside the
tenant, its region's facilitators and staff, and the upload only to its uploader. Each tenant also
names its insiders by role (`Tenant.insiders`): its company's admin and plain member, a member of the
partner company, and its region's facilitator, for the matrix's "who may open it gets it" checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from companies.choices import MembershipRole
from companies.models import Company, CompetitorExclusion, Site
from companies.roles import roles_for
from facilitation.models import MatchMessage, MatchNote
from facilitation.services import match_message_create
from facilitation.transitions import match_transition
from matching.choices import MatchAction, RunKind, RunStatus
from matching.models import Match, MatchingRun
from streams.choices import Direction, StreamStatus, Visibility
from streams.models import PendingImport, Stream
from tests.factories import (
    CompanyFactory,
    MembershipFactory,
    RegionRoleFactory,
    SiteFactory,
    StreamFactory,
    UserFactory,
    region,
)

MARKERS = {"B": "SECRET-B", "Y": "SECRET-Y"}


@dataclass
class Tenant:
    key: str
    marker: str
    region: object
    company: Company
    partner: Company
    site: Site
    private_stream: Stream
    draft_stream: Stream
    match: Match  # suggested: its thread is closed to everybody
    revealed_match: Match  # both companies said yes: its thread is open to both, the region's facilitator, staff
    run: MatchingRun
    upload: PendingImport  # a workshop sheet the region's facilitator uploaded, not yet committed
    exclusion: CompetitorExclusion  # the company keeps company A away: confidential to its admins and staff
    # Who is inside the tenant, by role: "admin" and "member" (plain) of its company, "partner" (a member
    # of the partner company) and "facilitator" (of its region). Routes say what each role gets (`opens`).
    insiders: dict = field(default_factory=dict)

    def objects(self) -> dict[str, list]:
        """The tenant's objects by slot, as the route table names them."""
        return {
            "company": [self.company],
            "site": [self.site],
            "stream": [self.private_stream, self.draft_stream],
            "match": [self.match, self.revealed_match],
            "run": [self.run],
            "region": [self.region],
            "upload": [self.upload],
            "exclusion": [self.exclusion],
        }

    def snapshot(self) -> list:
        """Every stored value of the tenant's rows, to prove a refused write changed nothing."""
        companies = (self.company.pk, self.partner.pk)
        return [
            list(Company.objects.filter(pk__in=companies).order_by("pk").values()),
            list(Site.objects.filter(company_id__in=companies).order_by("pk").values()),
            list(Stream.objects.filter(company_id__in=companies).order_by("pk").values()),
            list(Match.objects.filter(source_company_id__in=companies).order_by("pk").values()),
            list(MatchNote.objects.filter(match__source_company_id__in=companies).order_by("pk").values()),
            list(MatchMessage.objects.filter(match__source_company_id__in=companies).order_by("pk").values()),
            list(MatchingRun.objects.filter(pk=self.run.pk).values()),
            list(CompetitorExclusion.objects.filter(company_id__in=companies).order_by("pk").values()),
        ]


@dataclass
class World:
    personas: dict[str, object | None]
    tenants: dict[str, Tenant]
    # Which tenants each persona must not see anything of (staff may see everything).
    foreign: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def foreign_tenants(self, persona: str) -> list[Tenant]:
        return [self.tenants[k] for k in self.foreign[persona]]

    def foreign_objects(self, persona: str, slot: str) -> list:
        """The objects of `slot` the persona must get a 404 for. A region is only foreign where the
        persona holds no role in it (an authority sees its own region's dashboard). An upload is bound
        to the user who uploaded it: it is foreign to everybody else, staff included."""
        user = self.personas[persona]
        if slot == "upload":
            return [t.upload for t in self.tenants.values() if t.upload.user_id != getattr(user, "pk", None)]
        roles = roles_for(user)
        own_regions = roles.authority_region_ids | roles.facilitator_region_ids
        objs = []
        for tenant in self.foreign_tenants(persona):
            for obj in tenant.objects()[slot]:
                if slot == "region" and obj.pk in own_regions:
                    continue
                objs.append(obj)
        return objs

    def own_regions(self, persona: str) -> list:
        """The tenants' regions in which the persona holds a role (authority or facilitator)."""
        roles = roles_for(self.personas[persona])
        mine = roles.authority_region_ids | roles.facilitator_region_ids
        return [t.region for t in self.tenants.values() if t.region.pk in mine]


def make_match(offer: Stream, need: Stream) -> Match:
    return Match.objects.create(
        offer=offer, need=need, source_company=offer.company, target_company=need.company, score=0.7,
        parts={"compatibility": 0.9, "distance": 0.8, "volume_value": 0.7, "availability": 1.0},
        reasons=["same category"], distance_km=12.3, exchangeable_yearly=100.0, unit="t", co2e_t=40.0,
        eur_provider=1000.0, eur_receiver=500.0, diverted_t=10.0, engine_version="test",
        impact={"assumptions": [], "transport_eur": 120.0, "unit": "t"},
    )


def reveal(match: Match, offer_user, need_user) -> Match:
    """Both companies say yes through the one state machine: the match is introduced and revealed."""
    for user in (offer_user, need_user):
        match_transition(match_id=match.pk, actor=user, action=MatchAction.ACCEPT)
    return Match.objects.get(pk=match.pk)


def _tenant(key: str, code: str, facilitator, excluded: Company, names: tuple[str, str, str]) -> Tenant:
    marker = MARKERS[key]
    reg = region(code)
    lat, lon = (55.6, 13.0) if code == "SE22" else (60.29, 25.04)
    country = "SE" if code == "SE22" else "FI"
    company = CompanyFactory(name=f"{marker} Holding", description=f"{marker} description", country=country)
    partner = CompanyFactory(name=f"{marker} Partner", country=country)
    site = SiteFactory(company=company, name=f"{marker} Plant", address=f"{marker} street 1",
                       latitude=lat, longitude=lon, region=reg)
    partner_site = SiteFactory(company=partner, name=f"{marker} Depot", address=f"{marker} road 2",
                               latitude=lat + 0.05, longitude=lon, region=reg)
    secret = {"composition": f"{marker} composition", "description": f"{marker} stream description"}
    private = StreamFactory(site=site, title=f"{marker} private offer", visibility=Visibility.PRIVATE, **secret)
    draft = StreamFactory(site=site, title=f"{marker} draft offer", status=StreamStatus.DRAFT,
                          visibility=Visibility.PUBLIC, **secret)
    # Listed (anonymous): its title and description are public, so they carry no marker; its
    # confidential composition does.
    need = StreamFactory(site=partner_site, title=f"Anonymous need of tenant {key}", direction=Direction.NEED,
                         visibility=Visibility.ANONYMOUS, composition=secret["composition"])
    second_need = StreamFactory(site=partner_site, title=f"{marker} second need", direction=Direction.NEED,
                                visibility=Visibility.PRIVATE, **secret)
    admin, member, partner_member = (UserFactory(username=n) for n in names)
    MembershipFactory(user=admin, company=company)
    MembershipFactory(user=member, company=company, role=MembershipRole.MEMBER)
    MembershipFactory(user=partner_member, company=partner, role=MembershipRole.MEMBER)
    revealed = reveal(make_match(private, second_need), admin, partner_member)
    match_message_create(match=revealed, author=partner_member, text=f"{marker} message")
    run = MatchingRun.objects.create(kind=RunKind.STREAM, stream=private, status=RunStatus.DONE,
                                     requested_by=facilitator, message=f"{marker} run")
    sheet = f"company_ref,company_name\n{marker},{marker} Sheet AB\n".encode()
    upload = PendingImport.objects.create(user=facilitator, filename=f"{marker}.csv", content=sheet, size=len(sheet),
                                          sha256="0" * 64)
    exclusion = CompetitorExclusion.objects.create(company=company, excluded_company=excluded)
    # The unrevealed match: the private offer's company said yes (so the partner may see it: a private
    # listing reaches the other party only then), the partner has not answered.
    match = make_match(private, need)
    match_transition(match_id=match.pk, actor=admin, action=MatchAction.ACCEPT)
    match = Match.objects.get(pk=match.pk)
    return Tenant(key=key, marker=marker, region=reg, company=company, partner=partner, site=site,
                  private_stream=private, draft_stream=draft, match=match,
                  revealed_match=revealed, run=run, upload=upload, exclusion=exclusion,
                  insiders={"admin": admin, "member": member, "partner": partner_member, "facilitator": facilitator})


def build_world() -> World:
    company_a = CompanyFactory(name="Alpha Dairy AB")
    SiteFactory(company=company_a, name="Alpha Lund", latitude=55.705, longitude=13.191, region=region("SE22"))
    StreamFactory(site=company_a.sites.get(), title="Alpha whey", visibility=Visibility.PUBLIC)
    fac_x = RegionRoleFactory(user=UserFactory(username="fiona"), region=region("SE22")).user
    fac_y = RegionRoleFactory(user=UserFactory(username="yrjo"), region=region("FI1B")).user
    b = _tenant("B", "SE22", fac_x, company_a, ("bob", "bea", "bert"))
    y = _tenant("Y", "FI1B", fac_y, company_a, ("ylva", "yann", "yoko"))
    personas = {
        "anon": None,
        "admin_a": MembershipFactory(user=UserFactory(username="alice"), company=company_a).user,
        "member_a": MembershipFactory(user=UserFactory(username="carol"), company=company_a,
                                      role=MembershipRole.MEMBER).user,
        "member_b": b.insiders["admin"],
        "facilitator_x": fac_x,
        "facilitator_y": fac_y,
        "authority": RegionRoleFactory(user=UserFactory(username="arne"), region=region("SE22"),
                                       role="authority").user,
        "staff": UserFactory(username="stella", is_staff=True, is_superuser=True),
    }
    foreign = {
        "anon": ("B", "Y"), "admin_a": ("B", "Y"), "member_a": ("B", "Y"), "member_b": ("Y",),
        "facilitator_x": ("Y",), "facilitator_y": ("B",), "authority": ("B", "Y"), "staff": (),
    }
    return World(personas=personas, tenants={"B": b, "Y": y}, foreign=foreign)
