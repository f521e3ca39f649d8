"""The workshop import through the API: the same steps, services and rules as the page
(streams/import_views.py). Facilitators and staff only (403 for others); another user's upload is a 404.

POST /api/v1/imports/                 multipart `sheet`: 201 with the preview (rows, counts, every
                                      error); 400 when the file as a whole is refused
GET  /api/v1/imports/{token}/         the preview again, or the progress, or the outcome
POST /api/v1/imports/{token}/commit/  202: the all-or-nothing import starts as a Celery task
"""

from __future__ import annotations

import io

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from streams.importing import (
    pending_import_create,
    pending_import_progress,
    pending_import_start,
    preview_file,
)
from streams.models import PendingImport
from streams.permissions import can_import_sheets
from streams.selectors import pending_import_for
from streams.uploads import SizeLimitedUploadHandler


def _errors(items) -> list[dict]:
    return [{"row": e.row, "column": e.column, "message": e.message} for e in items]


def _represent(pending: PendingImport, user) -> dict:
    data = {"token": pending.token, "filename": pending.filename, "status": pending.status}
    if pending.status == PendingImport.Status.PENDING:
        plan = preview_file(io.BytesIO(bytes(pending.content)), pending.filename, actor=user)
        data.update(rows=plan.rows, counts=plan.counts(), errors=_errors(plan.errors),
                    warnings=_errors(plan.warnings), can_commit=plan.ok)
    elif pending.status == PendingImport.Status.RUNNING:
        data["progress"] = pending_import_progress(pending)
    else:
        data["result"] = pending.result
    return data


class ImportAccess(permissions.BasePermission):
    message = "Only facilitators import workshop sheets."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        token = view.kwargs.get("token")
        if token is not None and pending_import_for(user=request.user, token=token) is None:
            raise Http404  # not the user's upload: not visible, whatever their role
        if not can_import_sheets(request.user):
            raise PermissionDenied(self.message)
        return True


class ImportCreateAPIView(APIView):
    permission_classes = [ImportAccess]
    parser_classes = [MultiPartParser]

    def dispatch(self, request, *args, **kwargs):
        # Before DRF parses the body: an oversized file is dropped while it streams in.
        self.handler = SizeLimitedUploadHandler(request, limit=settings.IMPORT_MAX_BYTES)
        if request.method == "POST":
            request.upload_handlers = [self.handler]
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": {"type": "object", "properties": {
        "sheet": {"type": "string", "format": "binary"}}}}, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        upload = request.data.get("sheet")
        if "sheet" in self.handler.too_large:
            mb = max(settings.IMPORT_MAX_BYTES // (1024 * 1024), 1)
            raise ValidationError({"sheet": [f"The file is larger than {mb} MB."]})
        if upload is None or not hasattr(upload, "read"):
            raise ValidationError({"sheet": ["Upload a .xlsx or .csv file as `sheet`."]})
        content = upload.read()
        plan = preview_file(io.BytesIO(content), upload.name, actor=request.user)
        if plan.errors and plan.errors[0].row is None and not plan.rows:
            raise ValidationError({"sheet": [plan.errors[0].message]})
        pending = pending_import_create(user=request.user, filename=upload.name, content=content)
        return Response(_represent(pending, request.user), status=status.HTTP_201_CREATED)


class ImportDetailAPIView(APIView):
    permission_classes = [ImportAccess]

    def get_pending(self, request, token) -> PendingImport:
        pending = pending_import_for(user=request.user, token=token)
        if pending is None:
            raise Http404
        return pending

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, token):
        return Response(_represent(self.get_pending(request, token), request.user))


class ImportCommitAPIView(ImportDetailAPIView):
    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    def post(self, request, token):
        pending = self.get_pending(request, token)
        pending_import_start(pending=pending)
        pending.refresh_from_db()
        return Response(_represent(pending, request.user), status=status.HTTP_202_ACCEPTED)
