from django.apps import AppConfig


class FacilitationConfig(AppConfig):
    """Facilitation: the review queue, moves, notes, messages, pipeline, realised exchanges and
    notifications. It answers matching's signals (matching/signals.py)."""

    name = "facilitation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from facilitation import receivers
        from matching.signals import pair_penalties, stream_closed

        stream_closed.connect(receivers.withdraw_matches_of_closed_stream, dispatch_uid="facilitation.stream_closed")
        pair_penalties.connect(receivers.rejection_pair_penalties, dispatch_uid="facilitation.pair_penalties")
