"""What streams adds to the companies app below it, connected in StreamsConfig.ready(): public
listings make a company visible (`Company.visible_to`), and a company's page lists its streams."""

from __future__ import annotations

from companies.models import register_public_presence
from companies.views import company_detail_page
from streams.selectors import company_page_streams, public_listing_company_ids


def company_streams_panel(request, *, company, may_act: bool, **page) -> dict:
    return {
        "panels": ["streams/_company_streams.html"],
        "streams": company_page_streams(user=request.user, company=company, may_act=may_act),
    }


def connect() -> None:
    register_public_presence(public_listing_company_ids)
    company_detail_page.register(company_streams_panel)
