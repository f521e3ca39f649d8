"""Committing a claimed upload (the Celery task's work) and its progress, read by the upload page."""

from __future__ import annotations

import io
import time

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.roles import roles_for
from streams.importing.apply import import_file
from streams.models import PendingImport

PROGRESS_EVERY_SECONDS = 0.5
MAX_STORED_ERRORS = 500


def _progress_key(pending_id: int) -> str:
    return f"import-progress:{pending_id}"


def pending_import_progress(pending: PendingImport) -> dict:
    """{"stage": "validate" | "write", "done": n, "total": n} of a running import (from the cache: the
    import writes in one transaction, so the database cannot show progress before it commits)."""
    return cache.get(_progress_key(pending.pk)) or {"stage": "validate", "done": 0, "total": 0}


def pending_import_run(*, pending_id: int):
    """Apply a claimed upload all or nothing (streams.importing.import_file) as the user who uploaded
    it: a facilitator's companies and streams are marked as entered by a facilitator. Stores the
    outcome on the row; an imported file's bytes are dropped. Returns the ImportResult (or None)."""
    pending = PendingImport.objects.filter(pk=pending_id, status=PendingImport.Status.RUNNING).select_related(
        "user").first()
    if pending is None:
        return None
    actor = pending.user
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] > PROGRESS_EVERY_SECONDS:
            last[0] = now
            cache.set(_progress_key(pending.pk), {"stage": stage, "done": done, "total": total}, 3600)

    content = bytes(pending.content)
    try:
        result = import_file(io.BytesIO(content), pending.filename, actor=actor,
                             entered_by_facilitator=roles_for(actor).is_facilitator, progress=progress)
    except Exception:  # a bug must not leave the page spinning; the task's retry is not wanted here
        pending.status = PendingImport.Status.FAILED
        pending.result = {"errors": [{"row": None, "column": "", "message": _("The import failed unexpectedly; "
                                                                              "nothing was written.")}]}
        pending.finished_at = timezone.now()
        pending.save(update_fields=["status", "result", "finished_at"])
        raise
    outcome = {
        "summary": result.summary(),
        "counts": result.counts,
        "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in result.errors[:MAX_STORED_ERRORS]],
        "error_count": len(result.errors),
    }
    if result.applied:
        # The companies this import wrote, not every company with one of the sheet's references: a
        # reference is a key only within the importer's scope.
        outcome["company_ids"] = result.company_ids
        pending.content = b""
    pending.status = PendingImport.Status.DONE if result.applied else PendingImport.Status.FAILED
    pending.result = outcome
    pending.finished_at = timezone.now()
    pending.save(update_fields=["status", "result", "content", "finished_at"])
    cache.delete(_progress_key(pending.pk))
    return result
