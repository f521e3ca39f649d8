"""Page forms of facilitation: validation only; views hand `cleaned_data` to the services."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from facilitation.services import REALISED_MAX_YEARLY
from matching.choices import MatchAction, RejectionReason

BULK_ACTIONS = (MatchAction.REVIEW, MatchAction.APPROVE, MatchAction.REJECT)
REASON_CHOICES = (("", _("Choose a reason")), *RejectionReason.choices)


class TransitionForm(forms.Form):
    action = forms.ChoiceField(choices=MatchAction.choices)
    reason_code = forms.ChoiceField(label=_("Reason"), choices=REASON_CHOICES, required=False)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class BulkTransitionForm(TransitionForm):
    action = forms.ChoiceField(label=_("With the selected matches"),
                               choices=[(a.value, a.label) for a in BULK_ACTIONS])
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), widget=forms.MultipleHiddenInput)

    def __init__(self, *args, match_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(pk, pk) for pk in match_ids]


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Private note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_note_%s")  # unique ids next to the message form on one page
        super().__init__(*args, **kwargs)


class MessageForm(forms.Form):
    text = forms.CharField(label=_("Message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_message_%s")
        super().__init__(*args, **kwargs)


class RealisedForm(forms.Form):
    started_on = forms.DateField(label=_("Exchange started on"), widget=forms.DateInput(attrs={"type": "date"}))
    quantity_yearly = forms.FloatField(label=_("Real quantity per year"), min_value=0.001,
                                       max_value=REALISED_MAX_YEARLY)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_started_on(self):
        value = self.cleaned_data["started_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The start date cannot be in the future."))
        return value
