"""The stream input contract is stated once (streams.models.STREAM_FIELDS with the model's rules): the
page form, the API's write serializer and the sheet's stream columns all derive from it."""

import pytest

from companies.models import Site
from streams.api.serializers import StreamWriteSerializer
from streams.forms import PAGE_OMITS, StreamForm
from streams.importing.format import _STREAM_FIELD_COLUMN, STREAM_COLUMNS
from streams.models import STREAM_FIELDS, Stream

pytestmark = pytest.mark.django_db

# Inputs that are not plain model fields: where, what (category, EWC codes) and the offer's hazard flag.
NOT_MODEL_FIELDS = {"company", "site", "category", "ewc_codes", "months", "hazardous"}


def test_every_contract_field_is_a_model_field():
    names = {f.name for f in Stream._meta.get_fields()}
    assert set(STREAM_FIELDS) <= names


def test_the_form_offers_the_contract_except_the_import_key():
    form = StreamForm(sites=Site.objects.none())
    assert set(form.fields) == {*STREAM_FIELDS, "category", "site", "ewc_codes"} - set(PAGE_OMITS)


def test_the_write_serializer_takes_the_contract():
    fields = StreamWriteSerializer().fields
    assert set(fields) == {*STREAM_FIELDS, *NOT_MODEL_FIELDS}
    assert not any(f.read_only for f in fields.values())


def test_the_write_serializer_enforces_the_models_rules():
    data = {"direction": "offer", "kind": "material", "title": "x" * 201, "unit": "t",
            "temperature_c": 3000, "max_transport_km": 0, "water_quality": 9, "period": "fortnight"}
    serializer = StreamWriteSerializer(data=data)
    assert not serializer.is_valid()
    assert set(serializer.errors) == {"title", "temperature_c", "max_transport_km", "water_quality", "period"}


def test_every_stream_column_of_the_sheet_is_a_contract_field_under_its_sheet_name():
    known = {_STREAM_FIELD_COLUMN.get(f, f) for f in (*STREAM_FIELDS, "category", "ewc_codes", "hazardous")}
    assert set(STREAM_COLUMNS) <= known
