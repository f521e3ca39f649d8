"""Signal receivers that feed the audit trail (connected in AuditConfig.ready)."""

from __future__ import annotations

from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from audit.services import audit_record


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # `credentials` arrives with the password already masked by Django; keep only the name tried.
    audit_record(action="auth.login_failed", request=request, object_type="auth.user",
                 username=str(credentials.get("username", ""))[:150])


@receiver(pre_save, sender="matching.Match")
def _remember_match_status(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None or (update_fields is not None and "status" not in update_fields):
        instance._audit_old_status = None
        return
    instance._audit_old_status = sender._default_manager.filter(pk=instance.pk).values_list(
        "status", flat=True).first()


@receiver(post_save, sender="matching.Match")
def _match_status_changed(sender, instance, created, raw=False, **kwargs):
    old = getattr(instance, "_audit_old_status", None)
    if raw or created or old is None or old == instance.status:
        return
    audit_record(action="match.transition", obj=instance, old=old, new=instance.status)


@receiver(post_delete, sender="streams.Stream")
def _stream_deleted(sender, instance, **kwargs):
    audit_record(action="stream.delete", obj=instance, title=instance.title[:200],
                 company_id=instance.company_id)
