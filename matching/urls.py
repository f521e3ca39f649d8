"""Pages of matching: the match list and the matching runs. Mounted by symbiosis/urls.py under
/matches/ in the `matching` namespace, together with facilitation's pages (facilitation/urls.py),
among them the match page itself (`matching:match_detail`)."""

from django.urls import path

from matching import views

app_name = "matching"
urlpatterns = [
    path("", views.MatchListView.as_view(), name="match_list"),
    path("runs/", views.RunListView.as_view(), name="run_list"),
    path("runs/start/", views.RunStartView.as_view(), name="run_start"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run_detail"),
    path("runs/<int:pk>/progress/", views.RunProgressView.as_view(), name="run_progress"),
]
