"""Paging long filtered lists cheaply: ids first, with the count in the same query."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db.models import Count, QuerySet, Window


class IdsFirst:
    """An ordered queryset wrapped for a paginator (Django's or DRF's).

    A page's slice first selects the ids of its rows (a narrow query on the filtered, ordered table),
    then `load(ids)` fetches just those rows with all their joins and prefetches (by default the
    queryset itself, restricted to those ids); in one query
    PostgreSQL may join every filtered row to all its related rows before it sorts and cuts the
    page. The count comes with the first `AHEAD` ids (`COUNT(*) OVER ()`): the filtered rows are found
    once, not once for the count and again for the page, and the first pages need no query of their
    own for their ids. A DISTINCT queryset is counted and sliced the plain way (a window function
    would count the duplicates that DISTINCT removes).

    `id_field` names the column that holds the ids to page through, when `qs` is an index of them
    rather than the rows themselves (e.g. `matching.models.MatchRegion`'s `match_id`)."""

    AHEAD = 500

    def __init__(self, qs: QuerySet, load: Callable[[list], Iterable] | None = None, *, id_field: str = "pk"):
        self.qs = qs
        self.id_field = id_field
        self.ordered = qs.ordered
        self.load = load or (lambda ids: qs.filter(pk__in=ids).order_by())
        self._count: int | None = None
        self._head: list = []

    def count(self) -> int:
        if self._count is None:
            if self.qs.query.distinct:
                self._count = self.qs.count()
            else:
                rows = list(
                    self.qs.annotate(total_rows=Window(Count(self.id_field)))
                    .values_list(self.id_field, "total_rows")[: self.AHEAD]
                )
                self._head = [pk for pk, _ in rows]
                self._count = rows[0][1] if rows else 0
        return self._count

    def __len__(self) -> int:
        return self.count()

    def _ids(self, key: slice) -> list:
        if self._count is not None and key.step is None and (key.start or 0) >= 0:
            stop = self._count if key.stop is None else key.stop
            if stop <= len(self._head) or len(self._head) == self._count:
                return self._head[key]
        return list(self.qs.values_list(self.id_field, flat=True)[key])

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self.qs[key]
        ids = self._ids(key)
        # Visible by construction: the ids come from the scoped, filtered queryset.
        rows = {obj.pk: obj for obj in self.load(ids)}
        return [rows[pk] for pk in ids if pk in rows]
