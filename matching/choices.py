from django.db import models
from django.utils.translation import gettext_lazy as _


class MatchStatus(models.TextChoices):
    SUGGESTED = "suggested", _("Suggested")
    UNDER_REVIEW = "under_review", _("Under review")
    APPROVED = "approved", _("Approved")
    INTRODUCED = "introduced", _("Introduced")
    NEGOTIATING = "negotiating", _("Negotiating")
    IMPLEMENTED = "implemented", _("Implemented")
    REJECTED = "rejected", _("Rejected")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RunKind(models.TextChoices):
    FULL = "full", _("Full run")
    STREAM = "stream", _("One stream")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class MatchAction(models.TextChoices):
    """The moves of a match (see `facilitation/transitions.py` for who may make which)."""

    REVIEW = "review", _("Start review")
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    INTRODUCE = "introduce", _("Introduce")
    ACCEPT = "accept", _("Interested")
    DECLINE = "decline", _("Not interested")
    NEGOTIATE = "negotiate", _("Start negotiating")
    IMPLEMENT = "implement", _("Record as implemented")
    WITHDRAW = "withdraw", _("Withdraw")


class OptIn(models.TextChoices):
    """A party's answer to a suggestion or an introduction."""

    NONE = "", _("No answer yet")
    YES = "yes", _("Interested")
    NO = "no", _("Not interested")


class RejectionReason(models.TextChoices):
    """Why a facilitator rejected a match. The category-related ones feed the rejection penalty."""

    NOT_COMPATIBLE = "not_compatible", _("Materials do not fit")
    QUALITY = "quality", _("Quality or contaminants")
    REGULATORY = "regulatory", _("Regulatory obstacle")
    DISTANCE = "distance", _("Too far apart")
    VOLUME = "volume", _("Quantities do not fit")
    COMMERCIAL = "commercial", _("Not viable commercially")
    DUPLICATE = "duplicate", _("Already partners or duplicate")
    OTHER = "other", _("Other")
