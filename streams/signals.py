"""Events streams sends to the apps above it (matching connects them in its AppConfig.ready()).

`stream_changed` is sent inside the writing transaction for every stream a service created, updated or
moved to another status, with `stream_id`, `closed` (whether the stream is now closed) and `deferred`
(True inside `defer_stream_changes()`). Bulk writers (the sheet import) wrap their work in
`defer_stream_changes()`: the changed streams are collected and `streams_changed` is sent once, with
all their ids, after the surrounding transaction commits (or at once when there is none).
"""

from __future__ import annotations

import contextlib
import contextvars

from django.db import transaction
from django.dispatch import Signal

stream_changed = Signal()  # stream_id, closed, deferred
streams_changed = Signal()  # stream_ids (sorted), after the deferring block's transaction commits

_deferred: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar("streams_deferred", default=None)


def send_stream_changed(stream_id: int, *, closed: bool | None = None) -> None:
    """Tell the apps above that a stream changed (in the caller's transaction). `closed` is None when
    the caller does not know whether the stream is closed."""
    pending = _deferred.get()
    if pending is not None:
        pending.add(stream_id)
    stream_changed.send(sender="streams", stream_id=stream_id, closed=closed, deferred=pending is not None)


@contextlib.contextmanager
def defer_stream_changes():
    """Collect the stream changes made inside the block; send `streams_changed` once, after commit."""
    if _deferred.get() is not None:  # nested: the outer block sends
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
        transaction.on_commit(lambda: streams_changed.send(sender="streams", stream_ids=sorted(pending)))
