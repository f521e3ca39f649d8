"""The audit trail page: staff only, read only."""

from django.contrib.auth.mixins import UserPassesTestMixin

from audit.filtersets import AuditEventFilterSet
from audit.models import AuditEvent
from core.listpages import FilteredListView


class AuditEventListView(UserPassesTestMixin, FilteredListView):
    template_name = "audit/auditevent_list.html"
    partial_template_name = "audit/_auditevent_table.html"
    primary_filters = ("q", "action", "actor")
    paginate_by = 50
    ids_first = False

    def test_func(self):
        return self.request.user.is_staff

    def select(self):
        return AuditEventFilterSet(self.request.GET, queryset=AuditEvent.objects.all())
