"""The workshop import page for facilitators: upload a sheet, see every problem, commit all or nothing.

upload (POST /streams/import/) -> the raw file is kept as a PendingImport bound to the user, under a
random token -> preview (GET /streams/import/<token>/: parsed and validated again, nothing written)
-> commit (POST /streams/import/<token>/commit/: parsed, validated and applied in one transaction by
streams.importing, the same code as `manage.py import_streams`). Another user's token is a 404.
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
from streams.importing import CREATE, UPDATE, parse_sheet, preview_file
from streams.permissions import can_import_sheets
from streams.selectors import pending_import_for
from streams.services import pending_import_commit, pending_import_create
from streams.uploads import SizeLimitedUploadHandler

TEMPLATES = {
    "csv": ("import_template.csv", "text/csv"),
    "xlsx": ("import_template.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
DOCS = Path(settings.BASE_DIR) / "docs"


class ImportAccessMixin(LoginRequiredMixin):
    """Facilitators and staff only; anyone else signed in gets a 403."""

    def dispatch(self, request, *args, **kwargs):
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
        raise Http404(_("No such upload (it may have expired or been imported already)."))
    return pending


def _preview_context(pending, plan) -> dict:
    return {
        "pending": pending,
        "plan": plan,
        "counts": plan.counts(),
        "new_companies": [p for p in plan.companies if p.action == CREATE],
        "changes": [p for p in plan.companies + plan.sites + plan.streams if p.action in (CREATE, UPDATE)],
    }


class ImportPreviewView(ImportAccessMixin, View):
    """What the kept sheet would create and update, and every problem in it. Writes nothing."""

    template_name = "streams/import_preview.html"

    def get(self, request, token):
        pending = _pending_or_404(request, token)
        plan = preview_file(io.BytesIO(bytes(pending.content)), pending.filename, actor=request.user)
        return render(request, self.template_name, _preview_context(pending, plan))


class ImportCommitView(ImportAccessMixin, View):
    """Apply the kept sheet all or nothing; on any problem nothing is written and the preview shows why."""

    def post(self, request, token):
        pending = _pending_or_404(request, token)
        result = pending_import_commit(pending=pending, actor=request.user)
        if not result.applied:
            plan = preview_file(io.BytesIO(bytes(pending.content)), pending.filename, actor=request.user)
            context = _preview_context(pending, plan)
            context["commit_errors"] = result.errors
            return render(request, ImportPreviewView.template_name, context, status=400)
        companies = list(Company.objects.filter(external_ref__in=_refs(pending)).select_related("nace").order_by("name"))
        return render(request, "streams/import_done.html", {"result": result, "companies": companies,
                                                             "filename": pending.filename})


def _refs(pending) -> set[str]:
    """The company_refs of a committed sheet (re-read; cheap next to the import itself)."""
    return {row.get("company_ref") for row in parse_sheet(io.BytesIO(bytes(pending.content)), pending.filename)}


class ImportTemplateView(View):
    """The sheet template (the files documented in docs/import-format.md). No account needed."""

    def get(self, request, fmt):
        name, content_type = TEMPLATES[fmt]
        return FileResponse((DOCS / name).open("rb"), as_attachment=True, filename=name, content_type=content_type)
