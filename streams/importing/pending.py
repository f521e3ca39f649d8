"""Uploads kept for their preview and commit (the workshop upload page and the imports API): keep,
sweep, and start the commit as a Celery task (streams.tasks -> streams.importing.run)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from streams.models import PendingImport
from streams.tasks import import_sheet_task


def pending_imports_sweep() -> int:
    """Delete uploads older than IMPORT_PENDING_HOURS that were never committed."""
    cutoff = timezone.now() - timedelta(hours=settings.IMPORT_PENDING_HOURS)
    return PendingImport.objects.filter(created_at__lt=cutoff).delete()[0]


@transaction.atomic
def pending_import_create(*, user, filename: str, content: bytes) -> PendingImport:
    """Keep an uploaded sheet for its preview and commit, bound to `user` by a random token."""
    pending_imports_sweep()
    pending = PendingImport(user=user, filename=filename[-255:], content=content, size=len(content),
                            sha256=hashlib.sha256(content).hexdigest())
    pending.full_clean()
    pending.save()
    return pending


@transaction.atomic
def pending_import_start(*, pending: PendingImport) -> bool:
    """Claim the upload for its commit (once) and run it as a Celery task after this transaction."""
    claimed = PendingImport.objects.filter(pk=pending.pk, status=PendingImport.Status.PENDING).update(
        status=PendingImport.Status.RUNNING
    )
    if claimed:
        pending.status = PendingImport.Status.RUNNING
        transaction.on_commit(lambda: import_sheet_task.delay(pending.pk))
    return bool(claimed)
