"""python manage.py import_streams FILE [--dry-run] [--as USERNAME]: import a CSV/XLSX sheet, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from companies.roles import roles_for
from streams.importing import import_file

STAGES = {"validate": "Checking rows", "write": "Writing"}


class TqdmProgress:
    """Adapts the importer's progress(stage, done, total) calls to one tqdm bar per stage on stderr."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.bars: dict[str, tqdm] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        bar = self.bars.get(stage)
        if bar is None:
            for other in self.bars.values():
                other.close()
            bar = self.bars[stage] = tqdm(
                total=total, desc=STAGES.get(stage, stage), unit="row", file=sys.stderr,
                disable=not self.enabled, leave=True,
            )
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class Command(BaseCommand):
    help = (
        "Import companies, sites and side streams from a CSV or XLSX sheet (format: docs/import-format.md). "
        "Re-importing updates by company_ref and stream_ref. Nothing is written unless every row is valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv (UTF-8, ',' or ';' delimited) or .xlsx file")
        parser.add_argument("--dry-run", action="store_true", help="check the sheet and report, write nothing")
        parser.add_argument(
            "--as", dest="username", metavar="USERNAME",
            help="the user the import is recorded as (default: none, i.e. entered by the system)",
        )

    def handle(self, *args, file: str, dry_run: bool, username: str | None, **options):
        actor = None
        if username:
            actor = get_user_model().objects.filter(username=username).first()
            if actor is None:
                raise CommandError(f"No user called “{username}”.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")

        progress = TqdmProgress(enabled=options["verbosity"] > 0)
        try:
            with path.open("rb") as fh:
                result = import_file(
                    fh, path.name, actor=actor, dry_run=dry_run, progress=progress,
                    entered_by_facilitator=roles_for(actor).is_facilitator,
                )
        finally:
            progress.close()

        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        if result.errors:
            self.stderr.write(self.format_errors(result.errors))
            raise CommandError(f"{len(result.errors)} problem(s) found; nothing was imported.")
        self.stdout.write(self.style.SUCCESS(result.summary()))

    @staticmethod
    def format_errors(errors) -> str:
        rows = [("row", "column", "reason")] + [
            (str(e.row) if e.row is not None else "-", e.column or "-", e.message) for e in errors
        ]
        w_row = max(len(r[0]) for r in rows)
        w_col = max(len(r[1]) for r in rows)
        return "\n".join(f"{r:<{w_row}}  {c:<{w_col}}  {m}" for r, c, m in rows)
