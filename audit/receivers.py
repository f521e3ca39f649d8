"""Signal receivers that feed the audit trail (connected in AuditConfig.ready)."""

from __future__ import annotations

from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.http import Http404
from rest_framework import exceptions

from audit.services import audit_if_foreign, audit_record, audit_refused
from core.api import api_refused


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


@receiver(api_refused)
def _api_refused(sender, exc, context, **kwargs):
    """An authenticated caller was refused: 404 for an object that exists but is not visible to them
    (another company's), 403 for anything they may not do (an object they may see but not change, a
    stream for another company)."""
    view, request = context.get("view"), context.get("request")
    if request is None or not request.user.is_authenticated or view is None:
        return
    lookup_field = getattr(view, "lookup_field", "pk")
    value = context.get("kwargs", {}).get(getattr(view, "lookup_url_kwarg", None) or lookup_field)
    try:
        model = view.get_queryset().model
    except Exception:  # noqa: BLE001 - auditing must never turn a 404 into a 500
        model = None
    if isinstance(exc, (Http404, exceptions.NotFound)):
        if model is not None and value is not None:
            audit_if_foreign(request=request, model=model, lookup={lookup_field: value})
    else:
        audit_refused(request=request, status=403, object_type=model._meta.label_lower if model else "",
                      object_id=value or "", reason=str(getattr(exc, "detail", exc)))
