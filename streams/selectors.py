"""Reads for streams: start from `visible_to(user)`, then the FilterSet."""

from __future__ import annotations

from django.db.models import QuerySet

from companies.roles import roles_for
from streams.filtersets import StreamFilterSet
from streams.models import Stream

STREAM_RELATED = ("company", "company__nace", "site", "site__region", "category")


def stream_queryset(*, user) -> QuerySet[Stream]:
    return Stream.objects.visible_to(user).select_related(*STREAM_RELATED).prefetch_related("ewc_codes")


def stream_list(*, user, filters=None) -> StreamFilterSet:
    """The filterset over the streams `user` may see; `.qs` is the list, `.form` the filter form."""
    return StreamFilterSet(filters or {}, queryset=stream_queryset(user=user))


def my_stream_list(*, user, filters=None) -> StreamFilterSet:
    """Streams of the user's own companies, every status."""
    qs = stream_queryset(user=user).filter(company_id__in=roles_for(user).company_ids)
    return StreamFilterSet(filters or {}, queryset=qs)
