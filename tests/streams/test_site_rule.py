"""A stream's site is one of its company's sites: one rule (streams.models.site_errors), refused with
the same field error by the model, the services and the API."""

import pytest
from django.core.exceptions import ValidationError

from streams.models import Stream
from streams.services import stream_create, stream_update
from tests.factories import StreamFactory, leaf_category
from tests.streams.test_api import URL, _payload

MESSAGE = "The site belongs to another company."


def test_the_model_refuses_a_site_of_another_company(company_a, company_b):
    stream = StreamFactory.build(company=company_a, site=company_b.sites.first(), category=leaf_category("material"))
    with pytest.raises(ValidationError) as exc:
        stream.full_clean()
    assert exc.value.message_dict["site"] == [MESSAGE]


def test_the_services_refuse_a_site_of_another_company(member, company_a, company_b):
    foreign = company_b.sites.first()
    with pytest.raises(ValidationError) as exc:
        stream_create(company=company_a, site=foreign, actor=member, direction="offer", kind="material",
                      title="Whey", category=leaf_category("material"), quantity=20, unit="t")
    assert exc.value.message_dict == {"site": [MESSAGE]}
    stream = StreamFactory(site=company_a.sites.first())
    with pytest.raises(ValidationError) as exc:
        stream_update(stream=stream, actor=member, site=foreign)
    assert exc.value.message_dict == {"site": [MESSAGE]}
    assert Stream.objects.get(pk=stream.pk).site_id == company_a.sites.first().pk


def test_the_api_refuses_a_site_of_another_company_on_create_and_update(api, staff, company_a, company_b):
    foreign = company_b.sites.first().pk
    client = api(staff)
    response = client.post(URL, _payload(company=company_a.pk, site=foreign), format="json")
    assert (response.status_code, response.json()) == (400, {"site": [MESSAGE]})
    stream = StreamFactory(site=company_a.sites.first())
    response = client.patch(f"{URL}{stream.pk}/", {"site": foreign}, format="json")
    assert (response.status_code, response.json()) == (400, {"site": [MESSAGE]})
