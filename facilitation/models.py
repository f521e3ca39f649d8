"""Facilitation records of a match: its moves (events), private notes, the message thread, the
realised exchange and the notifications sent about it.

The tables keep the names they had when these models lived in `matching` (`Meta.db_table`): the
move to this app changed no data (facilitation/migrations/0001_initial.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from matching.choices import MatchAction, MatchStatus, RejectionReason


class RealisedExchange(models.Model):
    """An implemented exchange as recorded by a facilitator: when it started and the real yearly
    quantities, which feed the realised impact on dashboards and company reports."""

    match = models.OneToOneField("matching.Match", on_delete=models.CASCADE, related_name="realised")
    started_on = models.DateField(_("started on"))
    quantity_yearly = models.FloatField(_("real quantity per year"))
    unit = models.CharField(max_length=8)
    co2e_t = models.FloatField(_("t CO2e avoided per year"), default=0)
    diverted_t = models.FloatField(_("t diverted from landfill or incineration per year"), default=0)
    eur_provider = models.FloatField(_("EUR per year, provider"), default=0)
    eur_receiver = models.FloatField(_("EUR per year, receiver"), default=0)
    water_m3 = models.FloatField(_("m3 water per year"), default=0)
    energy_mwh = models.FloatField(_("MWh per year"), default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "matching_realisedexchange"
        ordering = ("-started_on", "pk")
        constraints = [
            models.CheckConstraint(condition=Q(quantity_yearly__gt=0), name="realised_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.match} since {self.started_on}"


class MatchEvent(models.Model):
    """One move of a match, for its timeline: who did what when (UTC), from which status to which,
    and why. Opt-in answers that do not change the status are events too (from == to)."""

    match = models.ForeignKey("matching.Match", on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_role = models.CharField(max_length=12, help_text=_("facilitator, staff, offer, need or system"))
    action = models.CharField(max_length=10, choices=MatchAction.choices)
    from_status = models.CharField(max_length=14, choices=MatchStatus.choices)
    to_status = models.CharField(max_length=14, choices=MatchStatus.choices)
    reason_code = models.CharField(max_length=16, choices=RejectionReason.choices, blank=True)
    comment = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "matching_matchevent"
        ordering = ("at", "pk")
        constraints = [
            models.CheckConstraint(
                condition=~Q(action=MatchAction.REJECT) | ~Q(reason_code=""), name="matchevent_reject_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.match_id}: {self.from_status} -> {self.to_status} ({self.action})"


class MatchNote(models.Model):
    """A facilitator's private note on a match. Companies never see notes."""

    match = models.ForeignKey("matching.Match", on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    text = models.TextField(_("note"), max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "matching_matchnote"
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"note on {self.match_id} by {self.author_id}"


class MatchMessage(models.Model):
    """A message in the thread of an introduced match, read and written by both companies (once
    revealed) and the facilitators of the match's regions."""

    match = models.ForeignKey("matching.Match", on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    author_role = models.CharField(max_length=12)
    text = models.TextField(_("message"), max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "matching_matchmessage"
        ordering = ("created_at", "pk")
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="matchmessage_not_empty")]

    def __str__(self) -> str:
        return f"message on {self.match_id} by {self.author_id}"


class Notification(models.Model):
    """An in-app notice to one user about a match (also sent by e-mail). The text never names a
    counterpart that the user may not see yet."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    match = models.ForeignKey("matching.Match", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "matching_notification"
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=("user", "-created_at"), name="notification_user_idx")]

    def __str__(self) -> str:
        return f"to {self.user_id}: {self.text[:40]}"

    def get_absolute_url(self) -> str:
        return self.match.get_absolute_url() if self.match_id else reverse("matching:notification_list")
