"""The matching adapter against the database: specs, full runs with shards, one-stream runs."""

import pytest

from companies.geo import grid_cell_centre, haversine_km
from matching.choices import MatchStatus, RunKind, RunStatus
from matching.explain import explained
from matching.models import Match, MatchCandidate, MatchingRun
from matching.services import load_specs, matching_run_for_stream, matching_run_full
from streams.models import Stream
from tests.factories import CompanyFactory, SiteFactory, StreamFactory, leaf_category, nace, region

pytestmark = pytest.mark.django_db


@pytest.fixture
def whey_pair(company_a, company_b):
    whey = leaf_category(code="MAT.FOOD.WHEY") if _exists("MAT.FOOD.WHEY") else leaf_category("material")
    offer = StreamFactory(site=company_a.sites.first(), direction="offer", category=whey, title="Whey",
                          quantity=500, unit="t")
    need = StreamFactory(site=company_b.sites.first(), direction="need", category=whey, title="Whey wanted",
                         quantity=300, unit="t")
    return offer, need


def _exists(code):
    from streams.models import ResourceCategory

    return ResourceCategory.objects.filter(code=code).exists()


def _full_run(shards=2):
    run = MatchingRun.objects.create(kind=RunKind.FULL, shards_total=shards, status=RunStatus.RUNNING)
    return matching_run_full(run=run)


def test_specs_carry_base_unit_prices_and_their_sites_grid_cell(whey_pair, settings):
    offer, _ = whey_pair
    Stream.objects.filter(pk=offer.pk).update(unit="kg", price_eur_per_unit=0.02)
    spec = next(s for s in load_specs(Stream.objects.all()) if s.id == offer.pk)
    assert spec.price_eur_per_unit == pytest.approx(20.0)
    # The site (55.705, 13.191) as the centre of its 1 km cell: within 0.71 km, the same for the cell.
    assert (spec.lat, spec.lon) == grid_cell_centre(55.705, 13.191, settings.LOCATION_GRID_KM)
    assert haversine_km(spec.lat, spec.lon, 55.705, 13.191) <= 0.71 * settings.LOCATION_GRID_KM
    assert spec.nace_division == "10"


def test_a_full_run_writes_the_pair_once_and_a_rerun_does_not_duplicate(whey_pair):
    offer, need = whey_pair
    run = _full_run()
    assert run.status == RunStatus.DONE
    assert Match.objects.filter(offer=offer, need=need).count() == 1
    assert MatchCandidate.objects.count() == 0
    first = set(Match.objects.values_list("offer_id", "need_id", "target_company_id", "score"))
    _full_run(shards=3)
    assert set(Match.objects.values_list("offer_id", "need_id", "target_company_id", "score")) == first
    m = Match.objects.get(offer=offer, need=need)
    assert 0 < m.score <= 1
    assert set(m.parts) == {"compatibility", "distance", "volume_value", "availability"}
    assert m.reasons == [] and m.impact == {}  # a full run stores numbers only
    assert m.exchangeable_yearly == pytest.approx(300.0)


def test_full_run_rows_are_explained_on_read_as_a_one_stream_run_stores_them(whey_pair):
    offer, need = whey_pair
    _full_run()
    read = explained(Match.objects.all()).get(offer=offer, need=need)
    matching_run_for_stream(stream=need)  # stores the engine's reasons and impact with the row
    stored = Match.objects.get(offer=offer, need=need)
    assert stored.reasons and read.reasons == stored.reasons
    assert read.impact["assumptions"] == stored.impact["assumptions"]
    for key in ("quantity_yearly", "co2e_t", "eur_provider", "eur_receiver", "transport_eur", "diverted_t"):
        assert read.impact[key] == pytest.approx(stored.impact[key], rel=1e-9, abs=1e-9)
    for key in ("co2e_t", "eur_provider", "eur_receiver", "diverted_t", "exchangeable_yearly"):
        assert getattr(read, key) == pytest.approx(getattr(stored, key), rel=1e-9, abs=1e-9)


def test_one_stream_run_matches_a_new_need(whey_pair):
    offer, need = whey_pair
    counts = matching_run_for_stream(stream=need)
    assert counts["matches"] >= 1
    assert Match.objects.filter(offer=offer, need=need, status=MatchStatus.SUGGESTED).exists()


def test_closing_a_stream_retires_suggestions_but_flags_matches_in_work(whey_pair, company_a):
    offer, need = whey_pair
    _full_run()
    m = Match.objects.get(offer=offer, need=need)
    m.status = MatchStatus.UNDER_REVIEW
    m.save()
    other_need = StreamFactory(site=need.site, direction="need", category=need.category, title="More whey")
    matching_run_for_stream(stream=other_need)
    assert Match.objects.filter(need=other_need).exists()
    offer.status = "closed"
    offer.save()
    matching_run_for_stream(stream=offer)
    assert not Match.objects.filter(offer=offer, status=MatchStatus.SUGGESTED).exists()
    m.refresh_from_db()
    assert m.status == MatchStatus.UNDER_REVIEW
    assert m.stream_changed is True


def test_the_one_stream_prefilter_loses_no_candidate_the_engine_would_find(company_a, company_b, company_y):
    """The database prefilter (blocking keys and a bounding box) must keep every pair the engine
    would score against all active streams."""
    from django.utils import timezone

    from matching import engine
    from matching.services import (
        engine_config,
        engine_priors,
        engine_rules,
        load_companies,
        matchable_streams,
    )

    whey = leaf_category(code="MAT.FOOD.WHEY")
    sites = [company_a.sites.first(), company_b.sites.first(), company_y.sites.first()]
    for i, code in enumerate(("10.91", "01.46", "10.51", "35.21", "20.14", "46.33", "01.11", "10.89")):
        SiteFactory(company=CompanyFactory(name=f"Nearby {code}", nace=nace(code)), latitude=55.6 + i * 0.02,
                    longitude=13.1, region=region("SE22"))
    needs = [StreamFactory(site=s, direction="need", category=whey, quantity=q, max_transport_km=km)
             for s, q, km in ((sites[1], 40, None), (sites[2], 80, 2000), (sites[2], 10, None))]
    offer = StreamFactory(site=sites[0], direction="offer", category=whey, quantity=100)
    expected = engine.match_one(
        load_specs(Stream.objects.filter(pk=offer.pk))[0],
        [s for s in load_specs(matchable_streams()) if s.id != offer.pk],
        config=engine_config(), rules=engine_rules(), companies=load_companies(), priors=engine_priors(),
        as_of=timezone.now().date(),
    )
    matching_run_for_stream(stream=offer)
    declared = {c.need_id for c in expected if not c.prospective}
    assert declared == set(Match.objects.filter(offer=offer, prospective=False).values_list("need_id", flat=True))
    assert needs[1].pk in declared  # 1,300 km away, reachable only through the need's own 2,000 km
    prospects = {c.target_company_id for c in expected if c.prospective}
    assert prospects  # companies like these take whey: the sector prefilter must keep them all
    assert prospects == set(Match.objects.filter(offer=offer, prospective=True).values_list(
        "target_company_id", flat=True))
    # And from the need's side: an offer 1,300 km away that only its own 2,000 km limit reaches.
    far_offer = StreamFactory(site=sites[2], direction="offer", category=whey, quantity=60, max_transport_km=2000)
    need = needs[0]
    expected = engine.match_one(
        load_specs(Stream.objects.filter(pk=need.pk))[0],
        [s for s in load_specs(matchable_streams()) if s.id != need.pk],
        config=engine_config(), rules=engine_rules(), companies=load_companies(), priors=engine_priors(),
        as_of=timezone.now().date(),
    )
    matching_run_for_stream(stream=need)
    declared = {c.offer_id for c in expected if not c.prospective}
    assert far_offer.pk in declared
    assert declared == set(Match.objects.filter(need=need, prospective=False).values_list("offer_id", flat=True))
    assert {c.source_company_id for c in expected if c.prospective} == set(
        Match.objects.filter(need=need, prospective=True).values_list("source_company_id", flat=True))


def test_a_rerun_updates_changed_suggestions_in_place_and_retires_those_no_longer_found(whey_pair, company_a):
    offer, need = whey_pair
    other = StreamFactory(site=need.site, direction="need", category=need.category, title="More whey", quantity=50,
                          unit="t")
    first = _full_run()
    ab = Match.objects.get(offer=offer, need=need)
    gone = Match.objects.get(offer=offer, need=other)
    untouched = set(Match.objects.exclude(pk__in=[ab.pk, gone.pk]).values_list("pk", "score", "updated_at"))
    # Without the services (no one-stream run): the nightly run alone must notice.
    Stream.objects.filter(pk=need.pk).update(quantity=100, quantity_yearly=100)
    Stream.objects.filter(pk=other.pk).update(status="closed")
    second = _full_run(shards=3)
    assert second.counts["retired"] >= 1 and second.counts["updated"] >= 1
    assert not Match.objects.filter(pk=gone.pk).exists()
    again = Match.objects.get(pk=ab.pk)  # same row, new numbers
    assert again.exchangeable_yearly == pytest.approx(100.0) and again.run_id == second.pk
    assert untouched <= set(Match.objects.values_list("pk", "score", "updated_at"))  # not rewritten
    assert first.counts["matches"] - second.counts["matches"] == 1


def _match_indexes():
    """Match's indexes and those of its region index (the bulk path rebuilds both)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE tablename IN ('matching_match', 'matching_matchregion') ORDER BY 1")
        return cur.fetchall()


def test_a_first_run_into_an_empty_table_rebuilds_every_index_but_the_primary_key_as_it_was(whey_pair):
    before = _match_indexes()
    first = _full_run()
    droppable = [name for name, _definition in before if not name.endswith("_pkey")]
    assert "matchregion_list_idx" in droppable
    assert first.counts["indexes_rebuilt"] == len(droppable) >= 8
    assert _match_indexes() == before
    from django.db import connection

    with connection.cursor() as cur:  # analysed after the bulk load, for the next run's plans
        cur.execute("SELECT reltuples FROM pg_class WHERE relname = 'matching_match'")
        assert cur.fetchone()[0] == Match.objects.count() > 0
    rows = set(Match.objects.values_list("offer_id", "need_id", "source_company_id", "target_company_id", "score"))
    # With the table full, the next run writes through the indexes, and finds the same result.
    second = _full_run(shards=3)
    assert second.counts["indexes_rebuilt"] == 0
    assert set(Match.objects.values_list("offer_id", "need_id", "source_company_id", "target_company_id",
                                         "score")) == rows
    # The rebuilt indexes serve queries (the planner sees them).
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN SELECT id FROM matching_match WHERE need_id = %s", [whey_pair[1].pk])
        assert "matching_match_need_id" in " ".join(r[0] for r in cur.fetchall())


def test_the_bulk_path_after_retiring_suggestions_gives_the_same_result_as_the_diff_path(whey_pair, monkeypatch):
    from matching import finalise

    offer, need = whey_pair
    other = StreamFactory(site=need.site, direction="need", category=need.category, title="More whey", quantity=50,
                          unit="t")
    _full_run()
    Stream.objects.filter(pk=other.pk).update(status="closed")  # its suggestion is retired next
    expected_run = _full_run()
    expected = set(Match.objects.values_list("offer_id", "need_id", "source_company_id", "target_company_id",
                                             "score"))
    Stream.objects.filter(pk=other.pk).update(status="active")
    _full_run()
    Stream.objects.filter(pk=other.pk).update(status="closed")
    in_work = Match.objects.get(offer=offer, need=need)
    Match.objects.filter(pk=in_work.pk).update(status=MatchStatus.UNDER_REVIEW)  # kept, never duplicated
    monkeypatch.setattr(finalise, "BULK_BELOW", 1000.0)  # take the bulk path although the table is full
    bulk_run = _full_run()
    assert bulk_run.counts["indexes_rebuilt"] >= 4 and bulk_run.counts["retired"] >= 1
    assert set(Match.objects.values_list("offer_id", "need_id", "source_company_id", "target_company_id",
                                         "score")) == expected
    assert list(Match.objects.filter(offer=offer, need=need).values_list("pk", "status")) == [
        (in_work.pk, MatchStatus.UNDER_REVIEW)]
    assert bulk_run.counts["matches"] == expected_run.counts["matches"]
    from django.db import connection

    with connection.cursor() as cur:  # the reference check is back on
        cur.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = 'matching_match_refs_insert'")
        assert cur.fetchone()[0] == "O"


def test_a_stream_deleted_between_the_shards_and_finalise_is_left_out_not_a_failed_run(whey_pair):
    from matching.services import matching_run_finalise, matching_run_shard

    offer, need = whey_pair
    other = StreamFactory(site=need.site, direction="need", category=need.category, title="Gone", quantity=50,
                          unit="t")
    run = MatchingRun.objects.create(kind=RunKind.FULL, shards_total=2, status=RunStatus.RUNNING)
    for shard in range(2):
        matching_run_shard(run=run, shard=shard)
    assert MatchCandidate.objects.filter(need_id=other.pk).exists()
    other.delete()
    run.refresh_from_db()
    run = matching_run_finalise(run=run)
    assert run.status == RunStatus.DONE and run.counts["dropped_deleted_references"] >= 1
    assert not Match.objects.filter(need_id=other.pk).exists()
    assert Match.objects.filter(offer=offer, need=need).exists()


def test_export_matches_writes_one_line_per_match_with_the_documented_keys(whey_pair):
    import io
    import json

    from django.core.management import call_command

    offer, need = whey_pair
    _full_run()
    out = io.StringIO()
    call_command("export_matches", "--format", "jsonl", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == Match.objects.count()
    row = next(r for r in rows if r["offer_id"] == offer.pk and r["need_id"] == need.pk)
    assert list(row) == ["offer_id", "offer_ref", "need_id", "need_ref", "source_company_id", "source_company_ref",
                         "target_company_id", "target_company_ref", "rank", "score", "parts", "prospective",
                         "distance_km", "impact"]
    m = Match.objects.get(offer=offer, need=need)
    assert row["impact"]["quantity_yearly"] == pytest.approx(300.0) and row["impact"]["unit"] == "t"
    assert row["impact"]["co2e_t"] == pytest.approx(m.co2e_t) and row["rank"] == 1


def test_no_exclusion_changes_what_any_kind_of_run_keeps(whey_pair, member):
    """Exclusions are applied where matches are read (`matching.exclusions`), never by the engine: a
    pair that vanished from a run would tell the excluder its partner's company or exact sector."""
    from companies.services import exclusion_add

    offer, need = whey_pair
    _full_run()
    before = set(Match.objects.values_list("offer_id", "need_id", "source_company_id", "target_company_id", "score"))
    assert Match.objects.filter(offer=offer, need=need).exists()
    exclusion_add(company=offer.company, actor=member, nace_code=need.company.nace.code[:2])
    exclusion_add(company=need.company, actor=None, excluded_company=offer.company)

    def kept():
        return set(Match.objects.values_list("offer_id", "need_id", "source_company_id", "target_company_id",
                                             "score"))

    _full_run(shards=2)
    assert kept() == before
    matching_run_for_stream(stream=need)
    matching_run_for_stream(stream=offer)
    assert kept() == before
    _full_run(shards=1)
    assert kept() == before


def test_one_stream_runs_equal_the_engine_over_every_stream_and_company_on_demo_data():
    """The one-stream prefilters (blocking keys, bounding boxes, sectors, representative sites) lose and
    add nothing: on the seeded demo (many sectors, companies with several sites, EWC chapters, streams
    with their own limits) a sample of streams gets what `match_one` gives against everything."""
    import random

    from django.utils import timezone

    from demo import services as demo
    from matching import engine
    from matching.services import engine_config, engine_priors, engine_rules, load_companies

    demo.seed(streams=600, seed=7)
    specs = load_specs(Stream.objects.filter(status="active"))
    index = engine.CandidateIndex(specs, config=engine_config(), rules=engine_rules(),
                                  companies=load_companies(), priors=engine_priors(),
                                  as_of=timezone.now().date())
    fields = ("offer_id", "need_id", "source_company_id", "target_company_id")
    for spec in random.Random(3).sample(specs, 60):
        Match.objects.all().delete()
        matching_run_for_stream(stream=Stream.objects.get(pk=spec.id))
        expected = {(*(getattr(c, f) for f in fields), round(c.score, 6)) for c in engine.match_one(spec, index)}
        got = {(*row[:4], round(row[4], 6)) for row in Match.objects.values_list(*fields, "score")}
        assert got == expected, spec.id


def test_a_company_is_a_prospect_where_its_first_site_is_as_in_a_full_run(whey_pair, company_y):
    """A full run places each company at its first site; a second site near the stream must not make
    the company a prospective counterpart of a one-stream run."""
    offer, need = whey_pair
    far = CompanyFactory(name="Far dairy", nace=nace("10.51"))
    SiteFactory(company=far, latitude=40.0, longitude=-3.7, region=region("SE22"))  # the first site: Madrid
    SiteFactory(company=far, latitude=offer.site.latitude, longitude=offer.site.longitude, region=region("SE22"))
    _full_run()
    full = set(Match.objects.filter(offer=offer, prospective=True).values_list("target_company_id", flat=True))
    Match.objects.all().delete()
    matching_run_for_stream(stream=offer)
    one = set(Match.objects.filter(offer=offer, prospective=True).values_list("target_company_id", flat=True))
    assert far.pk not in full
    assert one == full


def test_run_matching_records_its_full_run_as_a_dispatched_run_is(whey_pair):
    import io

    from django.core.management import call_command

    from matching import engine

    out = io.StringIO()
    call_command("run_matching", "--shards", "2", verbosity=0, stdout=out, stderr=io.StringIO())
    run = MatchingRun.objects.get()
    assert (run.kind, run.status, run.shards_total, run.shards_done, run.attempts) == (
        RunKind.FULL, RunStatus.DONE, 2, 2, 1)
    assert run.engine_version == engine.ENGINE_VERSION and run.started_at is not None
    assert out.getvalue().startswith(f"run {run.pk}: {Match.objects.count()} matches")


def test_run_matching_for_one_stream_records_a_stream_run_that_its_matches_name(whey_pair):
    import io

    from django.core.management import CommandError, call_command

    from matching import engine

    offer, need = whey_pair
    out = io.StringIO()
    call_command("run_matching", "--stream", str(need.pk), stdout=out)
    run = MatchingRun.objects.get()
    assert (run.kind, run.stream_id, run.status, run.attempts) == (RunKind.STREAM, need.pk, RunStatus.DONE, 1)
    assert run.engine_version == engine.ENGINE_VERSION and run.counts["matches"] >= 1
    assert Match.objects.get(offer=offer, need=need).run_id == run.pk
    assert out.getvalue().strip() == f"stream {need.pk}: {run.counts}"
    with pytest.raises(CommandError, match="No stream with id"):
        call_command("run_matching", "--stream", str(need.pk + offer.pk + 1000))
    assert MatchingRun.objects.count() == 1


def test_a_shard_names_its_worker_process_and_waits_the_drill_delay(whey_pair, settings):
    import os
    import time

    from matching.services import matching_run_shard_begin

    run = MatchingRun.objects.create(kind=RunKind.FULL, shards_total=2, status=RunStatus.RUNNING)
    settings.MATCHING_SHARD_DELAY_MS = 0
    t0 = time.monotonic()
    matching_run_shard_begin(run_id=run.pk, shard=1)
    assert time.monotonic() - t0 < 0.2
    run.refresh_from_db()
    assert run.message == f"shard 1 working in pid {os.getpid()}" and run.heartbeat_at is not None
    settings.MATCHING_SHARD_DELAY_MS = 300
    t0 = time.monotonic()
    matching_run_shard_begin(run_id=run.pk, shard=0)
    assert time.monotonic() - t0 >= 0.3
