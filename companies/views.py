"""Pages for the landing page, sign-up, company onboarding, company detail and edit, and sites.

Adapters only: parse input, call a selector or service, render. Visibility comes from
`visible_to(user)` (invisible is a 404) and `can_edit_company` (visible but not editable is a 403).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from audit.services import get_visible_or_404
from companies.filtersets import NaceCodeFilterSet
from companies.forms import (
    CompanyForm,
    CompanyOnboardForm,
    ExclusionForm,
    SignUpForm,
    SiteForm,
)
from companies.models import Company, CompetitorExclusion, NaceCode
from companies.permissions import (
    can_act_for_company,
    can_edit_company,
    can_manage_exclusions,
    can_verify_company,
)
from companies.presentation import note_site_reads
from companies.roles import roles_for
from companies.selectors import (
    company_filterset,
    company_list,
    exclusion_list,
    site_list,
    verifiable_company_ids,
)
from companies.services import (
    company_onboard,
    company_unverify,
    company_update,
    company_verify,
    exclusion_add,
    exclusion_remove,
    site_create,
)
from core.forms import apply_service_errors, freeze_choices
from core.listpages import FilteredListView
from core.pages import PageExtensions

# Service errors about these keys belong to the site half of the onboarding page.
SITE_ERROR_KEYS = {"latitude", "longitude", "address", "region", "site"}
NACE_SUGGESTIONS = 15
EXCLUSION_SEARCH_RESULTS = 10

# What higher apps show on a company's page (streams: its listings), as `panels` included at the end;
# providers get `company` and `may_act`.
company_detail_page = PageExtensions("companies:company_detail")


class HomeView(TemplateView):
    """What the platform does, and the next step for whoever is looking."""

    template_name = "companies/home.html"


class SignUpView(FormView):
    template_name = "registration/signup.html"
    form_class = SignUpForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("companies:home")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.save()
        login(self.request, user)
        messages.success(self.request, _("Welcome! Register your company and its first site to start listing."))
        return redirect("companies:company_onboard")


def _visible_company(user, pk) -> Company:
    return get_visible_or_404(company_list(user=user), pk=pk)


def _editable_company(user, pk) -> Company:
    company = _visible_company(user, pk)
    if not can_edit_company(user, company):
        raise PermissionDenied(_("You can see this company but not change it."))
    return company


def _verifiable_company(user, pk) -> Company:
    company = _visible_company(user, pk)
    if not can_verify_company(user, company):
        raise PermissionDenied(_("Only facilitators of the company's regions and staff verify companies."))
    return company


def _exclusions_company(user, pk) -> Company:
    company = _visible_company(user, pk)
    if not can_manage_exclusions(user, company):
        raise PermissionDenied(_("Only the company's admins manage its competitor exclusions."))
    return company


class ExclusionListView(LoginRequiredMixin, View):
    """Competitor exclusions of one company: list, search companies to exclude, add, remove.
    Company admins (and staff) only: who a company hides from is itself confidential."""

    template_name = "companies/exclusion_list.html"

    def get(self, request, pk):
        company = _exclusions_company(request.user, pk)
        return self._render(company, ExclusionForm(user=request.user))

    def post(self, request, pk):
        company = _exclusions_company(request.user, pk)
        form = ExclusionForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                exclusion_add(company=company, actor=request.user,
                              excluded_company=form.cleaned_data.get("excluded_company"),
                              excluded_name=form.cleaned_data.get("excluded_name"),
                              nace_code=form.cleaned_data.get("nace_code") or None)
            except ValidationError as exc:
                apply_service_errors(form, exc, aliases={"excluded_company": "company_name",
                                                         "excluded_name": "company_name"})
            else:
                messages.success(request, _("Exclusion added."))
                return redirect("companies:exclusion_list", company.pk)
        return self._render(company, form, status=400)

    def _render(self, company, form, status=200):
        query = (self.request.GET.get("q") or "").strip()
        found = []
        if query:
            found = list(company_list(user=self.request.user, filters={"q": query})
                         .exclude(pk=company.pk)[:EXCLUSION_SEARCH_RESULTS])
        return render(self.request, self.template_name, {
            "company": company, "form": form, "exclusions": list(exclusion_list(company=company, user=self.request.user)),
            "query": query, "found": found,
        }, status=status)


class ExclusionDeleteView(LoginRequiredMixin, View):
    def post(self, request, pk, exclusion_pk):
        company = _exclusions_company(request.user, pk)
        exclusion = get_visible_or_404(CompetitorExclusion.objects.filter(company=company), pk=exclusion_pk)
        exclusion_remove(exclusion=exclusion, actor=request.user)
        messages.success(request, _("Exclusion removed."))
        return redirect("companies:exclusion_list", company.pk)


class CompanyOnboardView(LoginRequiredMixin, View):
    """One page: the company and its first site, created together by `company_onboard`."""

    template_name = "companies/company_onboard.html"

    def get(self, request):
        return self._render(CompanyOnboardForm(prefix="company"), SiteForm(prefix="site"))

    def post(self, request):
        company_form = CompanyOnboardForm(request.POST, prefix="company")
        site_form = SiteForm(request.POST, prefix="site")
        if company_form.is_valid() and site_form.is_valid():
            try:
                company, _site = company_onboard(
                    actor=request.user, company=company_form.cleaned_data, site=site_form.cleaned_data
                )
            except ValidationError as exc:
                self._split_errors(exc, company_form, site_form)
            else:
                if company.pk in roles_for(request.user).company_ids:
                    messages.success(request, _("%(name)s is registered. Now list your first offer or need.")
                                     % {"name": company.name})
                    return redirect("streams:stream_create")
                messages.success(request, _("%(name)s is registered on its behalf.") % {"name": company.name})
                return redirect(company)
        return self._render(company_form, site_form)

    @staticmethod
    def _split_errors(exc: ValidationError, company_form, site_form) -> None:
        if not hasattr(exc, "error_dict"):
            company_form.add_error(None, exc)
            return
        for key, errors in exc.message_dict.items():
            form = site_form if key in SITE_ERROR_KEYS else company_form
            apply_service_errors(form, ValidationError({key: errors}), aliases={"nace": "nace_code"})

    def _render(self, company_form, site_form):
        return render(self.request, self.template_name, {
            "company_form": company_form,
            "site_form": freeze_choices(site_form),
        })


class CompanyDetailView(LoginRequiredMixin, View):
    """A company as the viewer may see it: sites only where `Site.visible_to` allows; its streams come
    from streams/ (`company_detail_page`)."""

    template_name = "companies/company_detail.html"

    def get(self, request, pk):
        company = _visible_company(request.user, pk)
        may_act = can_act_for_company(request.user, company)
        sites = list(site_list(user=request.user, filters={"company": company.pk}))
        note_site_reads(request.user, sites)  # the page shows their address and coordinates
        return render(request, self.template_name, {
            "company": company,
            "sites": sites,
            "may_act": may_act,
            "may_edit": can_edit_company(request.user, company),
            "may_manage_exclusions": can_manage_exclusions(request.user, company),
            "may_verify": can_verify_company(request.user, company),
            "is_member": company.pk in roles_for(request.user).company_ids,
            "min_age_days": settings.DASHBOARD_MIN_COMPANY_AGE_DAYS,
            **company_detail_page.context(request, company=company, may_act=may_act),
        })


class CompanyListView(FilteredListView):
    """The companies the viewer may see, with the same FilterSet as `/api/v1/companies/`. Facilitators
    and staff also see which of the companies they may verify are not verified yet."""

    template_name = "companies/company_list.html"
    partial_template_name = "companies/_company_table.html"
    primary_filters = ("q", "unverified")
    selector = company_filterset

    def get_rows(self, objects):
        verifiable = verifiable_company_ids(user=self.request.user, company_ids=[c.pk for c in objects])
        return [(c, c.pk in verifiable) for c in objects]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        roles = roles_for(self.request.user)
        if not (roles.is_staff or roles.is_facilitator):
            context["filter_form"].fields.pop("unverified", None)
        return context


class CompanyVerifyView(LoginRequiredMixin, View):
    """POST: a facilitator of one of the company's regions, or staff, vouches that it is a real company."""

    def post(self, request, pk):
        company = _verifiable_company(request.user, pk)
        company_verify(company=company, actor=request.user)
        messages.success(request, _("%(name)s is verified.") % {"name": company.name})
        return redirect(company)


class CompanyUnverifyView(LoginRequiredMixin, View):
    """POST: undo a verification (the same people who may verify)."""

    def post(self, request, pk):
        company = _verifiable_company(request.user, pk)
        company_unverify(company=company, actor=request.user)
        messages.success(request, _("%(name)s is no longer verified.") % {"name": company.name})
        return redirect(company)


class CompanyEditView(LoginRequiredMixin, View):
    template_name = "companies/company_form.html"

    def get(self, request, pk):
        company = _editable_company(request.user, pk)
        return render(request, self.template_name, {"form": CompanyForm(instance=company), "company": company})

    def post(self, request, pk):
        company = _editable_company(request.user, pk)
        form = CompanyForm(request.POST, instance=company)
        if form.is_valid():
            try:
                company_update(company=company, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc, aliases={"nace": "nace_code"})
            else:
                messages.success(request, _("Company details saved."))
                return redirect(company)
        return render(request, self.template_name, {"form": form, "company": company})


class SiteCreateView(LoginRequiredMixin, View):
    template_name = "companies/site_form.html"

    def get(self, request, pk):
        company = _editable_company(request.user, pk)
        return self._render(SiteForm(), company)

    def post(self, request, pk):
        company = _editable_company(request.user, pk)
        form = SiteForm(request.POST)
        if form.is_valid():
            try:
                site_create(company=company, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Site added."))
                return redirect(company)
        return self._render(form, company)

    def _render(self, form, company):
        return render(self.request, self.template_name, {"form": freeze_choices(form), "company": company})


class NaceOptionsView(View):
    """`<option>`s for the NACE code suggestion list (htmx). Reference data: no account needed."""

    def get(self, request):
        query = request.GET.get("q") or next(
            (v for k, v in request.GET.items() if k.endswith("nace_code")), ""
        )
        codes = []
        if query.strip():
            codes = list(NaceCodeFilterSet({"q": query.strip(), "revision": "2.1"},
                                           queryset=NaceCode.objects.all()).qs[:NACE_SUGGESTIONS])
        return render(request, "companies/_nace_options.html", {"codes": codes})
