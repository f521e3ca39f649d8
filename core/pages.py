"""Pages of a lower app that a higher app adds to, without the lower app importing it.

A lower app declares `PageExtensions()` for a page and merges `extensions.context(request, ...)` into
that page's context; a higher app registers a provider in its AppConfig.ready(). A provider returns a
dict of extra context: list values (e.g. `panels`, template names the page includes in order) are
concatenated over the providers, other values are set. Imports no app.
"""

from __future__ import annotations

from collections.abc import Callable


class PageExtensions:
    """The providers that add context (and included templates) to one page."""

    def __init__(self, page: str):
        self.page = page
        self._providers: list[Callable[..., dict]] = []

    def register(self, provider: Callable[..., dict]) -> Callable[..., dict]:
        if provider not in self._providers:
            self._providers.append(provider)
        return provider

    def context(self, request, **page) -> dict:
        extra: dict = {}
        for provider in self._providers:
            for key, value in provider(request, **page).items():
                extra[key] = [*extra.get(key, []), *value] if isinstance(value, list) else value
        return extra
