"""The k-anonymous label of a company whose name is hidden (issue #18).

A listing (or a match side) whose company the viewer may not be told shows its company as a sector
and an area. Shown exactly (NACE class, NUTS-2 region), the two together often fit one company. So
they are shown at the finest step of one ladder that at least `ANONYMITY_K` *counted* companies
share: companies a facilitator or staff member verified (`Company.verified_at`: sign-up sybils cannot
make a group look big) plus the owner itself, with a site in the area and a NACE code under the
sector. The ladder keeps the region as long as it can (distance and region matter most to partners):

    region x (class, group, division, section, no sector),
    then country x (class, ..., no sector),
    then the Baltic Sea region (everywhere) x (class, ..., no sector).

The first step that reaches k is shown; where even "a company in the Baltic Sea region" is below k
(a platform with fewer than k counted companies) that last step is shown.

The label depends on (site's region, company's NACE code, whether the company is verified) only, so
`LabelTable` answers it from counts per (area, NACE code) that one grouped query reads; the table is
cached under a key that changes with the data (`_version`) and kept for the rest of the request.
Filters ask the same table which (region, code, verified) triples show a given sector or area
(`sites_q`), so no filter selects a hidden listing by a finer sector or area than it shows.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext as _

from audit.context import current_request
from companies.choices import Country, NaceRevision
from companies.constants import ANONYMITY_K, LABEL_CACHE_SECONDS

REGION, COUNTRY, ALL = "region", "country", "all"
AREA_LEVELS = (REGION, COUNTRY, ALL)
CACHE_PREFIX = "kanon:v1"


@dataclass(frozen=True)
class Label:
    """What is shown of a hidden company: a sector (NACE code and title, "" for none) and an area."""

    sector_code: str
    sector_title: str
    area: str  # REGION, COUNTRY or ALL
    region_code: str
    region_name: str
    country: str

    @property
    def sector_level(self) -> int:
        """4 class, 3 group, 2 division, 1 section, 0 no sector."""
        code = self.sector_code
        if not code:
            return 0
        if code[0].isalpha():
            return 1
        return {2: 2, 4: 3, 5: 4}.get(len(code), 4)

    @property
    def sector_compact(self) -> str:
        return self.sector_code.replace(".", "") if self.sector_level >= 2 else ""

    @property
    def area_code(self) -> str:
        return {REGION: self.region_code, COUNTRY: self.country, ALL: ""}[self.area]

    @property
    def area_name(self) -> str:
        if self.area == REGION:
            return self.region_name
        if self.area == COUNTRY:
            return str(Country(self.country).label) if self.country in Country.values else self.country
        return _("the Baltic Sea region")

    @property
    def sector_label(self) -> str:
        """"Manufacture of dairy products (NACE 10.51)", "" without a sector."""
        if not self.sector_code:
            return ""
        return _("%(sector)s (NACE %(code)s)") % {"sector": self.sector_title, "code": self.sector_code}

    @property
    def company_label(self) -> str:
        """"Manufacture of dairy products company (NACE 10.51)", or "A company" without a sector."""
        if not self.sector_code:
            return _("A company")
        return _("%(sector)s company (NACE %(code)s)") % {"sector": self.sector_title, "code": self.sector_code}


def _title(title: str, level: int) -> str:
    # Section titles are upper case in the NACE tables ("MANUFACTURING").
    return title.capitalize() if level == 1 else title


@dataclass
class LabelTable:
    """Counted companies per (area, sector), and the NACE tree: everything a label needs."""

    # (area key, sector code) -> verified companies; area keys ("r", region id), ("c", country), ("*",).
    counts: dict[tuple, int]
    # (region id, NACE id, verified) of every site on the platform: what filters enumerate.
    present: frozenset[tuple[int, int, bool]]
    region_country: dict[int, str]
    nace: dict[int, tuple[str, str, str, int]]  # id -> (code, title, parent code, level)
    by_code: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # code -> (title, parent, level)

    def __post_init__(self):
        self.by_code = {code: (title, parent, level) for code, title, parent, level in self.nace.values()}
        self._memo: dict[tuple, Label] = {}

    def ancestors(self, code: str) -> list[str]:
        """The ladder's sectors for a company's code: itself, its parents up to the section, then ""."""
        out = []
        while code and code not in out:
            out.append(code)
            code = self.by_code.get(code, ("", "", 0))[1]
        return [*out, ""]

    def choose(self, *, region_id: int, country: str, nace_code: str, verified: bool) -> tuple[str, str]:
        """(area level, sector code) of the first step of the ladder that `ANONYMITY_K` companies share."""
        key = (region_id, country, nace_code, verified)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        own = 0 if verified else 1  # the owner counts even before it is verified
        sectors = self.ancestors(nace_code)
        chosen = (ALL, "")
        for area, area_key in ((REGION, ("r", region_id)), (COUNTRY, ("c", country)), (ALL, ("*",))):
            sector = next((s for s in sectors if self.counts.get((area_key, s), 0) + own >= ANONYMITY_K), None)
            if sector is not None:
                chosen = (area, sector)
                break
        self._memo[key] = chosen
        return chosen

    def label(self, *, region_id: int, region_code: str, region_name: str, country: str, nace_code: str,
              verified: bool) -> Label:
        area, sector = self.choose(region_id=region_id, country=country, nace_code=nace_code, verified=verified)
        title, _parent, level = self.by_code.get(sector, ("", "", 0))
        return Label(sector, _title(title, level), area, region_code, region_name, country)

    def label_for_site(self, site, company) -> Label:
        region = site.region
        return self.label(region_id=region.pk, region_code=region.code, region_name=region.name,
                          country=region.country, nace_code=company.nace.code,
                          verified=company.verified_at is not None)

    def sites_q(self, shows: Callable[[int, Label], bool]) -> Q:
        """A condition on `Site` rows: the sites whose label (for their company) satisfies
        `shows(region_id, label)`. For filters over hidden listings."""
        groups: dict[tuple[int, bool], list[int]] = defaultdict(list)
        for region_id, nace_id, verified in self.present:
            code = self.nace.get(nace_id, ("",))[0]
            label = self.label(region_id=region_id, region_code="", region_name="",
                               country=self.region_country.get(region_id, ""), nace_code=code, verified=verified)
            if shows(region_id, label):
                groups[(region_id, verified)].append(nace_id)
        q = Q(pk__in=[])
        for (region_id, verified), nace_ids in sorted(groups.items()):
            q |= Q(region_id=region_id, company__verified_at__isnull=not verified, company__nace_id__in=sorted(nace_ids))
        return q


# --- Building and caching the table -----------------------------------------------------------------

def _tables():
    from companies.models import Company, NaceCode, Region, Site

    q = connection.ops.quote_name
    return {"site": q(Site._meta.db_table), "company": q(Company._meta.db_table),
            "region": q(Region._meta.db_table), "nace": q(NaceCode._meta.db_table)}


def _version() -> str:
    """One cheap statement whose answer changes when companies, sites or their codes do."""
    t = _tables()
    sql = (
        f"SELECT (SELECT MAX(id) FROM {t['company']}), (SELECT COUNT(*) FROM {t['company']}), "  # noqa: S608
        f"(SELECT COUNT(verified_at) FROM {t['company']}), (SELECT MAX(updated_at) FROM {t['company']}), "
        f"(SELECT SUM(nace_id) FROM {t['company']}), (SELECT MAX(id) FROM {t['site']}), "
        f"(SELECT COUNT(*) FROM {t['site']}), (SELECT SUM(region_id) FROM {t['site']}), "
        f"(SELECT COUNT(*) FROM {t['nace']})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return hashlib.sha1(repr(row).encode(), usedforsecurity=False).hexdigest()[:16]


def _count_rows() -> list[tuple]:
    """Companies per (region, country, verified, NACE code), per (country, verified, code) and per
    (verified, code), as rows (region_id, country, verified, nace_id, n, region rolled up, country
    rolled up). Three grouped queries, portable to the embedded SQLite of the default start."""
    from django.db.models import BooleanField, Count, ExpressionWrapper, Q

    from companies.models import Site

    verified = ExpressionWrapper(Q(company__verified_at__isnull=False), output_field=BooleanField())
    sites = Site.objects.order_by().annotate(verified=verified)
    n = Count("company_id", distinct=True)
    rows = [(r, c, v, k, x, 0, 0) for r, c, v, k, x in sites.values_list(
        "region_id", "region__country", "verified", "company__nace_id").annotate(n=n).values_list(
        "region_id", "region__country", "verified", "company__nace_id", "n")]
    rows += [(None, c, v, k, x, 1, 0) for c, v, k, x in sites.values_list(
        "region__country", "verified", "company__nace_id").annotate(n=n).values_list(
        "region__country", "verified", "company__nace_id", "n")]
    rows += [(None, None, v, k, x, 1, 1) for v, k, x in sites.values_list(
        "verified", "company__nace_id").annotate(n=n).values_list("verified", "company__nace_id", "n")]
    return rows


def _build() -> LabelTable:
    from companies.models import NaceCode

    counts: dict[tuple, int] = defaultdict(int)
    present, region_country, rows = set(), {}, []
    rows = _count_rows()
    nace = {pk: (code, title, parent, level) for pk, code, title, parent, level in NaceCode.objects.filter(
        revision=NaceRevision.REV21).values_list("pk", "code", "title", "parent_code", "level")}
    by_code = {code: parent for code, _t, parent, _l in nace.values()}
    for region_id, country, verified, nace_id, n, g_region, g_country in rows:
        if g_region == 0:
            present.add((region_id, nace_id, verified))
            region_country[region_id] = country
        if not verified:
            continue
        area = ("r", region_id) if g_region == 0 else ("c", country) if g_country == 0 else ("*",)
        # A company has one code, so counts add up the tree without counting anyone twice.
        code, seen = nace.get(nace_id, ("",))[0], set()
        while code and code not in seen:
            seen.add(code)
            counts[(area, code)] += n
            code = by_code.get(code, "")
        counts[(area, "")] += n
    return LabelTable(dict(counts), frozenset(present), region_country, nace)


_memo: list = [None, None]  # this process's last (version, table)


def label_table() -> LabelTable:
    """The table for the current data: kept on the request, then this process, then the cache."""
    request = current_request.get()
    if request is not None and getattr(request, "_label_table", None) is not None:
        return request._label_table
    version = _version()
    if _memo[0] == version:
        table = _memo[1]
    else:
        key = f"{CACHE_PREFIX}:{version}"
        table = cache.get(key)
        if table is None:
            table = _build()
            cache.set(key, table, LABEL_CACHE_SECONDS)
        _memo[:] = [version, table]
    if request is not None:
        request._label_table = table
    return table


def hidden_label(site, company) -> Label:
    """The label of `company` seen at `site` by a viewer who may not be told its name."""
    return label_table().label_for_site(site, company)
