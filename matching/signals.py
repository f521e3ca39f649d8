"""What matching tells the apps above it, and asks of them, without importing them (imports run one
way: dashboards -> facilitation -> matching). Receivers connect in their app's `AppConfig.ready()`.

- `stream_closed(stream_id)`: a stream closed, inside the closing transaction. Facilitation withdraws
  the matches people are working on (`facilitation.transitions.matches_withdraw_for_stream`).
- `pair_penalties()`: asked when the engine's configuration is built. Each receiver returns a tuple
  of (offer category, need category, factor, reason text); facilitation answers with the rejection
  penalties (`facilitation.penalties.engine_pair_penalties`).
- `run_queued(run)`: a run was recorded and its transaction committed (or the reaper re-queued it):
  `matching.tasks` sends the task that starts it.
"""

from django.dispatch import Signal

stream_closed = Signal()
pair_penalties = Signal()
run_queued = Signal()
