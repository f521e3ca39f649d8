"""The attacker of the demo sweep (tests/security/reidentification/test_demo_sweep.py).

`World` is what the test knows about the seeded demo (the truth). `Attacker(world, persona).run()`
plays one persona through the real URLs (API with DRF's APIClient, pages with Django's Client, both
signed in as the persona) and returns `Observations`: only what the answers said, plus the truth
about the matches it saw (read from the database at the end of the sweep, because the persona's own
writes are rolled back afterwards). The `*_failures` functions turn observations into failure
messages; they read no database.

How answers narrow the **candidate set of owning companies** of an anonymous listing L:

- *Families* of answers that take a company as input (`?company=X` on the stream list, API and page,
  alone and combined; `?company=X` on the match list; a competitor exclusion of X): the set S of the X
  whose answer had L (for exclusions: whose answer lost L). If S is empty (the filter never shows L)
  or holds every X, the family says nothing; otherwise the owner is in S (plus the X not asked).
- *Direct* answers: a field that names a company (`company`, a site id, an `external_ref` whose demo
  scheme `demo-s-<company number>-<k>` gives the company, a company's name in the body), a `?q=` word
  from company names that found L though L's own visible text lacks it, a `?nace=`/`?country=` value
  that found L (the companies with that code or country).

The candidates are the companies sharing L's region and displayed NACE code (what the design shows),
minus the attacker's own, intersected with every answer's set. A listing fails when fewer than 3
remain and the answers made the difference (they dropped a design candidate, or alone leave fewer
than 3); a design set already below 3 is counted and reported, not failed on.

Hidden prices and sites (`price_failures`, `site_failures`): the side of a match the persona may not
read in full (a party's counterpart until both opted in; for a facilitator, a side outside its
regions) is attacked with the engine's public formulas (matching/engine/scoring.py, impact.py):
distance from `distance_km`, exact km in the reasons, distance part x the radius the reasons name,
score over the other parts, "transport about T EUR/t", transport_eur / quantity, the page; then the
unit value from the volume/value part (or from the reasons) minus the attacker's own half, and the
asking price from eur_receiver with the attacker's own purchase price.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db import transaction
from django.test import Client, TestCase
from rest_framework.test import APIClient

API = "/api/v1"
PAGE = 500  # Pagination.max_page_size
REF_RE = re.compile(r"^demo-s-(\d{5})-\d+$")
RADIUS_RE = re.compile(r"within the (\d+(?:\.\d+)?) km (?:radius|limit)")
TRANSPORT_RE = re.compile(r"transport about (-?\d+(?:\.\d+)?) EUR/")
UNIT_VALUE_RE = re.compile(r"against a value of about (-?\d+(?:\.\d+)?) EUR/")
EXACT_REASON_RE = re.compile(r"^(\d+(?:\.\d+)?) km, within ")
PAGE_KM_RE = re.compile(r"(?<![\w.])(\d+[.,]\d) km")
STREAM_LINK_RE = re.compile(r'href="/streams/(\d+)/"')
LEGAL_FORMS = {"ab", "oy", "oyj", "as", "asa", "a/s", "gmbh", "sp.", "z", "o.o.", "sia", "uab", "ou", "oü", "aps"}
CONFIDENTIAL = ("price_eur_per_unit", "disposal_route", "disposal_cost_eur_per_unit", "composition", "contaminants")
# Answers that repeat what the design shows of an anonymous listing (its company's NACE code; its
# region, hence its country): they narrow nothing unless they drop a company sharing both.
DESIGN_LEVEL = ("stream list ?nace=", "stream list ?country=")
SUMMARY = "summary: "  # a failure list's first line when it counts the findings per way
SAMPLE_ANONYMOUS = 30  # anonymous listings that get per-listing requests (details, ?external_ref=, ?stream=)
SAMPLE_PAGES = 10  # of those, how many also get their detail page
SAMPLE_MATCH_PAGES = 15  # matches whose page /matches/<id>/ is read (every match gets its API detail)
# The pages use the same FilterSet as the API: `/streams/?company=X` for every X, and `?company=X`
# combined with other filters, are sent by these personas only (time); `?company=X` alone by all.
PAGE_PERSONAS = ("member",)
TITLE_WORDS = 12  # words of private titles tried as ?q= (streams and matches)


# --- The truth --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyInfo:
    id: int
    name: str
    ref: str | None
    nace: str
    country: str
    regions: frozenset[str]
    public: bool  # has an active public listing: its name is shown to every member anyway


@dataclass(frozen=True)
class StreamInfo:
    id: int
    company_id: int
    ref: str | None
    visibility: str
    status: str
    region: str
    direction: str
    kind: str
    category: str
    title: str
    text: str  # title, description and category name, lower case: what `?q=` may find it by


@dataclass(frozen=True)
class Persona:
    name: str
    user_id: int
    company_ids: frozenset[int]
    admin_company_id: int | None
    regions: frozenset[str]  # regions the persona facilitates

    def owns(self, s: StreamInfo) -> bool:
        return s.company_id in self.company_ids

    def facilitates(self, s: StreamInfo) -> bool:
        return s.region in self.regions

    def may_see_private(self, s: StreamInfo) -> bool:
        return self.owns(s) or self.facilitates(s)


@dataclass
class World:
    companies: dict[int, CompanyInfo]
    streams: dict[int, StreamInfo]
    site_company: dict[int, int]
    personas: dict[str, Persona] = field(default_factory=dict)
    region_country: dict[str, str] = field(default_factory=dict)  # region code -> country code
    sections: dict[str, str] = field(default_factory=dict)  # NACE division -> section letter
    seconds: dict[str, float] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)

    def listings(self, visibility: str) -> list[StreamInfo]:
        return [s for s in self.streams.values() if s.visibility == visibility and s.ref and s.ref.startswith("demo-s-")]

    def company_by_ref_number(self, number: str) -> int | None:
        ref = f"demo-c-{number}"
        return next((c.id for c in self.companies.values() if c.ref == ref), None)

    def consistent(self, c: CompanyInfo, sector: str, area: str) -> bool:
        """Whether company `c` fits a shown sector (a NACE class, group or division code, a section
        letter, or "" for none) and area (a region code, a country code, or "" for everywhere)."""
        if sector and sector[0].isalpha():
            in_sector = self.sections.get(c.nace[:2]) == sector
        else:
            in_sector = c.nace.startswith(sector)
        if len(area) == 2:
            in_area = any(self.region_country.get(r) == area for r in c.regions)
        else:
            in_area = not area or area in c.regions
        return in_sector and in_area

    def design_candidates(self, s: StreamInfo, persona: Persona, shown: tuple[str, str] | None = None) -> set[int]:
        """Companies consistent with what the design shows of an anonymous listing: the sector and
        area its answers showed (`shown`, the k-anonymous label of companies/anonymity.py), or, for a
        listing never shown, no one more than anyone (the attacker knows its own companies are not the
        owner). Without `shown`, the exact region and NACE code: what the design showed before #18."""
        if shown is None:
            nace = self.companies[s.company_id].nace
            exact = {c.id for c in self.companies.values() if s.region in c.regions and c.nace == nace}
            return exact - persona.company_ids
        sector, area = shown
        return {c.id for c in self.companies.values() if self.consistent(c, sector, area)} - persona.company_ids


def load_world() -> World:
    from companies.models import Company, Site
    from streams.choices import StreamStatus, Visibility
    from streams.models import Stream

    regions: dict[int, set[str]] = defaultdict(set)
    site_company = {}
    for sid, cid, code in Site.objects.values_list("pk", "company_id", "region__code"):
        regions[cid].add(code)
        site_company[sid] = cid
    public = set(Stream.objects.filter(status=StreamStatus.ACTIVE, visibility=Visibility.PUBLIC)
                 .values_list("company_id", flat=True))
    companies = {
        pk: CompanyInfo(pk, name, ref, nace, country, frozenset(regions[pk]), pk in public)
        for pk, name, ref, nace, country in Company.objects.values_list("pk", "name", "external_ref", "nace__code",
                                                                        "country")
    }
    streams = {}
    for row in Stream.objects.values_list("pk", "company_id", "external_ref", "visibility", "status",
                                          "site__region__code", "direction", "kind", "category__code", "title",
                                          "description", "category__name"):
        pk, cid, ref, vis, status, region, direction, kind, cat, title, desc, cat_name = row
        streams[pk] = StreamInfo(pk, cid, ref, vis, status, region, direction, kind, cat, title,
                                 f"{title}\n{desc}\n{cat_name}".lower())
    from companies.models import NaceCode, Region

    sections = dict(NaceCode.objects.filter(revision="2.1", level=2).values_list("code", "parent_code"))
    return World(companies, streams, site_company, region_country=dict(Region.objects.values_list("code", "country")),
                 sections=sections)


# --- What the attacker learned ----------------------------------------------------------------------


@dataclass
class Observations:
    persona: Persona
    requests: int = 0
    # Families: listing -> family -> companies X whose answer had (or, for exclusions, lost) the listing.
    hits: dict[int, dict[str, set[int]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    domain: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    # Match families, resolved to listings once the matches' truth is known.
    match_hits: dict[int, dict[str, set[int]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    # Direct answers: listing -> [(answer, companies it says the owner is among)].
    direct: dict[int, list[tuple[str, frozenset[int]]]] = field(default_factory=lambda: defaultdict(list))
    # Private listings seen: listing -> where.
    sightings: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    # Names of companies that list nothing publicly, seen in an answer: company -> where.
    names: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    # Confidential values (stream fields, sites) shown for streams the persona may not read in full.
    confidential: list[str] = field(default_factory=list)
    listings_seen: set[int] = field(default_factory=set)
    # Anonymous listing -> every (sector code, area code) its answers showed (should be one).
    shown: dict[int, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    matches: dict[int, dict] = field(default_factory=dict)  # match id -> richest JSON seen
    match_where: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    page_km: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))  # match -> km on its page
    match_truth: dict[int, dict] = field(default_factory=dict)
    specs: dict[int, object] = field(default_factory=dict)  # stream id -> engine StreamSpec (base units)
    extra_streams: dict[int, StreamInfo] = field(default_factory=dict)  # created during the sweep
    created: dict[str, object] = field(default_factory=dict)


class Attacker:
    def __init__(self, world: World, persona: Persona, user):
        self.w, self.p, self.user = world, persona, user
        self.api = APIClient()
        self.api.force_authenticate(user)
        self.web = Client()
        self.web.force_login(user)
        self.obs = Observations(persona)
        secret = {c.id: c.name for c in world.companies.values()
                  if not c.public and c.id not in persona.company_ids and not (c.regions & persona.regions)}
        self.secret_names = secret
        self.name_re = re.compile("|".join(re.escape(n) for n in sorted(secret.values(), key=len, reverse=True))
                                  ) if secret else None
        self.name_to_ids: dict[str, set[int]] = defaultdict(set)
        for c in world.companies.values():
            self.name_to_ids[c.name.lower()].add(c.id)
        self.hidden_anon = [s for s in world.listings("anonymous") if not persona.owns(s)
                            and not persona.facilitates(s)]
        self.private = [s for s in world.listings("private") if not persona.may_see_private(s)]
        # Per-listing requests go to a deterministic sample of the anonymous listings (every k-th by
        # id); the private ones are all tried. Answers to list requests cover every listing.
        step = max(1, len(self.hidden_anon) // SAMPLE_ANONYMOUS)
        self.sample = sorted(self.hidden_anon, key=lambda s: s.id)[::step][:SAMPLE_ANONYMOUS]

    # --- Plumbing ---

    def _scan(self, where: str, text: str) -> None:
        if self.name_re is None:
            return
        for m in set(self.name_re.findall(text)):
            for cid in self.name_to_ids[m.lower()]:
                if cid in self.secret_names:
                    self.obs.names[cid].append(where)

    def get(self, url: str, *, page: bool = False, scan: bool = True):
        self.obs.requests += 1
        r = (self.web if page else self.api).get(url)
        if scan and r.status_code == 200 and r.get("Content-Type", "").split(";")[0] in (
            "application/json", "text/html", "text/csv"
        ):
            self._scan(url, r.content.decode("utf-8", "replace"))
        return r

    def results(self, path: str, **params) -> list[dict]:
        """Every item of a paginated API list (400 answers count as empty)."""
        params.setdefault("page_size", PAGE)
        url = f"{API}{path}?{urlencode(params)}"
        out = []
        while url:
            r = self.get(url)
            if r.status_code != 200:
                return out
            body = r.json()
            out += body["results"]
            url = body.get("next")
        return out

    def streams(self, where: str, **params) -> set[int]:
        items = self.results("/streams/", **params)
        for obj in items:
            self.stream_obj(obj, where)
        return {o["id"] for o in items}

    def stream_obj(self, obj: dict, where: str) -> None:
        s = self.stream_info(obj["id"])
        if s is None:
            return
        if s.visibility == "private" and not self.p.may_see_private(s):
            self.obs.sightings[s.id].append(where)
        if self.p.owns(s) or self.p.facilitates(s):
            return
        if s.visibility == "anonymous" and (s.ref or "").startswith("demo-s-"):
            self.obs.listings_seen.add(s.id)
            if obj.get("sector") is not None and obj.get("region") is not None:
                self.obs.shown[s.id].add((obj["sector"]["code"], obj["region"]["code"]))
        if s.visibility != "public" and obj.get("company"):
            self.obs.direct[s.id].append((f"{where}: field company={obj['company']}", frozenset({obj["company"]["id"]})))
        if obj.get("site") is not None:
            cid = self.w.site_company.get(obj["site"])
            self.obs.confidential.append(f"stream {s.id} ({s.region}): site id {obj['site']} in {where}")
            if s.visibility != "public" and cid is not None:
                self.obs.direct[s.id].append((f"{where}: field site={obj['site']}", frozenset({cid})))
        ref = obj.get("external_ref")
        if ref and s.visibility != "public":
            self._ref_evidence(s.id, ref, f"{where}: field external_ref={ref}")
        shown = {f: obj.get(f) for f in CONFIDENTIAL if obj.get(f) not in (None, "")}
        if shown:
            self.obs.confidential.append(f"stream {s.id} ({s.region}): {shown} in {where}")

    def _ref_evidence(self, listing: int, ref: str, where: str) -> None:
        m = REF_RE.match(ref)
        cid = self.w.company_by_ref_number(m.group(1)) if m else None
        if cid is not None:
            self.obs.direct[listing].append((where, frozenset({cid})))

    def stream_info(self, sid: int) -> StreamInfo | None:
        return self.w.streams.get(sid) or self.obs.extra_streams.get(sid)

    def matches(self, where: str, path: str = "/matches/", **params) -> set[int]:
        items = self.results(path, **params)
        for obj in items:
            self.match_obj(obj, where)
        return {o["id"] for o in items}

    def match_obj(self, obj: dict, where: str) -> None:
        mid = obj["id"]
        if mid not in self.obs.matches or "detail" in where:
            self.obs.matches[mid] = obj
        if len(self.obs.match_where[mid]) < 3:
            self.obs.match_where[mid].append(where)

    # --- The sweep ---

    def run(self) -> Observations:
        w, p = self.w, self.p
        all_ids = sorted(w.companies)
        probe = [*self.sample, *self.private]
        regions = sorted({s.region for s in probe})
        naces = sorted({w.companies[s.company_id].nace for s in probe})
        countries = sorted({c.country for c in w.companies.values()})

        # Stream list: every filter alone (values those of the listings tried), two orderings.
        self.streams("stream list")
        for o in ("title", "-quantity_yearly"):
            self.streams(f"stream list ?ordering={o}", ordering=o)
        for key, values in (("visibility", ("public", "anonymous", "private")), ("direction", ("offer", "need")),
                            ("status", ("active", "draft", "paused", "closed")), ("hazardous", ("true", "false")),
                            ("kind", ("material", "energy", "water", "asset", "expertise")), ("region", regions)):
            for v in values:
                self.streams(f"stream list ?{key}={v}", **{key: v})
        for code in naces:
            found = self.streams(f"stream list ?nace={code}", nace=code)
            owners = frozenset(c.id for c in w.companies.values() if c.nace.startswith(code))
            for sid in found:
                self.obs.direct[sid].append((f"stream list ?nace={code} had it", owners))
        for country in countries:
            found = self.streams(f"stream list ?country={country}", country=country)
            # An anonymous listing is found by the country its label shows: its site's.
            owners = frozenset(c.id for c in w.companies.values()
                               if c.country == country or any(w.region_country.get(r) == country for r in c.regions))
            for sid in found:
                self.obs.direct[sid].append((f"stream list ?country={country} had it", owners))

        # ?company=X for every company: API alone, API combined, the page; and on the match list.
        fams = ("API stream list ?company=X", "API stream list ?company=X&visibility=anonymous&status=active"
                "&ordering=-quantity_yearly", "page /streams/?company=X")
        for x in all_ids:
            hit_sets = [self.streams(f"stream list ?company={x}", company=x)]
            if p.name in PAGE_PERSONAS:
                hit_sets.append(self.streams(f"stream list ?company={x}&visibility=anonymous", company=x,
                                             visibility="anonymous", status="active", ordering="-quantity_yearly"))
                hit_sets.append(self.page_stream_ids(f"/streams/?{urlencode({'company': x})}"))
            for fam, found in zip(fams, hit_sets, strict=False):
                self.obs.domain[fam].add(x)
                for sid in found:
                    self.obs.hits[sid][fam].add(x)
            fam = "API match list ?company=X"
            self.obs.domain[fam].add(x)
            for mid in self.matches(f"match list ?company={x}", company=x):
                self.obs.match_hits[mid][fam].add(x)

        # ?q= with a distinctive word of each company's name (a hit not explained by the listing's own
        # text came through a company field) and with the words of private titles (streams, matches).
        for token, owners in self.name_tokens().items():
            for sid in self.streams(f"stream list ?q={token}", q=token):
                s = self.stream_info(sid)
                if s is not None and token not in s.text and s.visibility != "public":
                    self.obs.direct[sid].append((f"stream list ?q={token} had it (not in its text)", owners))
        for token in self.title_tokens():
            self.streams(f"stream list ?q={token}", q=token)
            self.matches(f"match list ?q={token}", q=token)

        # Per listing: ?external_ref= with its reference (the demo scheme names the company), the API
        # detail (and the page for some), the match list ?stream=; for a private one its matches.
        for i, s in enumerate(probe):
            for sid in self.streams(f"stream list ?external_ref={s.ref}", external_ref=s.ref):
                self._ref_evidence(sid, s.ref, f"stream list ?external_ref={s.ref} had it")
            r = self.get(f"{API}/streams/{s.id}/")
            if r.status_code == 200:
                self.stream_obj(r.json(), f"GET /api/v1/streams/{s.id}/")
            self.matches(f"match list ?stream={s.id}", stream=s.id)
            if s.visibility == "private" or i < SAMPLE_PAGES:
                self.stream_page(s)
            if s.visibility == "private":
                r = self.get(f"{API}/streams/{s.id}/matches/")
                if r.status_code == 200:
                    self.obs.sightings[s.id].append(f"GET /api/v1/streams/{s.id}/matches/ answered 200")

        # Match list: orderings and the other filters.
        self.matches("match list")
        for o in ("score", "distance_km", "-distance_km", "created_at"):
            self.matches(f"match list ?ordering={o}", ordering=o)
        for s in [s for s in w.streams.values() if p.owns(s)]:
            self.matches(f"match list ?stream={s.id}", stream=s.id)
            self.matches(f"GET /api/v1/streams/{s.id}/matches/", path=f"/streams/{s.id}/matches/")
        counterparts = self.counterparts()
        for code in sorted({s.region for s in [*counterparts, *self.private]}):
            self.matches(f"match list ?region={code}", region=code)
        for code in sorted({s.category for s in [*counterparts, *self.private]}):
            self.matches(f"match list ?category={code}", category=code)
        for v in ("0", "0.25", "0.5", "0.75", "0.9"):
            self.matches(f"match list ?min_score={v}", min_score=v)
        for v in ("true", "false"):
            self.matches(f"match list ?prospective={v}", prospective=v)

        if p.admin_company_id is not None:
            self.exclusions({s.region for s in counterparts})
        if p.regions:
            self.facilitator_extras()
        self.lists_and_exports()
        self.match_details()
        self.read_truth()
        return self.obs

    def counterparts(self) -> list[StreamInfo]:
        """Listings on the other side of the matches seen so far (from the database: a stand-in for
        what the match shows of them, their region and category)."""
        from matching.models import Match

        ids = set()
        for offer, need in Match.objects.filter(pk__in=list(self.obs.matches)).values_list("offer_id", "need_id"):
            ids.update(i for i in (offer, need) if i)
        return [s for i in ids if (s := self.stream_info(i)) is not None and not self.p.owns(s)]

    def stream_page(self, s: StreamInfo) -> None:
        r = self.get(f"/streams/{s.id}/", page=True, scan=False)
        if r.status_code != 200:
            return
        if s.visibility == "private":
            self.obs.sightings[s.id].append(f"page /streams/{s.id}/ answered 200")
        owner = self.w.companies[s.company_id]
        if owner.name in r.content.decode():
            self.obs.direct[s.id].append((f"page /streams/{s.id}/ shows {owner.name!r}", frozenset({owner.id})))

    def page_stream_ids(self, url: str) -> set[int]:
        r = self.get(url, page=True)
        if r.status_code != 200:
            return set()
        ids = {int(i) for i in STREAM_LINK_RE.findall(r.content.decode())}
        for sid in ids:
            s = self.stream_info(sid)
            if s is not None and s.visibility == "private" and not self.p.may_see_private(s):
                self.obs.sightings[sid].append(f"page {url}")
        return ids

    def name_tokens(self) -> dict[str, frozenset[int]]:
        """The most distinctive word of each company's name -> the companies whose name has it."""
        holders: dict[str, set[int]] = defaultdict(set)
        words = {}
        for c in self.w.companies.values():
            words[c.id] = [wd for wd in re.findall(r"[\w-]+", c.name.lower()) if len(wd) >= 4 and wd not in LEGAL_FORMS]
            for wd in words[c.id]:
                holders[wd].add(c.id)
        out = {}
        for _cid, ws in sorted(words.items()):
            if ws:
                best = min(ws, key=lambda wd: (len(holders[wd]), wd))
                out[best] = frozenset(holders[best])
        return dict(sorted(out.items()))

    def title_tokens(self) -> list[str]:
        words = set()
        for s in self.private:
            words.update(wd for wd in re.findall(r"\w+", s.title.lower()) if len(wd) >= 5)
        return sorted(words)[:TITLE_WORDS]

    # --- Competitor exclusions as an oracle ---

    def exclusions(self, regions: set[str]) -> None:
        """Exclude company X (by its exact name, as the product allows), list the matches, undo. The
        companies tried are those with a site in a region the attacker's hidden counterparts show."""
        own = self.p.admin_company_id
        base = self.matches("match list (before exclusions)")
        fam = "exclusion of X hides the match"
        for x in sorted(c.id for c in self.w.companies.values() if c.regions & regions):
            if x in self.p.company_ids:
                continue
            self.obs.requests += 1
            r = self.api.post(f"{API}/companies/{own}/exclusions/", {"company_name": self.w.companies[x].name},
                              format="json")
            if r.status_code != 201:
                continue
            self.obs.domain[fam].add(x)
            after = {i["id"] for i in self.results("/matches/")}
            for mid in base - after:
                self.obs.match_hits[mid][fam].add(x)
            self.obs.requests += 1
            self.api.delete(f"{API}/companies/{own}/exclusions/{r.json()['id']}/")

    # --- Facilitator: a far-reaching need in the own region, and what lists and exports show ---

    def facilitator_extras(self) -> None:
        from streams.models import Stream

        tpl = self.w.notes["facilitator_need"]
        payload = {**tpl["payload"], "site": tpl["site_id"], "max_transport_km": 5000}
        with TestCase.captureOnCommitCallbacks(execute=True):
            self.obs.requests += 1
            r = self.api.post(f"{API}/streams/", payload, format="json")
        assert r.status_code == 201, r.content
        sid = r.json()["id"]
        s = Stream.objects.select_related("site__region", "category").get(pk=sid)
        self.obs.extra_streams[sid] = StreamInfo(sid, s.company_id, s.external_ref, s.visibility, s.status,
                                                 s.site.region.code, s.direction, s.kind, s.category.code, s.title,
                                                 s.title.lower())
        self.obs.created["facilitator_need"] = sid
        self.matches(f"GET /api/v1/streams/{sid}/matches/ (own 5000 km need)", path=f"/streams/{sid}/matches/")
        self.matches(f"match list ?stream={sid} (own 5000 km need)", stream=sid)

    def lists_and_exports(self) -> None:
        w, p = self.w, self.p
        for c in self.results("/companies/"):
            info = w.companies.get(c["id"])
            if info and not info.public and c["id"] not in p.company_ids and not (info.regions & p.regions):
                self.obs.names[c["id"]].append("company list /api/v1/companies/")
        for site in self.results("/sites/"):
            cid = w.site_company.get(site["id"])
            if cid is not None and cid not in p.company_ids and site.get("region") not in p.regions:
                self.obs.confidential.append(f"site {site['id']} of company {cid} in /api/v1/sites/")
        urls = ["/open-data/export.csv", f"{API}/open-data/"]
        for code in sorted(p.regions):
            urls += [f"/dashboards/{code}/export.csv", f"{API}/dashboards/{code}/"]
        for url in urls:
            self.get(url, page=not url.startswith(API))

    def match_details(self) -> None:
        ids = sorted(self.obs.matches)
        step = max(1, len(ids) // SAMPLE_MATCH_PAGES)
        paged = set(ids[::step][:SAMPLE_MATCH_PAGES])
        for mid in ids:
            r = self.get(f"{API}/matches/{mid}/")
            if r.status_code == 200:
                self.match_obj(r.json(), f"GET /api/v1/matches/{mid}/ (detail)")
            if mid not in paged:
                continue
            r = self.get(f"/matches/{mid}/", page=True)
            if r.status_code == 200:
                text = re.sub(r"<[^>]+>", " ", r.content.decode())
                self.obs.page_km[mid] = [float(v.replace(",", ".")) for v in PAGE_KM_RE.findall(text)]

    def read_truth(self) -> None:
        from matching.models import Match
        from matching.services import load_specs
        from streams.models import Stream

        fields = ("pk", "offer_id", "need_id", "source_company_id", "target_company_id", "distance_km",
                  "exchangeable_yearly", "revealed_at", "provider_response", "receiver_response", "prospective")
        stream_ids = set()
        for row in Match.objects.filter(pk__in=list(self.obs.matches)).values_list(*fields):
            t = dict(zip(fields, row, strict=True))
            self.obs.match_truth[t["pk"]] = t
            stream_ids.update(i for i in (t["offer_id"], t["need_id"]) if i)
        for company_id, region in _company_sites(
            {t[k] for t in self.obs.match_truth.values() for k in ("source_company_id", "target_company_id")}
        ):
            self.obs.created.setdefault("company_regions", defaultdict(set))[company_id].add(region)
        self.obs.specs = {s.id: s for s in load_specs(Stream.objects.filter(pk__in=stream_ids), by_ids=True)}


def _company_sites(company_ids):
    from companies.models import Site

    return Site.objects.filter(company_id__in=company_ids).values_list("company_id", "region__code")


# --- Judging ----------------------------------------------------------------------------------------


def _sides(obs: Observations, world: World, truth: dict) -> tuple[list[str], list[str]]:
    """(known sides, hidden sides) of a match for this persona: a party knows its own side and must
    not read the counterpart before both opted in; a facilitator knows the sides in its regions."""
    p = obs.persona
    own = {"offer": truth["source_company_id"] in p.company_ids, "need": truth["target_company_id"] in p.company_ids}
    if own["offer"] or own["need"]:
        if truth["revealed_at"] is not None:
            return [r for r in own if own[r]], []
        return [r for r in own if own[r]], [r for r in own if not own[r]]
    known, hidden = [], []
    for role in ("offer", "need"):
        if _side_regions(obs, world, truth, role) & p.regions:
            known.append(role)
        else:
            hidden.append(role)
    return known, hidden


def _side_stream(obs: Observations, world: World, truth: dict, role: str) -> StreamInfo | None:
    sid = truth["offer_id" if role == "offer" else "need_id"]
    return (world.streams.get(sid) or obs.extra_streams.get(sid)) if sid else None


def _side_regions(obs, world, truth, role) -> set[str]:
    s = _side_stream(obs, world, truth, role)
    if s is not None:
        return {s.region}
    cid = truth["source_company_id" if role == "offer" else "target_company_id"]
    return set(obs.created.get("company_regions", {}).get(cid, ())) or set(world.companies[cid].regions)


def _opted_in(truth: dict, role: str) -> bool:
    return truth["provider_response" if role == "offer" else "receiver_response"] == "yes"


def resolve_match_hits(obs: Observations, world: World) -> None:
    """Match families -> the hidden listing(s) of each match."""
    for mid, fams in obs.match_hits.items():
        truth = obs.match_truth.get(mid)
        if truth is None:
            continue
        known, hidden = _sides(obs, world, truth)
        # A match comes back for either of its companies: for the known side's company it says
        # nothing about the hidden side (a party filtering by its own company sees all its matches).
        explained = {truth["source_company_id" if r == "offer" else "target_company_id"] for r in known}
        for role in hidden:
            s = _side_stream(obs, world, truth, role)
            if s is None or s.visibility == "public":
                continue
            for fam, xs in fams.items():
                obs.hits[s.id][fam] |= xs - explained


def match_side_evidence(obs: Observations, world: World) -> None:
    """Companies named on the hidden side of a match the persona reads."""
    for mid, obj in obs.matches.items():
        truth = obs.match_truth.get(mid)
        if truth is None:
            continue
        _known, hidden = _sides(obs, world, truth)
        for role in hidden:
            s = _side_stream(obs, world, truth, role)
            side = obj.get(role) or {}
            where = f"match {mid} ({obs.match_where[mid][0]})"
            if s is None or s.visibility == "public":
                continue
            if side.get("company"):
                obs.direct[s.id].append((f"{where}: {role}.company={side['company']}", frozenset({side["company"]["id"]})))
            for key in ("label", "description"):
                text = (side.get(key) or "").lower()
                for name, ids in _names_in(world, text):
                    obs.direct[s.id].append((f"{where}: {role}.{key} names {name!r}", frozenset(ids)))
            if side.get("site"):
                cid = world.site_company.get(side["site"]["id"])
                if cid:
                    obs.direct[s.id].append((f"{where}: {role}.site={side['site']['id']}", frozenset({cid})))


def _names_in(world: World, text: str):
    for c in world.companies.values():
        if c.name.lower() in text:
            yield c.name, {c.id}


def candidate_report(obs: Observations, world: World):
    """Per anonymous listing the persona may not read in full: (listing, design set, answer set, reasons)."""
    resolve_match_hits(obs, world)
    match_side_evidence(obs, world)
    p = obs.persona
    everyone = set(world.companies) - p.company_ids
    out = []
    for s in world.listings("anonymous"):
        if p.owns(s) or p.facilitates(s):
            continue
        design = world.design_candidates(s, p, shown_label(obs, world, s))
        answers = set(everyone)
        why = []
        for fam, xs in obs.hits.get(s.id, {}).items():
            asked = obs.domain[fam]
            if xs and xs != asked:
                said = xs | (everyone - asked)
                answers &= said
                if not design <= said or len(said) < 3:
                    why.append(f"{fam}: the listing came back only for X in {sorted(xs)[:5]}")
        for where, ids in obs.direct.get(s.id, []):
            if where.startswith(DESIGN_LEVEL) and design <= ids:
                continue  # says no more than the sector and region shown by design
            answers &= set(ids)
            if not design <= ids or len(ids) < 3:
                why.append(where)
        out.append((s, design, answers, why))
    return out


def shown_label(obs: Observations, world: World, s: StreamInfo) -> tuple[str, str]:
    """The (sector, area) the answers showed of listing `s`; ("", "") if never shown (nothing). Two
    different labels for one listing would tell more than either: the sweep then takes the exact
    region and code (and `label_failures` reports it)."""
    seen = obs.shown.get(s.id, set())
    if len(seen) == 1:
        return next(iter(seen))
    if not seen:
        return ("", "")
    return (world.companies[s.company_id].nace, s.region)


def design_below_k(obs: Observations, world: World, k: int = 3) -> list[str]:
    """Anonymous listings the persona was shown whose label fits fewer than `k` companies, its own
    included (the label's promise: k counted companies share it; the attacker's own company may be
    one of them, so the sweep's design set, without it, can be k - 1)."""
    out = []
    for s in world.listings("anonymous"):
        if obs.persona.owns(s) or obs.persona.facilitates(s) or s.id not in obs.shown:
            continue
        sector, area = shown_label(obs, world, s)
        fits = [c.id for c in world.companies.values() if world.consistent(c, sector, area)]
        if len(fits) < k:
            out.append(f"{obs.persona.name}: anonymous listing {s.id} ({s.region}, NACE "
                       f"{world.companies[s.company_id].nace}) shown as sector {sector!r}, area {area!r}: "
                       f"fits {len(fits)} companies {sorted(fits)}")
    return out


def label_failures(obs: Observations) -> list[str]:
    """Listings whose answers showed more than one label (pages and API must agree)."""
    return [f"{obs.persona.name}: anonymous listing {sid} shown as {sorted(labels)}"
            for sid, labels in sorted(obs.shown.items()) if len(labels) > 1]


def vector(why: str) -> str:
    """The kind of answer behind one narrowing (for the per-vector count of a failure)."""
    if ": the listing came back" in why:
        return why.split(": the listing came back")[0]
    if m := re.search(r": field (\w+)=", why):
        return f"stream answer shows field {m.group(1)}"
    if m := re.match(r"match \d+ \(.*?\): (offer|need)\.(\w+)", why):
        return f"match side shows {m.group(2)}"
    for prefix, name in (("stream list ?external_ref=", "stream list ?external_ref="),
                         ("stream list ?q=", "stream list ?q=<company-name word>"),
                         ("page /streams/", "stream page names the owner")):
        if why.startswith(prefix):
            return name
    return why.split(": the listing came back")[0]


def anonymity_failures(obs: Observations, world: World) -> tuple[list[str], list[str]]:
    """(failures, design-level notes). The first failure line counts the listings per kind of answer."""
    failures, design_low, vectors = [], [], Counter()
    for s, design, answers, why in candidate_report(obs, world):
        left = design & answers
        owner = world.companies[s.company_id]
        if len(left) < 3 and (left != design or len(answers) < 3):
            vectors.update({vector(w) for w in why})
            failures.append(
                f"{obs.persona.name}: anonymous listing {s.id} ({s.ref}, {s.title!r}, {s.region}, NACE {owner.nace}, "
                f"owner {owner.id}) narrowed to {sorted(left)} from design set {sorted(design)} "
                f"(answers alone: {len(answers)} companies) by: {'; '.join(dict.fromkeys(why))[:600]}"
            )
        if len(design) < 3:
            design_low.append(f"{s.id}: {len(design)}")
    for cid, where in sorted(obs.names.items()):
        c = world.companies[cid]
        failures.append(f"{obs.persona.name}: the name of company {cid} ({c.name!r}, lists nothing publicly, "
                        f"regions {sorted(c.regions)}) appeared in {sorted(set(where))[:4]}")
    if vectors:
        failures.insert(0, f"{SUMMARY}{obs.persona.name}: listings narrowed per kind of answer: {dict(vectors.most_common())}")
    return failures, design_low


def private_failures(obs: Observations, world: World) -> list[str]:
    p = obs.persona
    sightings = defaultdict(list, {k: list(v) for k, v in obs.sightings.items()})
    for mid, truth in obs.match_truth.items():
        for role in ("offer", "need"):
            s = _side_stream(obs, world, truth, role)
            if s is None or s.visibility != "private" or p.may_see_private(s) or _opted_in(truth, role):
                continue
            side = (obs.matches.get(mid) or {}).get(role) or {}
            shown = {k: (side.get("stream") or {}).get(k) for k in ("id", "title", "category")}
            sightings[s.id].append(f"match {mid} side {role} ({obs.match_where[mid][0]}; shows {shown})")
    return [
        f"{p.name}: private listing {sid} ({world.streams[sid].ref if sid in world.streams else sid}, "
        f"{world.streams[sid].region if sid in world.streams else ''}) seen in {where[:4]} ({len(where)} answers)"
        for sid, where in sorted(sightings.items())
    ]


# --- Hidden prices and sites from match figures -----------------------------------------------------


def _config():
    from matching.services import engine_config

    return engine_config()


def _half_unit(shown: str) -> float:
    """Half a unit of the last digit of a figure as printed (its rounding)."""
    shown = shown.strip()
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    return 0.5 * 10 ** -decimals


def _sig_half_unit(value: float) -> float:
    """Half a unit of the last of the two significant digits `estimate()` keeps (0.5 at least)."""
    if not value:
        return 0.5
    return max(0.5, 0.5 * 10 ** (math.floor(math.log10(abs(value))) - 1))


def distance_estimates(obj: dict, config) -> list[tuple[str, float, float]]:
    """Every distance the figures of one match JSON let a reader work out: (how, km, slack km). The
    slack is what the figure's own rounding allows: an estimate within it of the shown band is
    explained by the band and is no leak."""
    per_km = config.transport_eur_per_tkm * config.road_circuity
    out = []
    if obj.get("distance_km") is not None:
        out.append(("distance_km", float(obj["distance_km"]), 0.05))
    parts = {p["key"]: float(p["value"]) for p in obj.get("parts") or []}
    reasons = [str(r) for r in obj.get("reasons") or []]
    radius = next((float(m.group(1)) for r in reasons if (m := RADIUS_RE.search(r))), None)
    for r in reasons:
        if m := EXACT_REASON_RE.match(r):
            out.append((f"reason {r!r}", float(m.group(1)), _half_unit(m.group(1))))
        if m := TRANSPORT_RE.search(r):
            t = float(m.group(1))
            out.append((f"transport reason {r!r}", (t - config.handling_eur_per_t) / per_km,
                        _half_unit(m.group(1)) / per_km))
    if radius and "distance" in parts and parts["distance"] < 1.0:
        out.append((f"distance part {parts['distance']:.6f} x radius {radius:g} km", radius * (1 - parts["distance"]),
                     0.01))
    if radius and obj.get("score") and all(k in parts for k in ("compatibility", "volume_value", "availability")):
        def from_score(score, c, vv, av):
            denom = c ** config.w_compatibility * vv ** config.w_volume_value * av ** config.w_availability
            return radius * (1 - (score / denom) ** (1 / config.w_distance)) if denom > 0 else None

        # A prospective match's score carries the engine's prospective penalty.
        score = float(obj["score"]) / (config.prospective_penalty if obj.get("prospective") else 1.0)
        shown = (score, parts["compatibility"], parts["volume_value"], parts["availability"])
        est = from_score(*shown)
        if est is not None and est < radius:
            # The slack is what the four figures' own rounding (two decimals) allows: every corner of
            # that box, not only the printed values.
            half = 0.005 if all(round(x, 2) == x for x in shown[1:]) else 5e-7
            corners = [from_score(*(max(1e-9, x + sx * half) for x, sx in zip(shown, signs, strict=True)))
                       for signs in itertools.product((-1, 1), repeat=4)]
            slack = max(abs(c - est) for c in corners if c is not None)
            out.append((f"score {obj['score']} / other parts, radius {radius:g} km", est, slack))
    impact = obj.get("impact") or {}
    q = impact.get("quantity_yearly")
    if impact.get("transport_eur") and q:
        v = float(impact["transport_eur"])
        out.append(("impact.transport_eur / quantity", (v / float(q) - config.handling_eur_per_t) / per_km,
                    _sig_half_unit(v) / float(q) / per_km))
    # The most precise first: that is the one an attacker would work with.
    order = ("distance_km", "reason", "distance part", "score", "impact.", "transport reason")
    return sorted(out, key=lambda e: next(i for i, k in enumerate(order) if e[0].startswith(k)))


def site_failures(obs: Observations, world: World, verify=None) -> list[str]:
    from matching.engine import band_distance
    from streams.presentation import approximate_km

    config, out, kinds = _config(), [], Counter()
    for mid, obj in sorted(obs.matches.items()):
        truth = obs.match_truth.get(mid)
        if truth is None:
            continue
        _known, hidden = _sides(obs, world, truth)
        if not hidden:
            continue
        d = float(truth["distance_km"])
        band = approximate_km(d)
        found = list(distance_estimates(obj, config))
        found += [(f"page /matches/{mid}/ shows {km} km", km, 0.05) for km in obs.page_km.get(mid, [])]
        # The shared figures are computed at the middle of the band's range within the radius
        # (`disclosure.band_distance`): an estimate at that point is the band too.
        reasons = [str(r) for r in obj.get("reasons") or []]
        radius = next((float(m.group(1)) for r in reasons if (m := RADIUS_RE.search(r))), None)
        shown_at = {band} | ({band_distance(band, radius)} if radius else set())
        leaks = [(how, est) for how, est, slack in found
                 if all(abs(est - x) > slack + 1e-6 for x in shown_at) and d > 0 and abs(est - d) <= 0.05 * d]
        if leaks and verify is not None and not verify(truth, hidden[0], "site"):
            leaks = []  # the figures do not move with the hidden site: the estimate is the band's noise
        for role in hidden:
            side = obj.get(role) or {}
            if side.get("site"):
                leaks.append((f"{role}.site shown: {side['site']}", d))
        if leaks:
            kinds.update({method(how) for how, _est in leaks})
            out.append(f"{obs.persona.name}: match {mid} (hidden side {hidden}, true {d:.2f} km, band {band} km): "
                       + "; ".join(f"{how} -> {est:.2f} km" for how, est in leaks[:4]))
    if kinds:
        out.insert(0, f"{SUMMARY}{obs.persona.name}: matches per way of recovering the distance: {dict(kinds.most_common())}")
    return out


METHODS = (
    ("distance_km", "distance_km"), ("reason '", "exact km in the reasons"), ("distance part", "distance part x radius"),
    ("score", "score / other parts x radius"), ("impact.transport_eur", "impact.transport_eur / quantity"),
    ("transport reason", "transport EUR/t in the reasons"), ("page", "exact km on the match page"),
    ("offer.site", "site shown"), ("need.site", "site shown"), ("volume_value part", "volume_value part"),
    ("impact.eur_receiver", "impact.eur_receiver"), ("impact.eur_provider", "impact.eur_provider"),
    ("confidential", "confidential fields shown"), ("stream ", "stream answer shows confidential fields"),
    ("site ", "site list shows a site"), ("unit value in reason", "unit value in the reasons"),
)


def method(how: str) -> str:
    return next((name for prefix, name in METHODS if how.startswith(prefix)), how[:40])


def price_failures(obs: Observations, world: World, verify=None) -> list[str]:
    """Try to recover the hidden side's price or disposal cost (EUR per base unit) from the figures."""
    from matching.engine import transport_per_unit, volume_fit

    config, out, kinds = _config(), [], Counter()
    out += [f"{obs.persona.name}: {c}" for c in obs.confidential]
    kinds.update(method(c) for c in obs.confidential)
    for mid, obj in sorted(obs.matches.items()):
        truth = obs.match_truth.get(mid)
        if truth is None or truth["prospective"] or not truth["offer_id"] or not truth["need_id"]:
            continue
        known, hidden = _sides(obs, world, truth)
        if not hidden:
            continue
        offer, need = obs.specs.get(truth["offer_id"]), obs.specs.get(truth["need_id"])
        if offer is None or need is None:
            continue
        recovered = []
        for role in hidden:
            conf = (obj.get(role) or {}).get("confidential") or {}
            shown = {f: conf[f] for f in ("price_eur_per_unit", "disposal_cost_eur_per_unit") if conf.get(f) is not None}
            if shown:
                kinds["confidential fields shown"] += 1
                out.append(f"{obs.persona.name}: match {mid}: hidden {role} side's {shown} shown in {role}.confidential "
                           f"({obs.match_where[mid][0]})")
        ests = distance_estimates(obj, config)
        d = ests[0][1] if ests else float(obj.get("approx_distance_km") or 0)
        how_d = ests[0][0] if ests else "approx_distance_km"
        half = config.default_value_for(offer.value_class) / 2.0
        parts = {p["key"]: float(p["value"]) for p in obj.get("parts") or []}
        value = None
        reasons = [str(r) for r in obj.get("reasons") or []]
        for r in reasons:
            if m := UNIT_VALUE_RE.search(r):
                value, how_v = float(m.group(1)), f"unit value in reason {r!r}"
        if value is None and offer.kind == "material" and "volume_value" in parts:
            qo = (obj.get("offer") or {}).get("stream") or {}
            qn = (obj.get("need") or {}).get("stream") or {}
            fit = volume_fit(float(qo.get("quantity_yearly") or 0), float(qn.get("quantity_yearly") or 0), config)[0]
            ratio = (parts["volume_value"] - config.volume_fit_share * fit) / (1 - config.volume_fit_share)
            if 0 < ratio < 1:
                value = ratio * transport_per_unit(d, config) / (1 - ratio)
                how_v = f"volume_value part {parts['volume_value']:.6f} with distance from {how_d}"
        if value is not None:
            if "offer" in hidden and "need" in known:
                buy = max(0.0, need.price_eur_per_unit if need.price_eur_per_unit is not None else half)
                recovered.append(("offer", "disposal_cost_eur_per_unit", how_v, value - buy))
            if "need" in hidden and "offer" in known:
                disp = max(0.0, offer.disposal_cost_eur_per_unit
                           if offer.disposal_cost_eur_per_unit is not None else half)
                recovered.append(("need", "price_eur_per_unit", how_v, value - disp))
        impact = obj.get("impact") or {}
        q = float(impact.get("quantity_yearly") or 0)
        if ("offer" in hidden and "need" in known and impact.get("eur_receiver") is not None and q > 0
                and need.price_eur_per_unit is not None and offer.kind == "material"):
            asking = need.price_eur_per_unit - (float(impact["eur_receiver"]) / q + transport_per_unit(d, config))
            recovered.append(("offer", "price_eur_per_unit", f"impact.eur_receiver with distance from {how_d}", asking))
            if impact.get("eur_provider") is not None:
                recovered.append(("offer", "disposal_cost_eur_per_unit", "impact.eur_provider - recovered price",
                                  float(impact["eur_provider"]) / q - asking))
        # What a figure computed from public defaults (instead of the hidden value) would give back.
        own_half = (max(0.0, need.price_eur_per_unit if need.price_eur_per_unit is not None else half)
                    if "need" in known else
                    max(0.0, offer.disposal_cost_eur_per_unit if offer.disposal_cost_eur_per_unit is not None else half))
        defaults = (0.0, half, 2 * half - own_half)
        for role, f, how, val in recovered:
            true = getattr(offer if role == "offer" else need, f, None)
            if val is None or true is None or true == 0:
                continue
            if any(abs(val - x) <= 1e-6 * max(1.0, abs(x)) for x in defaults):
                continue  # a public default, not a recovery
            if abs(val - true) <= 0.05 * abs(true):
                if verify is not None and not verify(truth, role, f):
                    continue  # the figures do not move with the hidden value: a coincidence, no information
                kinds[f"{method(how)} -> {role} {f}"] += 1
                out.append(f"{obs.persona.name}: match {mid}: hidden {role} {f} = {true:g} EUR/base unit recovered as "
                           f"{val:g} from {how}")
    if kinds:
        out.insert(0, f"{SUMMARY}{obs.persona.name}: findings per way: {dict(kinds.most_common())}")
    return out


def facilitator_failures(obs: Observations, world: World) -> list[str]:
    """A facilitator: no company outside its regions named (other than through a public listing), no
    confidential field of a stream outside its regions, in any answer."""
    p, out = obs.persona, []
    for cid, where in sorted(obs.names.items()):
        c = world.companies[cid]
        out.append(f"{p.name}: company {cid} ({c.name!r}, regions {sorted(c.regions)}) named in {sorted(set(where))[:4]}")
    for mid, obj in sorted(obs.matches.items()):
        truth = obs.match_truth.get(mid)
        if truth is None:
            continue
        _known, hidden = _sides(obs, world, truth)
        for role in hidden:
            side = obj.get(role) or {}
            s = _side_stream(obs, world, truth, role)
            cid = truth["source_company_id" if role == "offer" else "target_company_id"]
            if side.get("company") and (s is None or s.visibility != "public"):
                out.append(f"{p.name}: match {mid} names {role} company {cid} ({world.companies[cid].name!r}, "
                           f"regions {sorted(_side_regions(obs, world, truth, role))}) via {obs.match_where[mid][0]}")
            if side.get("confidential") or side.get("site"):
                out.append(f"{p.name}: match {mid} shows the {role} side's confidential fields/site (regions "
                           f"{sorted(_side_regions(obs, world, truth, role))}): "
                           f"{json.dumps({'confidential': side.get('confidential'), 'site': side.get('site')})[:200]}")
    out += [f"{p.name}: {c}" for c in obs.confidential]
    return out


# --- Counterfactual check of a suspected recovery ----------------------------------------------------

SHOWN_FIGURES = ("score", "score_percent", "parts", "reasons", "distance_km", "approx_distance_km", "eur_per_year",
                 "impact")


def moves_with_hidden_value(user, truth: dict, role: str, field: str) -> bool:
    """Whether what `user` reads of the match changes when the hidden side's `field` changes (a price
    or disposal cost x 1.3, or its site moved 1 % of the distance or less, within the same band) and the engine
    runs again: a figure that lands within 5 % of the hidden value but does not move with it carries
    no information about it. Unknown (the match is gone, or every move changes the band) counts as
    moving, so that the suspicion stands: every move tried changed the band, or took the pair out of
    both sides' top suggestions. Rolled back."""
    from decimal import Decimal

    from matching.models import Match
    from matching.services import matching_run_for_stream
    from streams.models import Stream
    from streams.presentation import approximate_km

    api = APIClient()
    api.force_authenticate(user)
    key = {k: truth[k] for k in ("offer_id", "need_id", "source_company_id", "target_company_id")}

    def read():
        m = Match.objects.filter(**key).first()
        if m is None:
            return None, None
        r = api.get(f"/api/v1/matches/{m.pk}/")
        return (({k: r.json().get(k) for k in SHOWN_FIGURES}, m.distance_km) if r.status_code == 200
                else (None, None))

    hidden = Stream.objects.select_related("site").get(pk=truth[f"{role}_id"])
    other_id = truth["need_id" if role == "offer" else "offer_id"]
    other = Stream.objects.select_related("site").filter(pk=other_id).first() if other_id else None
    tries = [1.3]
    if field == "site" and other is not None:
        d = float(truth["distance_km"])  # the engine's distance (between grid cells), which is banded
        centre = approximate_km(d) / d if d else 1.0  # towards the middle of the band
        tries = [1.01, 0.99, centre * 1.002, centre * 0.998, centre, centre * 1.006, centre * 0.994]
    origin = (hidden.site.latitude, hidden.site.longitude)
    for factor in tries:
        with transaction.atomic():
            before, d0 = read()
            if field == "site":
                if other is None:
                    transaction.set_rollback(True)
                    return True
                site = hidden.site
                lat0, lon0 = origin  # the rollback does not reset the object in memory
                olat, olon = other.site.latitude, other.site.longitude
                site.latitude = olat + (lat0 - olat) * factor
                site.longitude = olon + (lon0 - olon) * factor
                site.save()
            else:
                value = float(getattr(hidden, field) or 0)
                setattr(hidden, field, Decimal(f"{value * 1.3 + 1:.2f}"))
                hidden.save()
            # Both sides again: the pair is kept if it is in either side's top suggestions.
            matching_run_for_stream(stream=hidden)
            if other is not None:
                matching_run_for_stream(stream=other)
            after, d1 = read()
            transaction.set_rollback(True)
        if before is None or after is None:
            continue  # the pair left both sides' top suggestions: this move cannot tell
        if field == "site" and approximate_km(d0) != approximate_km(d1):
            continue  # the engine's band moved: this move cannot tell
        return before != after
    return True


def in_transaction(fn):
    """Run `fn()` in a savepoint that is rolled back (the sweep's own writes)."""
    with transaction.atomic():
        result = fn()
        transaction.set_rollback(True)
    return result
