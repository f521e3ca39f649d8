"""One list-page idiom: every paginated page is a `core.listpages.FilteredListView`, and they all page alike."""

import ast
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.generic.list import MultipleObjectMixin

from core.listpages import FilteredListView
from tests.factories import StreamFactory

ROOT = Path(__file__).resolve().parents[1]
APPS = ("companies", "streams", "matching", "facilitation", "dashboards", "audit", "demo")


def view_classes(patterns=None):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from view_classes(entry.url_patterns)
        elif isinstance(entry, URLPattern) and hasattr(entry.callback, "view_class"):
            yield entry.callback.view_class


def test_every_list_page_is_a_filtered_list_view():
    lists = {cls for cls in view_classes() if issubclass(cls, MultipleObjectMixin)}
    assert len(lists) >= 8
    assert [cls.__qualname__ for cls in lists if not issubclass(cls, FilteredListView)] == []


def test_no_page_pages_a_list_by_hand():
    """A view that builds its own Paginator is a second idiom (API viewsets page through DRF)."""
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("views.py")):
            if "api" in path.relative_to(ROOT).parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found += [f"{path.relative_to(ROOT)}:{node.lineno}" for node in ast.walk(tree)
                      if isinstance(node, ast.Name) and node.id in ("Paginator", "ListView")]
    assert found == []


@pytest.mark.django_db
@pytest.mark.parametrize(("page", "number"), [("2", 2), ("99", 2), ("x", 1), ("", 1)])
def test_a_page_number_beyond_the_last_shows_the_last_page_and_garbage_the_first(
        web, staff, monkeypatch, page, number):
    monkeypatch.setattr(FilteredListView, "paginate_by", 1)
    StreamFactory.create_batch(2)
    response = web(staff).get("/streams/", {"page": page})
    assert response.status_code == 200
    assert response.context["page_obj"].number == number
