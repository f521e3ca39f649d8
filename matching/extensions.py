"""What matching adds to the streams app below it, connected in MatchingConfig.ready(): it matches
streams as they change (streams/signals.py) and shows its links and the redundancy panel on a
stream's page. (`/api/v1/streams/{id}/matches/` is matching.api.views.StreamViewSet.)"""

from __future__ import annotations

from matching import hooks
from matching.selectors import Redundancy, stream_redundancy
from streams import signals
from streams.views import stream_detail_page


def stream_matching_panels(request, *, stream, may_edit: bool, **page) -> dict:
    """For those who may edit the stream: its suggested partners, a run for it (facilitators and
    staff), how many viable partners it has and the single-partner nudge."""
    if not may_edit:
        return {}
    return {
        "action_panels": ["matching/_stream_actions.html"],
        "panels": ["matching/_stream_redundancy.html"],
        "redundancy": stream_redundancy([stream.pk]).get(stream.pk, Redundancy(alternatives=0, committed=0)),
    }


def connect() -> None:
    signals.stream_changed.connect(hooks.on_stream_changed, dispatch_uid="matching.stream_changed")
    signals.streams_changed.connect(hooks.on_streams_changed, dispatch_uid="matching.streams_changed")
    stream_detail_page.register(stream_matching_panels)
