"""Abuse limits: the log-in, sign-up and password-reset forms (django-ratelimit) and the API (DRF
throttles). Rates come from settings (env-configurable, see .env.example) and are read at request
time, so a test can tighten them with the `settings` fixture. Counters live in the default cache.

A refused form POST raises Ratelimited; RatelimitMiddleware answers with `ratelimited` below (429).
"""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.decorators import ratelimit
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle


def _ip_rate(group, request) -> str:
    return settings.RATELIMIT_AUTH_IP


def _account_rate(group, request) -> str:
    return settings.RATELIMIT_AUTH_ACCOUNT


def account_key(value: str) -> str:
    """The counter key of a username or e-mail: at least as coarse as what authentication treats as
    the same account. Django's log-in form applies NFKC (`AbstractBaseUser.normalize_username`), so
    the full-width "ｄｅｍｏ-ｓｍｅ" signs in as "demo-sme"; casefold and stripped whitespace fold the
    spellings our e-mail lookups (`iexact`) and people's typing treat as one."""
    return unicodedata.normalize("NFKC", str(value)).casefold().strip()


def _account_key(group, request) -> str:
    # The account a POST is about: the username tried, or the e-mail a reset is asked for.
    return account_key(request.POST.get("username") or request.POST.get("email") or "")


def limit_auth_form(view, *, group: str):
    """Limit POSTs to `view` per client address and per account (username or e-mail)."""
    view = ratelimit(group=f"{group}:account", key=_account_key, rate=_account_rate, method="POST")(view)
    return ratelimit(group=f"{group}:ip", key=settings.RATELIMIT_AUTH_IP_KEY, rate=_ip_rate, method="POST")(view)


def ratelimited(request, exception):
    """RATELIMIT_VIEW: the friendly 429 page."""
    response = render(request, "429.html", status=429)
    response["Retry-After"] = "60"
    return response


class _SettingsRates:
    """Rates from settings.API_THROTTLE_RATES at request time; RATELIMIT_ENABLE=False turns all off."""

    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if not settings.RATELIMIT_ENABLE:
            return True
        return super().allow_request(request, view)


class AnonThrottle(_SettingsRates, AnonRateThrottle):
    pass


class UserThrottle(_SettingsRates, UserRateThrottle):
    pass


class WriteScopedThrottle(_SettingsRates, ScopedRateThrottle):
    """A view's `throttle_scope` limits its writes (POST, PUT, PATCH, DELETE); reads stay free so
    that progress polling is not refused."""

    def allow_request(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)
