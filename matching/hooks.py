"""The one entry point through which other apps tell matching that a stream changed.

Stream services call `stream_changed` inside their transaction; it records a one-stream MatchingRun
in that transaction and dispatches its task after the commit (in-process when no broker is
configured). Bulk writers (the sheet import)
wrap their work in `defer_matching()`: the changed streams are collected and matched once at the
end — per stream when there are few, as one sharded full run when there are many.
"""

from __future__ import annotations

import contextlib
import contextvars

from django.db import transaction

# Above this many changed streams one full run is cheaper than many one-stream runs.
BULK_THRESHOLD = 50

_deferred: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar("matching_deferred", default=None)


def stream_changed(stream_id: int, *, closed: bool | None = None) -> None:
    """Called by stream services inside their transaction: match the stream once it is committed.
    A closed stream also withdraws its matches that people are working on (in this transaction).
    `closed` says whether the stream is closed when the caller knows (saves reading it again).

    The run is recorded in the caller's transaction and its task sent after the commit: it exists
    exactly when the change does (no extra transaction), and if the process dies before sending, the
    reaper finds the queued run and sends it again."""
    if closed is None or closed:
        _withdraw_if_closed(stream_id)
    pending = _deferred.get()
    if pending is not None:
        pending.add(stream_id)
        return
    from matching.choices import RunKind
    from matching.services import matching_run_create

    matching_run_create(kind=RunKind.STREAM, stream_id=stream_id)


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


@contextlib.contextmanager
def defer_matching():
    """Collect stream changes made inside the block; schedule their matching once, after commit."""
    if _deferred.get() is not None:  # nested: the outer block schedules
        yield
        return
    pending: set[int] = set()
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    if pending:
        # Runs after the surrounding transaction commits, or now when there is none.
        transaction.on_commit(lambda: _schedule(sorted(pending)))
