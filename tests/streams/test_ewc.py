"""EWC codes as people type them: one normaliser for the form, the API, the sheet and the filters."""

import pytest

from streams.ewc import is_ewc_code, normalise_ewc, split_ewc_codes


@pytest.mark.parametrize("typed", ["100102", "10 01 02", "10 01 02*", " 10 01 02 ", "100102*"])
def test_typed_forms_of_one_code_normalise_alike(typed):
    assert normalise_ewc(typed) == "100102"


@pytest.mark.parametrize(("typed", "ok"), [
    ("10 01 02", True), ("20 05 01*", True), ("20501", False), ("1001020", False), ("10 01 0x", False), ("", False),
])
def test_a_code_is_six_digits_once_normalised(typed, ok):
    assert is_ewc_code(typed) is ok


def test_a_typed_list_splits_on_semicolons_and_commas():
    assert split_ewc_codes("10 01 02; 10 01 05,100103;;") == ["10 01 02", "10 01 05", "100103"]
    assert split_ewc_codes("") == []
    assert split_ewc_codes(None) == []
