"""Write every match to standard output, one line per match (CSV or JSON lines)."""

import contextlib
import csv
import json

from django.core.management.base import BaseCommand
from django.db.models import Case, F, IntegerField, Value, When, Window
from django.db.models.functions import RowNumber

from matching.models import PART_FIELDS, Match
from symbiosis.exports import safe_cell

KEYS = (
    "offer_id", "offer_ref", "need_id", "need_ref", "source_company_id", "source_company_ref",
    "target_company_id", "target_company_ref", "rank", "score", "parts", "prospective", "distance_km", "impact",
)


IMPACT_COLUMNS = ("exchangeable_yearly", "unit", "co2e_t", "diverted_t", "eur_provider", "eur_receiver")
IMPACT_KEYS = ("quantity_yearly", "unit", "co2e_t", "diverted_t", "eur_provider", "eur_receiver")


def export_rows():
    """Matches with their rank within the offer (or within the need for need-anchored prospects)."""
    anchor_is_need = Case(When(offer_id__isnull=True, then=F("need_id")), default=Value(0), output_field=IntegerField())
    qs = (
        Match.objects.annotate(
            rank=Window(RowNumber(), partition_by=[F("offer_id"), anchor_is_need], order_by=[F("score").desc(), F("pk")])
        )
        .values_list(
            "offer_id", "offer__external_ref", "need_id", "need__external_ref", "source_company_id",
            "source_company__external_ref", "target_company_id", "target_company__external_ref", "rank", "score",
            *PART_FIELDS.values(), "prospective", "distance_km", *IMPACT_COLUMNS,
        )
        .order_by("offer_id", "need_id", "rank")
    )
    head = KEYS[:KEYS.index("parts")]  # the columns before the parts, read as they are
    p = len(head)
    tail = KEYS[p + 1:-1]  # prospective, distance_km
    q = p + len(PART_FIELDS)
    for row in qs.iterator(chunk_size=5000):
        out = dict(zip(head, row[:p], strict=True))
        out["parts"] = dict(zip(PART_FIELDS, row[p:q], strict=True))
        out.update(zip(tail, row[q:q + len(tail)], strict=True))
        # Impact figures from the row's columns (full runs store numbers only; see matching/explain.py).
        out["impact"] = dict(zip(IMPACT_KEYS, row[q + len(tail):], strict=True))
        yield out


class Command(BaseCommand):
    help = "Export matches: offer/need ids and import refs, companies, rank, score, parts, distance, impact."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("csv", "jsonl"), default="jsonl")

    def handle(self, *args, format="jsonl", **options):
        with contextlib.suppress(BrokenPipeError):  # the reader (e.g. `head`) has seen enough
            self._write(format)

    def _write(self, format):
        out = self.stdout._out
        if format == "jsonl":
            for row in export_rows():
                out.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
            return
        writer = csv.writer(out)
        writer.writerow(KEYS)
        for row in export_rows():
            writer.writerow([
                json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else safe_cell(v)
                for v in row.values()
            ])
