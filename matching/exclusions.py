"""What competitor exclusion hides from a company's members in their matches (docs/facilitation.md).

The rule: an exclusion hides the excluder from the excluded; the excluder's own view never depends
on an exclusion finer than what it is already shown of the partner.

- The partner excludes one of the viewer's companies (picked, by name or by a NACE code): the match
  is hidden from the viewer, whatever the partner's listing shows.
- The viewer excludes the partner by name (or picked it): hidden only where the partner's name is
  already shown on this match (its listing here is public, or the match is revealed). Otherwise adding
  and removing the exclusion would name the company behind an anonymous partner.
- The viewer excludes a sector (NACE code): hidden where the partner's name is shown and its code lies
  under the excluded one, or where the sector its label shows (`companies.anonymity`, generalised
  until 3 companies share it) lies under it. A partner labelled "Manufacture of food products (NACE
  10)" stays when the viewer excludes 10.51: hiding it would tell the viewer the partner's class.

The engine is given no exclusion: it pairs everyone, and what a viewer reads is decided here, so no
exclusion changes which pairs are kept or how they rank.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q


def excluded_for(company_ids) -> Q:
    """The matches of `company_ids` that competitor exclusion hides from them (see the module).

    Uncorrelated subqueries over the exclusion table (a few rows per company): PostgreSQL evaluates
    each once and tests the match rows against a hash, so the list's plan keeps its shape. One query
    reads the viewer's excluded sectors; the label table is the request's (`companies.anonymity`)."""
    from companies.models import CompetitorExclusion
    from streams.choices import Visibility
    from streams.models import Stream

    ids = list(company_ids)
    exclusions = CompetitorExclusion.objects
    excluders = exclusions.hiding_from(ids)
    named = exclusions.named_by(ids) | exclusions.in_sectors_of(ids)
    public = Stream.objects.filter(visibility=Visibility.PUBLIC, company_id__in=named).order_by().values("pk")
    revealed = Q(revealed_at__isnull=False)
    q = (
        Q(source_company_id__in=excluders) | Q(target_company_id__in=excluders)
        | (Q(source_company_id__in=named) & (revealed | Q(offer_id__in=public)))
        | (Q(target_company_id__in=named) & (revealed | Q(need_id__in=public)))
    )
    codes = sorted(set(exclusions.filter(company_id__in=ids, excluded_nace__isnull=False)
                       .values_list("excluded_nace__code", flat=True)))
    if codes:
        q |= _labelled_under(codes, ids)
    return q


def _labelled_under(codes: list[str], ids: list[int]) -> Q:
    """Matches whose partner side (not one of `ids`) is labelled with a sector under one of `codes`:
    its stream's site, or, on a prospective side, every site of the company (the label is taken at
    its first site)."""
    from companies.anonymity import label_table

    table = label_table()
    memo = table.__dict__.setdefault("_labelled_under_memo", {})  # per label table, i.e. per request
    key = (tuple(codes), tuple(sorted(ids)))
    if key not in memo:
        memo[key] = _build_labelled_under(table, codes, ids)
    return memo[key]


def _build_labelled_under(table, codes: list[str], ids: list[int]) -> Q:
    from companies.models import Company, Site
    from streams.models import Stream

    wanted = set(codes)

    def under(_region_id, label) -> bool:
        return bool(wanted.intersection(table.ancestors(label.sector_code)[:-1])) if label.sector_code else False

    labelled = Site.objects.filter(table.sites_q(under)).order_by().values("pk")
    streams = Stream.objects.filter(site_id__in=labelled).exclude(company_id__in=ids).order_by().values("pk")
    elsewhere = Site.objects.filter(company_id=OuterRef("pk")).exclude(pk__in=labelled)
    companies = (Company.objects.filter(pk__in=Site.objects.filter(pk__in=labelled).values("company_id"))
                 .exclude(pk__in=ids).exclude(Exists(elsewhere)).order_by().values("pk"))
    return (
        Q(offer_id__in=streams) | Q(need_id__in=streams)
        | (Q(offer__isnull=True) & Q(source_company_id__in=companies))
        | (Q(need__isnull=True) & Q(target_company_id__in=companies))
    )
