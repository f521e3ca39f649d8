"""An independent computation of every dashboard figure: plain Python over model instances, no
aggregation in the database, written from the definitions in docs/dashboards.md."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from companies.models import Company, Site
from facilitation.models import RealisedExchange
from matching.models import Match
from streams.models import Stream

CLOSED = {"rejected", "declined", "withdrawn"}
OPEN = {"suggested", "under_review", "approved", "introduced", "negotiating"}


@dataclass
class Agg:
    n: int = 0
    total: float = 0.0
    companies: set = field(default_factory=set)
    sums: dict = field(default_factory=lambda: defaultdict(float))


class World:
    """Every row, loaded once."""

    def __init__(self):
        self.sites = list(Site.objects.all())
        self.companies = {c.pk: c for c in Company.objects.all()}
        self.streams = list(Stream.objects.select_related("site", "category"))
        self.stream_by_id = {s.pk: s for s in self.streams}
        self.matches = list(Match.objects.all())
        self.realised = {r.match_id: r for r in RealisedExchange.objects.all()}
        self.company_regions = defaultdict(set)
        for s in self.sites:
            self.company_regions[s.company_id].add(s.region_id)

    def match_regions(self, m) -> set[int]:
        """The regions of the match's listed streams (a prospective match has one)."""
        out = set()
        if m.offer_id:
            out.add(self.stream_by_id[m.offer_id].site.region_id)
        if m.need_id:
            out.add(self.stream_by_id[m.need_id].site.region_id)
        return out

    # --- figures ---
    def companies_in(self, rid):
        ids = {s.company_id for s in self.sites if s.region_id == rid}
        smes = {c for c in ids if self.companies[c].is_sme}
        return ids, smes

    def is_matched(self, s) -> bool:
        for m in self.matches:
            if m.status in CLOSED:
                continue
            if s.direction == "offer" and m.offer_id == s.pk and m.need_id is not None:
                return True
            if s.direction == "need" and m.need_id == s.pk and m.offer_id is not None:
                return True
        return False

    def listings(self, rid) -> dict[str, dict[str, Agg]]:
        """key -> {"all": Agg, "unmatched": Agg, "matched": Agg}"""
        out = defaultdict(lambda: {"all": Agg(), "unmatched": Agg(), "matched": Agg()})
        for s in self.streams:
            if s.status != "active" or s.site.region_id != rid:
                continue
            part = "matched" if self.is_matched(s) else "unmatched"
            for key in (s.direction, f"{s.direction}/{s.kind}", f"{s.direction}/{s.kind}/{s.category.code}"):
                for p in ("all", part):
                    a = out[key][p]
                    a.n += 1
                    a.total += s.quantity_yearly or 0.0
                    a.companies.add(s.company_id)
        return out

    def funnel(self, rid) -> dict[str, Agg]:
        out = defaultdict(Agg)
        for m in self.matches:
            if rid not in self.match_regions(m):
                continue
            for key in ("all", m.status):
                out[key].n += 1
                out[key].companies |= {m.source_company_id, m.target_company_id}
        return out

    def best_open(self):
        best = {}
        for m in self.matches:
            if m.status in OPEN and not m.prospective and m.offer_id and m.need_id:
                cur = best.get(m.offer_id)
                if cur is None or (-m.score, m.pk) < (-cur.score, cur.pk):
                    best[m.offer_id] = m
        return list(best.values())

    def impact(self, rid) -> dict[str, Agg]:
        est, real = Agg(), Agg()
        for m in self.best_open():
            if rid in self.match_regions(m):
                est.n += 1
                est.companies |= {m.source_company_id, m.target_company_id}
                est.sums["eur"] += m.eur_provider + m.eur_receiver
                est.sums["co2e_t"] += m.co2e_t
                est.sums["diverted_t"] += m.diverted_t
                est.sums["water_m3"] += m.exchangeable_yearly if m.unit == "m3" else 0.0
                est.sums["energy_mwh"] += m.exchangeable_yearly if m.unit == "MWh" else 0.0
        for m in self.matches:
            r = self.realised.get(m.pk)
            if m.status == "implemented" and r is not None and rid in self.match_regions(m):
                real.n += 1
                real.companies |= {m.source_company_id, m.target_company_id}
                real.sums["eur"] += r.eur_provider + r.eur_receiver
                real.sums["co2e_t"] += r.co2e_t
                real.sums["diverted_t"] += r.diverted_t
                real.sums["water_m3"] += r.water_m3
                real.sums["energy_mwh"] += r.energy_mwh
        return {"estimated": est, "realised": real}

    def trends(self, rid, months: list[str]) -> dict[tuple[str, str], Agg]:
        first = date.fromisoformat(months[0] + "-01")

        def bucket(d: date) -> str:
            return "earlier" if d < first else f"{d.year:04d}-{d.month:02d}"

        out = defaultdict(Agg)
        for s in self.streams:
            if s.status == "active" and s.site.region_id == rid:
                a = out[(bucket(timezone.localtime(s.created_at).date()), s.direction + "s")]
                a.n += 1
                a.companies.add(s.company_id)
        for m in self.matches:
            if rid not in self.match_regions(m):
                continue
            a = out[(bucket(timezone.localtime(m.created_at).date()), "suggestions")]
            a.n += 1
            a.companies |= {m.source_company_id, m.target_company_id}
            r = self.realised.get(m.pk)
            if m.status == "implemented" and r is not None:
                a = out[(bucket(r.started_on), "started")]
                a.n += 1
                a.companies |= {m.source_company_id, m.target_company_id}
        return out

    def map_cells(self, rid) -> dict[str, dict]:
        cells = defaultdict(lambda: {"companies": set(), "sites": 0, "offers": Agg(), "needs": Agg()})
        for s in self.sites:
            if s.region_id == rid:
                key = f"{math.floor(s.latitude / 0.25)}:{math.floor(s.longitude / 0.25)}"
                cells[key]["companies"].add(s.company_id)
                cells[key]["sites"] += 1
        for st in self.streams:
            if st.status == "active" and st.site.region_id == rid:
                key = f"{math.floor(st.site.latitude / 0.25)}:{math.floor(st.site.longitude / 0.25)}"
                a = cells[key]["offers" if st.direction == "offer" else "needs"]
                a.n += 1
                a.companies.add(st.company_id)
        return cells

    def flows(self, rid, codes: dict[int, str]) -> dict[str, Agg]:
        out = defaultdict(Agg)
        for m in self.matches:
            if m.status in CLOSED or not (m.offer_id and m.need_id) or rid not in self.match_regions(m):
                continue
            a = self.stream_by_id[m.offer_id].site.region_id
            b = self.stream_by_id[m.need_id].site.region_id
            agg = out[f"{codes[a]}>{codes[b]}"]
            agg.n += 1
            agg.companies |= {m.source_company_id, m.target_company_id}
        return out
