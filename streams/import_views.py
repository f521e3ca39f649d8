"""The workshop import page for facilitators: upload a sheet, see every problem, commit all or nothing.

upload (POST /streams/import/) -> the raw file is kept as a PendingImport bound to the user, under a
random token -> preview (GET /streams/import/<token>/: parsed and validated again, nothing written)
-> commit (POST /streams/import/<token>/commit/: a Celery task parses, validates and applies it in one
transaction with streams.importing, the same code as `manage.py import_streams`; the same page then
shows its progress, polled by htmx, and its outcome). Another user's token is a 404.
"""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from companies.models import Company
from streams.forms import ImportUploadForm
from streams.importing import (
    CREATE,
    UPDATE,
    pending_import_create,
    pending_import_progress,
    pending_import_start,
    preview_file,
)
from streams.models import PendingImport
from streams.permissions import can_import_sheets
from streams.selectors import pending_import_for
from streams.uploads import SizeLimitedUploadHandler

TEMPLATES = {
    "csv": ("import_template.csv", "text/csv"),
    "xlsx": ("import_template.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
DOCS = Path(settings.BASE_DIR) / "docs"


class ImportAccessMixin(LoginRequiredMixin):
    """Facilitators and staff only; anyone else signed in gets a 403. An upload that is not the
    user's own is a 404 first, for everyone (it is not visible to them at all)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and "token" in kwargs:
            _pending_or_404(request, kwargs["token"])
        if request.user.is_authenticated and not can_import_sheets(request.user):
            raise PermissionDenied(_("Only facilitators import workshop sheets."))
        return super().dispatch(request, *args, **kwargs)


def _too_large_message() -> str:
    return _("The file is larger than %(mb)s MB.") % {"mb": max(settings.IMPORT_MAX_BYTES // (1024 * 1024), 1)}


@method_decorator(csrf_exempt, name="dispatch")
class ImportUploadView(ImportAccessMixin, View):
    """The upload form. The size limit is enforced while the file streams in (upload handler), so
    the CSRF check runs inside, after the handlers are set (Django's documented pattern)."""

    template_name = "streams/import_upload.html"

    def dispatch(self, request, *args, **kwargs):
        self.handler = SizeLimitedUploadHandler(request, limit=settings.IMPORT_MAX_BYTES)
        if request.method == "POST":
            request.upload_handlers = [self.handler]
        return csrf_protect(super().dispatch)(request, *args, **kwargs)

    def get(self, request):
        return self._render(ImportUploadForm())

    def _render(self, form, status=200):
        max_mb = max(settings.IMPORT_MAX_BYTES // (1024 * 1024), 1)
        return render(self.request, self.template_name, {"form": form, "max_mb": max_mb}, status=status)

    def post(self, request):
        form = ImportUploadForm(request.POST, request.FILES)
        if "sheet" in self.handler.too_large:
            form.errors.clear()
            form.add_error("sheet", _too_large_message())
        elif form.is_valid():
            upload = form.cleaned_data["sheet"]
            content = upload.read()
            plan = preview_file(io.BytesIO(content), upload.name, actor=request.user)
            if plan.errors and plan.errors[0].row is None and not plan.rows:
                form.add_error("sheet", plan.errors[0].message)  # the file as a whole was refused
            else:
                pending = pending_import_create(user=request.user, filename=upload.name, content=content)
                return redirect(pending)
        return self._render(form, status=400)


def _pending_or_404(request, token):
    pending = pending_import_for(user=request.user, token=token)
    if pending is None:
        raise Http404(_("No such upload (it may have expired)."))
    return pending


class ImportPreviewView(ImportAccessMixin, View):
    """One upload's page. Waiting for commit: what the sheet would create and update, and every problem
    in it (parsed and validated again, nothing written). Importing: the progress, which htmx polls
    (`?progress=1` returns only that part). Done or refused: the outcome."""

    template_name = "streams/import_preview.html"
    progress_template_name = "streams/_import_progress.html"

    def get(self, request, token):
        pending = _pending_or_404(request, token)
        if pending.status == PendingImport.Status.PENDING:
            plan = preview_file(io.BytesIO(bytes(pending.content)), pending.filename, actor=request.user)
            return render(request, self.template_name, {
                "pending": pending, "plan": plan, "counts": plan.counts(),
                "changes": [p for p in plan.companies + plan.sites + plan.streams if p.action in (CREATE, UPDATE)],
            })
        context = {"pending": pending, "progress": pending_import_progress(pending), "companies": []}
        if pending.status == PendingImport.Status.DONE:
            context["companies"] = list(Company.objects.filter(pk__in=pending.result.get("company_ids", []))
                                        .select_related("nace").order_by("name"))
        template = self.progress_template_name if request.GET.get("progress") else "streams/import_status.html"
        return render(request, template, context)


class ImportCommitView(ImportAccessMixin, View):
    """Start the all-or-nothing import of the upload (a Celery task) and show its progress page."""

    def post(self, request, token):
        pending = _pending_or_404(request, token)
        pending_import_start(pending=pending)  # a second click does not import twice
        return redirect(pending)


class ImportTemplateView(View):
    """The sheet template (the files documented in docs/import-format.md). No account needed."""

    def get(self, request, fmt):
        name, content_type = TEMPLATES[fmt]
        return FileResponse((DOCS / name).open("rb"), as_attachment=True, filename=name, content_type=content_type)
