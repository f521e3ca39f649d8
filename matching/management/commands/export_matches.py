"""Write every match to standard output, one line per match (CSV or JSON lines)."""

import contextlib
import csv
import json

from django.core.management.base import BaseCommand

from core.exports import safe_cell
from matching.selectors import EXPORT_KEYS, match_export_rows


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
            for row in match_export_rows():
                out.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
            return
        writer = csv.writer(out)
        writer.writerow(EXPORT_KEYS)
        for row in match_export_rows():
            writer.writerow([
                json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else safe_cell(v)
                for v in row.values()
            ])
