"""Form helpers shared by the apps' pages: filter forms that render without queries, service errors on
their fields."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def freeze_choices(form: forms.BaseForm) -> forms.BaseForm:
    """Evaluate every model-backed choice list once, now, so that rendering the form in a template
    runs no queries (templates only show what the view prepared)."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            # The widget renders from its own choices; the field keeps validating against the queryset.
            # iter(): list() would first ask ModelChoiceIterator for its length, i.e. a COUNT query.
            field.widget.choices = list(iter(field.choices))
    return form


def label_empty_choices(form: forms.BaseForm, label) -> forms.BaseForm:
    """Give the "no choice" option of every select a readable label (e.g. "Any" in filter forms)."""
    for field in form.fields.values():
        choices = getattr(field.widget, "choices", None)
        if not choices:
            continue
        choices = list(choices)
        if isinstance(field.widget, forms.NullBooleanSelect):
            field.widget.choices = [("unknown", label), *choices[1:]]
        elif choices[0][0] in ("", None):
            field.widget.choices = [("", label), *choices[1:]]
    return form


def apply_service_errors(form: forms.BaseForm, error: ValidationError, aliases: dict | None = None) -> None:
    """Show a service's ValidationError on the form: known keys on their fields (after `aliases`,
    e.g. the model's `nace` is the form's `nace_code`), everything else above the form."""
    aliases = aliases or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.message_dict.items():
        name = aliases.get(key, key)
        form.add_error(name if name in form.fields else None, errors)
