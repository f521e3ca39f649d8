"""Run the matching engine now, in this process, with a progress bar."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from matching.services import matching_run_here
from streams.models import Stream


class Command(BaseCommand):
    help = "Match every active stream (sharded full run), or one stream with --stream ID."

    def add_arguments(self, parser):
        parser.add_argument("--stream", type=int, help="match only this stream")
        parser.add_argument("--shards", type=int, default=2, help="shards of a full run (default 2)")

    def handle(self, *args, stream=None, shards=2, verbosity=1, **options):
        if stream is not None:
            try:
                run = matching_run_here(stream_id=stream)
            except Stream.DoesNotExist as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"stream {stream}: {run.counts}")
            return
        if shards < 1:
            raise CommandError("--shards must be at least 1")
        bar = tqdm(total=100, unit="%", desc="Matching", disable=verbosity == 0, file=self.stderr._out)

        def progress(label, fraction):
            bar.set_postfix_str(label)
            bar.update(max(0, round(fraction * 100) - bar.n))

        try:
            run = matching_run_here(shards=shards, progress=progress)
        finally:
            bar.update(100 - bar.n)
            bar.close()
        self.stdout.write(
            f"run {run.pk}: {run.counts.get('matches', 0)} matches "
            f"({run.counts.get('prospective', 0)} prospective) for {run.counts.get('streams', 0)} streams; "
            f"timings {run.timings}"
        )
