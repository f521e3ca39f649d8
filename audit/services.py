"""Writing the audit trail. Other apps call these; nothing else creates AuditEvent rows.

Actions in use (dotted, `<object>.<verb>`):
- stream.create, stream.update, stream.status, stream.delete  (streams/services.py, receivers)
- match.transition: a match changed status. The match state machine calls
  `audit_record(action="match.transition", actor=user, obj=match, old=..., new=..., note=...)`;
  until then a pre_save receiver records every change of Match.status (audit/receivers.py).
- company.verify, company.unverify: a facilitator or staff member vouched for a company (it counts
  in dashboards) or undid it (companies/services.py; `company.unverify` keeps what it undid)
- auth.login_failed  (the user_login_failed signal, with the username tried)
- access.refused: an authenticated user asked for an object that exists but is not visible to them
  (404), or that they may see but not change (403); pages and API alike.
- confidential.read: a page or API response showed confidential stream fields (price, disposal
  route and cost, composition, contaminants, exact site) to a facilitator or staff member, not as
  the stream's own company or an introduced party (DESIGN: "every read of confidential fields by a
  facilitator or staff member is recorded"). One event per response and object type, with the ids:
  `streams.stream` (streams/presentation.py, matching/presentation.py) and `companies.site` for a
  company's exact sites (address, coordinates) on its page, in the API and in the admin
  (companies/presentation.py).
"""

from __future__ import annotations

import logging

from django.db import models
from django.http import Http404

from audit.context import client_ip, current_request
from audit.models import AuditEvent

log = logging.getLogger(__name__)


def _object_ref(obj) -> tuple[str, str]:
    if obj is None:
        return "", ""
    if isinstance(obj, models.Model):
        return obj._meta.label_lower, str(obj.pk)
    return type(obj).__name__, str(getattr(obj, "pk", ""))


def audit_record(*, action: str, actor=None, obj=None, request=None, object_type: str = "", object_id="",
                 **detail) -> AuditEvent:
    """Record one event. `request` defaults to the current request (AuditContextMiddleware), which
    gives the address and user agent; `actor` defaults to its user. Works outside requests (tasks,
    commands) with actor=None. Values in `detail` must be JSON-serialisable."""
    request = request if request is not None else current_request.get()
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if obj is not None:
        object_type, object_id = _object_ref(obj)
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_repr=actor.get_username() if actor is not None else "",
        object_type=object_type[:60],
        object_id=str(object_id)[:64],
        detail=detail,
        ip=client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300],
    )


def audit_refused(*, request, status: int, object_type: str, object_id, reason: str = "") -> AuditEvent:
    """A refused access to a foreign object (status 404 or 403)."""
    return audit_record(
        action="access.refused", request=request, object_type=object_type, object_id=object_id,
        status=status, path=request.get_full_path()[:500], method=request.method, reason=reason[:200],
    )


READS_LISTED = 1000  # ids listed in one confidential.read event (the count is always exact)


def audit_confidential_reads(*, request, reads: dict[str, set]) -> None:
    """One confidential.read event per object type shown in this response."""
    for object_type, ids in sorted(reads.items()):
        ordered = sorted(ids)
        audit_record(
            action="confidential.read", request=request, object_type=object_type,
            object_id=ordered[0] if len(ordered) == 1 else "", ids=ordered[:READS_LISTED], count=len(ordered),
            path=request.get_full_path()[:500], method=request.method,
        )


def get_visible_or_404(queryset, *, request=None, **lookup):
    """`get_object_or_404` over a `visible_to(user)` queryset that also records the refusal when
    the object exists but is not visible to the (authenticated) user: probing another company's ids
    leaves a trace, while a simple typo (no such object) does not."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist:
        audit_if_foreign(request=request if request is not None else current_request.get(), model=queryset.model, lookup=lookup)
        raise Http404(f"No {queryset.model._meta.object_name} matches the given query.") from None
    except (ValueError, TypeError):
        raise Http404("Invalid lookup.") from None


def audit_if_foreign(*, request, model, lookup: dict) -> bool:
    """Record access.refused (404) if an object matching `lookup` exists at all."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    try:
        exists = model._default_manager.filter(**lookup).exists()
    except (ValueError, TypeError):
        return False
    if not exists:
        return False
    object_id = lookup.get("pk", lookup.get("id", next(iter(lookup.values()), "")))
    audit_refused(request=request, status=404, object_type=model._meta.label_lower, object_id=object_id,
                  reason="not visible")
    return True
