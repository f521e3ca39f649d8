"""Pages of facilitation. They live under /matches/ in the `matching` namespace (symbiosis/urls.py
mounts them with matching's own pages): `matching:review_queue` is /matches/queue/, and the match
page `matching:match_detail` is composed here (matching's view plus the facilitation part)."""

from django.urls import path

from facilitation import views

app_name = "matching"
urlpatterns = [
    path("<int:pk>/", views.MatchDetailView.as_view(), name="match_detail"),
    path("<int:pk>/move/", views.MatchTransitionView.as_view(), name="match_transition"),
    path("<int:pk>/notes/", views.MatchNoteCreateView.as_view(), name="match_note_create"),
    path("<int:pk>/messages/", views.MatchThreadView.as_view(), name="match_thread"),
    path("<int:pk>/realised/", views.RealisedRecordView.as_view(), name="realised_record"),
    path("queue/", views.ReviewQueueView.as_view(), name="review_queue"),
    path("queue/bulk/", views.QueueBulkView.as_view(), name="queue_bulk"),
    path("pipeline/", views.PipelineView.as_view(), name="pipeline"),
    path("notifications/", views.NotificationListView.as_view(), name="notification_list"),
    path("penalties/", views.PenaltyListView.as_view(), name="penalty_list"),
]
