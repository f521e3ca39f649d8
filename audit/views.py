"""The audit trail page: staff only, read only."""

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.views.generic import ListView

from audit.filtersets import AuditEventFilterSet
from audit.models import AuditEvent


class AuditEventListView(LoginRequiredMixin, UserPassesTestMixin, ListView):
    template_name = "audit/auditevent_list.html"
    paginate_by = 50

    def test_func(self):
        return self.request.user.is_staff

    def get_queryset(self):
        self.filterset = AuditEventFilterSet(self.request.GET, queryset=AuditEvent.objects.all())
        return self.filterset.qs

    def get_template_names(self):
        if getattr(self.request, "htmx", False):
            return ["audit/_auditevent_table.html"]
        return [self.template_name]

    def get_context_data(self, **kw):
        return super().get_context_data(filterset=self.filterset, filter_form=self.filterset.form, **kw)
