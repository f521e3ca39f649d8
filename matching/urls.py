from django.urls import path

from matching import views
from matching.facilitation import views as facilitation

app_name = "matching"
urlpatterns = [
    path("", views.MatchListView.as_view(), name="match_list"),
    path("<int:pk>/", views.MatchDetailView.as_view(), name="match_detail"),
    path("<int:pk>/move/", facilitation.MatchTransitionView.as_view(), name="match_transition"),
    path("<int:pk>/notes/", facilitation.MatchNoteCreateView.as_view(), name="match_note_create"),
    path("<int:pk>/messages/", facilitation.MatchThreadView.as_view(), name="match_thread"),
    path("<int:pk>/realised/", facilitation.RealisedRecordView.as_view(), name="realised_record"),
    path("queue/", facilitation.ReviewQueueView.as_view(), name="review_queue"),
    path("queue/bulk/", facilitation.QueueBulkView.as_view(), name="queue_bulk"),
    path("pipeline/", facilitation.PipelineView.as_view(), name="pipeline"),
    path("notifications/", facilitation.NotificationListView.as_view(), name="notification_list"),
    path("penalties/", facilitation.PenaltyListView.as_view(), name="penalty_list"),
    path("runs/", views.RunListView.as_view(), name="run_list"),
    path("runs/start/", views.RunStartView.as_view(), name="run_start"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run_detail"),
    path("runs/<int:pk>/progress/", views.RunProgressView.as_view(), name="run_progress"),
]
