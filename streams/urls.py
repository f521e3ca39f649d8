from django.urls import path

from streams import views

app_name = "streams"
urlpatterns = [
    path("", views.StreamListView.as_view(), name="stream_list"),
    path("mine/", views.MyStreamsView.as_view(), name="my_streams"),
    path("new/", views.StreamCreateView.as_view(), name="stream_create"),
    path("options/units/", views.UnitOptionsView.as_view(), name="unit_options"),
    path("options/categories/", views.CategoryOptionsView.as_view(), name="category_options"),
    path("<int:pk>/", views.StreamDetailView.as_view(), name="stream_detail"),
    path("<int:pk>/edit/", views.StreamEditView.as_view(), name="stream_edit"),
    path("<int:pk>/status/", views.StreamStatusView.as_view(), name="stream_status"),
]
