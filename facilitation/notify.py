"""Notifications about matches: an in-app `Notification` row per recipient, and an e-mail sent after
the transaction commits (Django's e-mail backend: console in development, locmem in tests).

Texts name the match by number and the recipient's own listing only, never the counterpart: a
notification must not reveal what the match page would hide.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils.translation import gettext as _

from companies.models import Membership, RegionRole
from facilitation.models import MatchEvent, Notification
from matching.choices import MatchAction as A
from matching.choices import MatchStatus as S
from matching.models import Match


def party_users(match: Match, *, roles=("offer", "need")) -> list:
    """Members of the match's companies on the given sides, except a company the other side excludes:
    it no longer sees the match, and must not hear about it either."""
    from companies.models import CompetitorExclusion

    sides = {"offer": (match.source_company_id, match.target_company_id),
             "need": (match.target_company_id, match.source_company_id)}
    company_ids = [company for role, (company, other) in sides.items()
                   if role in roles and not CompetitorExclusion.objects.hides(other, company)]
    return [m.user for m in Membership.objects.filter(company_id__in=company_ids).select_related("user")]


def facilitator_users(match: Match) -> list:
    from matching.selectors import match_queryset_unscoped

    full = match_queryset_unscoped().get(pk=match.pk)
    from matching.permissions import match_region_ids

    rows = RegionRole.objects.filter(region_id__in=match_region_ids(full), role="facilitator").select_related("user")
    return list({r.user.pk: r.user for r in rows}.values())


def notify(*, users, match: Match | None, text: str, exclude=None) -> int:
    """Record one in-app notification per user (without `exclude`) and e-mail them on commit."""
    seen, rows = set(), []
    for user in users:
        if user is None or user.pk in seen or (exclude is not None and user.pk == exclude.pk):
            continue
        seen.add(user.pk)
        rows.append(Notification(user=user, match=match, text=text[:300]))
    Notification.objects.bulk_create(rows)
    url = f"{settings.SITE_URL}{match.get_absolute_url()}" if match is not None else settings.SITE_URL
    mails = [
        (_("Symbiosis: %(text)s") % {"text": text[:80]}, f"{text}\n\n{url}\n", None, [n.user.email])
        for n in rows if n.user.email
    ]
    if mails:
        transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=True))
    return len(rows)


def notify_event(*, match: Match, event: MatchEvent) -> None:
    """Who hears about a move, and what they read."""
    n = match.pk
    actor = event.actor
    if event.action == A.INTRODUCE:
        notify(users=party_users(match), match=match, exclude=actor, text=_(
            "Match #%(n)s: a facilitator suggests an introduction. Say whether you are interested.") % {"n": n})
    elif event.action == A.ACCEPT and match.revealed_at == event.at:
        notify(users=[*party_users(match), *facilitator_users(match)], match=match, exclude=actor, text=_(
            "Match #%(n)s: both companies are interested; you can now see each other and write.") % {"n": n})
    elif event.action == A.ACCEPT:
        other = "need" if event.actor_role == "offer" else "offer"
        notify(users=party_users(match, roles=(other,)), match=match, exclude=actor, text=_(
            "Match #%(n)s: the other company is interested. Are you?") % {"n": n})
    elif event.action == A.DECLINE:
        notify(users=facilitator_users(match), match=match, exclude=actor, text=_(
            "Match #%(n)s was declined by a company.") % {"n": n})
    elif event.to_status in (S.NEGOTIATING, S.IMPLEMENTED, S.WITHDRAWN):
        notify(users=party_users(match), match=match, exclude=actor, text=_(
            "Match #%(n)s is now %(status)s.") % {"n": n, "status": S(event.to_status).label.lower()})
