from django.urls import path

from matching import views

app_name = "matching"
urlpatterns = [
    path("", views.MatchListView.as_view(), name="match_list"),
    path("<int:pk>/", views.MatchDetailView.as_view(), name="match_detail"),
    path("runs/", views.RunListView.as_view(), name="run_list"),
    path("runs/start/", views.RunStartView.as_view(), name="run_start"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run_detail"),
    path("runs/<int:pk>/progress/", views.RunProgressView.as_view(), name="run_progress"),
]
