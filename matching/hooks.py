"""How matching hears that a stream changed: receivers of streams' signals (streams/signals.py),
connected in MatchingConfig.ready().

Stream services send `stream_changed` inside their transaction; its receiver records a one-stream
MatchingRun in that transaction and dispatches its task after the commit (in-process when no broker
is configured). Bulk writers (the sheet import) wrap their work in `defer_stream_changes()`: the
changed streams are collected and matched once at the end (`streams_changed`) — per stream when
there are few, as one sharded full run when there are many.
"""

from __future__ import annotations

from django.db import transaction

# Above this many changed streams one full run is cheaper than many one-stream runs.
BULK_THRESHOLD = 50


def on_stream_changed(sender, *, stream_id: int, closed: bool | None = None, deferred: bool = False,
                      **kwargs) -> None:
    """Match the stream once it is committed (unless a deferring block matches it later). A closed
    stream also withdraws its matches that people are working on (in this transaction). `closed`
    says whether the stream is closed when the sender knows (saves reading it again).

    The run is recorded in the sender's transaction and its task sent after the commit: it exists
    exactly when the change does (no extra transaction), and if the process dies before sending, the
    reaper finds the queued run and sends it again."""
    if closed is None or closed:
        _withdraw_if_closed(stream_id)
    if deferred:
        return
    from matching.choices import RunKind
    from matching.services import matching_run_create

    matching_run_create(kind=RunKind.STREAM, stream_id=stream_id)


def on_streams_changed(sender, *, stream_ids: list[int], **kwargs) -> None:
    """A deferring block (the sheet import) committed: match its streams once."""
    _schedule(stream_ids)


def _withdraw_if_closed(stream_id: int) -> None:
    from matching.signals import stream_closed
    from streams.choices import StreamStatus
    from streams.models import Stream

    if Stream.objects.filter(pk=stream_id, status=StreamStatus.CLOSED).exists():
        stream_closed.send(sender=Stream, stream_id=stream_id)


def _schedule(stream_ids: list[int]) -> None:
    from matching.choices import RunKind
    from matching.services import matching_run_create
    from streams.models import Stream

    with transaction.atomic():
        if len(stream_ids) > BULK_THRESHOLD:
            matching_run_create(kind=RunKind.FULL)
            return
        for stream in Stream.objects.filter(pk__in=stream_ids).order_by("pk"):
            matching_run_create(kind=RunKind.STREAM, stream=stream)
