"""Page forms for accounts, companies and sites. Validation only: views hand `cleaned_data` to services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from companies.models import Company, Region, Site

# --- Accounts -------------------------------------------------------------------------------------


class SignUpForm(UserCreationForm):
    """A new account: a user name, an e-mail address for password resets, and a password."""

    required_css_class = "required"
    error_css_class = "has-error"

    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("Used only to reset your password and for notices about your matches."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise ValidationError(_("An account with this e-mail address exists already; log in or reset the password."))
        return email


# --- Companies and sites --------------------------------------------------------------------------


NACE_HELP = _(
    "Your main activity, e.g. 10.51 for dairies. Rev. 2.1 or Rev. 2 codes, with or without dots; "
    "start typing a code or a word to see suggestions. It tells partners what your sector typically "
    "has and needs."
)


class CompanyForm(forms.ModelForm):
    """A company's own data. The NACE code is free text; the service resolves either revision."""

    required_css_class = "required"
    error_css_class = "has-error"

    nace_code = forms.CharField(
        label=_("NACE code"),
        max_length=12,
        help_text=NACE_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "off", "list": "nace-suggestions", "inputmode": "text"}),
    )

    class Meta:
        model = Company
        fields = ("name", "nace_code", "country", "employees", "description", "website")
        labels = {"name": _("Company name"), "employees": _("Number of employees")}
        help_texts = {
            "employees": _("Optional. Firms under 250 people count as SMEs."),
            "website": _("Optional."),
            "description": _("Optional. What you make; helps facilitators suggest partners."),
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "name": forms.TextInput(attrs={"autocomplete": "organization"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Suggestions from the NACE lists fill the <datalist id="nace-suggestions"> next to the field.
        self.fields["nace_code"].widget.attrs.update({
            "hx-get": reverse("companies:nace_options"),
            "hx-trigger": "input changed delay:250ms",
            "hx-target": "#nace-suggestions",
            "hx-swap": "innerHTML",
            "hx-sync": "this:replace",
        })
        if self.instance.pk and not self.is_bound:
            self.initial.setdefault("nace_code", self.instance.nace_as_entered or self.instance.nace.code)


class CompanyOnboardForm(CompanyForm):
    """The company half of onboarding: only what a first listing needs."""

    class Meta(CompanyForm.Meta):
        fields = ("name", "nace_code", "country", "employees")


class SiteForm(forms.ModelForm):
    """A site: where streams arise. The region is optional; the nearest one is taken."""

    required_css_class = "required"
    error_css_class = "has-error"

    region = forms.ModelChoiceField(
        queryset=Region.objects.order_by("country", "name"),
        required=False,
        label=_("Region"),
        empty_label=_("Nearest to the coordinates"),
        help_text=_("Optional. Facilitators of this region will support you."),
    )

    class Meta:
        model = Site
        fields = ("name", "address", "latitude", "longitude", "region")
        labels = {"name": _("Site name")}
        help_texts = {
            "name": _("e.g. “Main plant” or the town."),
            "address": _("Optional. Never shown to other companies."),
            "latitude": _("Decimal degrees, e.g. 55.705. Used for distances; other companies see only "
                          "an approximate distance."),
            "longitude": _("Decimal degrees, e.g. 13.191."),
        }
        widgets = {
            "latitude": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            "longitude": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            "address": forms.TextInput(attrs={"autocomplete": "street-address"}),
        }


class ExclusionForm(forms.Form):
    """Add a competitor exclusion: a company (picked from the search, or its exact name) or a NACE code."""

    company = forms.IntegerField(required=False, widget=forms.HiddenInput)
    company_name = forms.CharField(
        label=_("Company name"), required=False, max_length=200,
        help_text=_("A company’s name, e.g. “Nordic Pulp AB” (any case): it applies to a company of that "
                    "name now or once it joins."),
    )
    nace_code = forms.CharField(
        label=_("NACE code"), required=False, max_length=12,
        help_text=_("A division (10), group (10.5) or class (10.51): every company in it is excluded."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        given = [k for k in ("company", "company_name", "nace_code") if data.get(k) not in (None, "")]
        if len(given) != 1:
            raise ValidationError(_("Give either a company or a NACE code."))
        if data.get("company") is not None:
            # Picked from the search: only companies the admin can see (an id must not reveal a name).
            data["excluded_company"] = Company.objects.visible_to(self.user).filter(pk=data["company"]).first()
            if data["excluded_company"] is None:
                raise ValidationError(_("That company cannot be found."))
        elif data.get("company_name"):
            # Stored as given, not looked up: whether a company of that name exists is not revealed.
            data["excluded_name"] = data["company_name"]
        return data

