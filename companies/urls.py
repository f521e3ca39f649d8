from django.urls import path

from companies import views
from core.ratelimits import limit_auth_form

app_name = "companies"
urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    # Mounted at the root before django.contrib.auth.urls, so this joins the other /accounts/ pages.
    path("accounts/signup/", limit_auth_form(views.SignUpView.as_view(), group="signup"), name="signup"),
    path("companies/", views.CompanyListView.as_view(), name="company_list"),
    path("companies/onboard/", views.CompanyOnboardView.as_view(), name="company_onboard"),
    path("companies/nace-options/", views.NaceOptionsView.as_view(), name="nace_options"),
    path("companies/<int:pk>/", views.CompanyDetailView.as_view(), name="company_detail"),
    path("companies/<int:pk>/verify/", views.CompanyVerifyView.as_view(), name="company_verify"),
    path("companies/<int:pk>/unverify/", views.CompanyUnverifyView.as_view(), name="company_unverify"),
    path("companies/<int:pk>/edit/", views.CompanyEditView.as_view(), name="company_edit"),
    path("companies/<int:pk>/exclusions/", views.ExclusionListView.as_view(), name="exclusion_list"),
    path("companies/<int:pk>/exclusions/<int:exclusion_pk>/delete/", views.ExclusionDeleteView.as_view(),
         name="exclusion_delete"),
    path("companies/<int:pk>/sites/new/", views.SiteCreateView.as_view(), name="site_create"),
]
