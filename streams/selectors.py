"""Reads for streams: start from `visible_to(user)`, then the FilterSet."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from companies.roles import roles_for
from streams.choices import StreamStatus, Visibility
from streams.filtersets import StreamFilterSet
from streams.models import PendingImport, Stream

STREAM_RELATED = ("company", "company__nace", "site", "site__region", "category")
COMPANY_PAGE_STREAMS = 50


def stream_queryset(*, user) -> QuerySet[Stream]:
    return Stream.objects.visible_to(user).select_related(*STREAM_RELATED).prefetch_related("ewc_codes")


def stream_reloaded(*, user, stream: Stream) -> Stream:
    """`stream` read again as `stream_queryset(user=user)` gives it (DoesNotExist when hidden). A
    member's own company's streams, and every stream for staff, are visible by definition: those skip
    planning the visibility filter (the answer to a create or an update)."""
    roles = roles_for(user)
    if roles.authenticated and (roles.is_staff or stream.company_id in roles.company_ids):
        return Stream.objects.select_related(*STREAM_RELATED).prefetch_related("ewc_codes").get(pk=stream.pk)
    return stream_queryset(user=user).get(pk=stream.pk)


def stream_list(*, user, filters=None) -> StreamFilterSet:
    """The filterset over the streams `user` may see; `.qs` is the list, `.form` the filter form."""
    return StreamFilterSet(filters or {}, queryset=stream_queryset(user=user), user=user)


def my_stream_list(*, user, filters=None) -> StreamFilterSet:
    """Streams of the user's own companies, every status."""
    qs = stream_queryset(user=user).filter(company_id__in=roles_for(user).company_ids)
    return StreamFilterSet(filters or {}, queryset=qs, user=user)


def public_listing_company_ids() -> QuerySet:
    """Ids of the companies with an active public listing: what makes a company visible to every
    signed-in user (registered with companies.models.register_public_presence, see docs/STYLE.md)."""
    listing = Stream.objects.filter(status=StreamStatus.ACTIVE, visibility=Visibility.PUBLIC)
    return listing.order_by().values("company_id")


def company_page_streams(*, user, company, may_act: bool) -> list[Stream]:
    """The streams a company's page lists: all of them for those acting for it, else its public
    listings (where naming the company reveals nothing)."""
    filters = {"company": company.pk} if may_act else {"company": company.pk, "visibility": Visibility.PUBLIC}
    return list(stream_list(user=user, filters=filters).qs[:COMPANY_PAGE_STREAMS])


def pending_import_for(*, user, token: str) -> PendingImport | None:
    """The user's own, unexpired upload with this token; anyone else's token finds nothing."""
    cutoff = timezone.now() - timedelta(hours=settings.IMPORT_PENDING_HOURS)
    return PendingImport.objects.filter(user=user, token=token, created_at__gte=cutoff).first()
