"""python manage.py seed_demo [--streams N] [--seed S] [--reset] [--print-logins]: build the demo region."""

from __future__ import annotations

import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from demo import planning, services


class Command(BaseCommand):
    help = (
        "Build a believable Baltic Sea Region of demo companies, sites and side streams, plus demo users for "
        "each role. Idempotent; --streams N builds exactly N streams for benchmarks (1k, 10k, 100k)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--streams", type=int, default=None, metavar="N",
            help=f"build exactly N streams (default: {planning.DEFAULT_COMPANIES} companies, about 1000 streams)",
        )
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42): same seed, same data")
        parser.add_argument("--reset", action="store_true", help="delete all demo rows and demo users first")
        parser.add_argument(
            "--print-logins", action="store_true",
            help="print the demo logins (always done when DEBUG is on); outside DEBUG this sets a new random "
                 "password for the demo users",
        )
        parser.add_argument("--password", help="use this password for the demo users (implies --print-logins)")

    def handle(self, *args, streams, seed, reset, print_logins, password, **options):
        if streams is not None and streams < 0:
            raise CommandError("--streams must be zero or more.")
        verbose = options["verbosity"] > 0
        started = time.monotonic()
        if reset:
            deleted = services.reset()
            self.stdout.write(f"Deleted {deleted['companies']} demo companies and their rows.")

        bar = tqdm(desc="Seeding streams", unit="stream", file=sys.stderr, disable=not verbose)

        def progress(stage: str, done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            created = services.seed(streams=streams, seed=seed, progress=progress)
        except services.DemoDataError as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()

        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready in {time.monotonic() - started:.1f} s: created {created['companies']} companies, "
            f"{created['sites']} sites, {created['streams']} streams "
            f"(the demo spans {created['regions']} regions in {created['countries']} countries)."
        ))
        if password or print_logins or settings.DEBUG:
            chosen = password or (services.DEMO_PASSWORD if settings.DEBUG else None)
            chosen = services.set_demo_passwords(chosen)
            width = max(len(u) for u, _ in services.DEMO_USERS)
            self.stdout.write("Demo logins (same password for all):")
            for username, role in services.DEMO_USERS:
                self.stdout.write(f"  {username:<{width}}  {role}")
            self.stdout.write(f"  password: {chosen}")
        else:
            self.stdout.write("Demo users exist; run with --print-logins to set and show their password.")
