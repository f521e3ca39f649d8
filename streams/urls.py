from django.urls import path, re_path

from streams import import_views, views

app_name = "streams"
urlpatterns = [
    path("", views.StreamListView.as_view(), name="stream_list"),
    path("mine/", views.MyStreamsView.as_view(), name="my_streams"),
    path("new/", views.StreamCreateView.as_view(), name="stream_create"),
    path("options/units/", views.UnitOptionsView.as_view(), name="unit_options"),
    path("options/categories/", views.CategoryOptionsView.as_view(), name="category_options"),
    path("import/", import_views.ImportUploadView.as_view(), name="import_upload"),
    re_path(r"^import/template\.(?P<fmt>csv|xlsx)$", import_views.ImportTemplateView.as_view(), name="import_template"),
    path("import/<str:token>/", import_views.ImportPreviewView.as_view(), name="import_preview"),
    path("import/<str:token>/commit/", import_views.ImportCommitView.as_view(), name="import_commit"),
    path("<int:pk>/", views.StreamDetailView.as_view(), name="stream_detail"),
    path("<int:pk>/edit/", views.StreamEditView.as_view(), name="stream_edit"),
    path("<int:pk>/status/", views.StreamStatusView.as_view(), name="stream_status"),
]
