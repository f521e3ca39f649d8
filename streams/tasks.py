"""Celery tasks: thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def import_sheet_task(pending_id: int) -> None:
    """Commit a claimed workshop upload (streams.importing.run); gone or not claimed: nothing."""
    from streams.importing.run import pending_import_run  # here: streams.importing.pending sends this task

    pending_import_run(pending_id=pending_id)
