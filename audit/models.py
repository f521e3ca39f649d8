"""The audit trail: who did what to which object, when (UTC) and from where."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One recorded event: a stream created, a match moved to another status, a failed login, a refused
    look at another company's object. Rows are append-only: the app offers no way to change or delete
    them, and a PostgreSQL trigger (migration 0001) rejects UPDATE and DELETE."""

    at = models.DateTimeField(_("at (UTC)"), default=timezone.now, db_index=True)
    # No database constraint and no SET NULL: deleting a user must not rewrite the trail;
    # actor_repr keeps the name.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True,
        related_name="+",
    )
    actor_repr = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=40, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    class Meta:
        ordering = ("-at", "-pk")
        indexes = [models.Index(fields=("object_type", "object_id"), name="audit_object_idx")]

    def __str__(self) -> str:
        who = self.actor_repr or "anonymous"
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.action} {self.object_type}#{self.object_id}"
